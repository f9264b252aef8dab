/**
 * What the host keeps per installed plugin id — the version currently serving,
 * the gate its live resources pass through, and those resources — and the base
 * class of every live resource.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";
import type { Gate } from "../gate.ts";
import type { PluginHandle, PluginVersion } from "../plugin.ts";
import type { Mutation } from "../store/types.ts";
import type { HandoffContext, HandoffOutcome } from "./handoff.ts";

export type ResourceSurface = "index" | "cdc" | "crdt";

export interface PluginEntry {
  current: PluginVersion;
  readonly gate: Gate;
  readonly resources: Set<LiveResource>;
  /** Set while a reload of this id runs: a second reload is refused. */
  reloading: boolean;
  /** Set while a worker-hosted version is restored after its worker died: calls wait for it. */
  recovering?: Promise<void> | undefined;
}

/**
 * Runs `fn` through the entry's gate: queued while a reload holds it closed, counted while in flight.
 * Always settles asynchronously (a throw becomes a rejection). With the gate open and a synchronous `fn`
 * (an in-thread instance) there is no extra promise or microtask besides the one returned.
 */
export function through<T>(entry: PluginEntry, fn: () => T | Promise<T>): Promise<T> {
  if (entry.recovering) return entry.recovering.then(() => through(entry, fn));
  const gate = entry.gate;
  const wait = gate.enter();
  if (wait) return wait.then(() => settle(gate, fn));
  return settle(gate, fn);
}

/** Runs `fn` (the gate already entered), exiting the gate once `fn`'s result settles. */
function settle<T>(gate: Gate, fn: () => T | Promise<T>): Promise<T> {
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (err) {
    gate.exit();
    return Promise.reject(err);
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => {
        gate.exit();
        return value;
      },
      (err) => {
        gate.exit();
        throw err;
      },
    );
  }
  gate.exit();
  return Promise.resolve(result);
}

/**
 * A named, host-owned resource living in whichever version of its plugin is
 * serving. Each subclass owns its reload rules (the {@link Handoff} contract):
 * how its state is checked against, moved into, committed to and retired from
 * a new version.
 */
export abstract class LiveResource<P = unknown> {
  abstract readonly surface: ResourceSurface;
  /** @internal its records in the host's store (durable hosts only). */
  abstract log: { removal(): Promise<Mutation>; sweep(): Promise<void> } | undefined;
  /** @internal {@link handoff.ts Handoff.survivesTrap} */
  abstract readonly survivesTrap: boolean;
  readonly name: string;
  /** Registry key: index kind, CDC output or CRDT kind. */
  readonly key: string;
  /** @internal */
  readonly entry: PluginEntry;
  #dropped = false;
  readonly #onDrop: (r: LiveResource) => void;

  /** @internal */
  constructor(entry: PluginEntry, name: string, key: string, onDrop: (r: LiveResource) => void) {
    this.entry = entry;
    this.name = name;
    this.key = key;
    this.#onDrop = onDrop;
    entry.resources.add(this);
  }

  get dropped(): boolean {
    return this.#dropped;
  }

  /** The plugin version serving this resource now. */
  get servedBy(): PluginHandle {
    return this.entry.current.handle;
  }

  /** @internal How messages name it, e.g. `index "docs"`. */
  get label(): string {
    return `${this.surface} "${this.name}"`;
  }

  /** @internal runs `fn` through the plugin's gate, refusing once dropped. */
  protected call<T>(fn: () => T | Promise<T>): Promise<T> {
    return through(this.entry, () => {
      if (this.#dropped) {
        throw new PluginError(ErrorCode.Disposed, `${this.label} was dropped`, {
          pluginId: this.entry.current.handle.id,
        });
      }
      return fn();
    });
  }

  /** @internal releases the plugin-side resource (no gate). */
  protected abstract release(): void;

  /** Drops the resource from the plugin and the host (waits for a running reload); a durable host forgets it too. */
  async drop(): Promise<void> {
    await this.call(() => {
      this.dropNow();
      return this.forget();
    });
  }

  /** @internal after a drop: removes the resource from the host's store (durable hosts), resolving once durable. */
  protected forget(): Promise<void> | undefined {
    return undefined;
  }

  /** @internal drop without the gate: used by unload, by a forced reload, and by drop itself. */
  dropNow(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.entry.resources.delete(this);
    this.#onDrop(this);
    try {
      this.release();
    } catch {
      // The plugin may be poisoned or disposed already: the host side is gone either way.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drop();
  }

  /** @internal {@link handoff.ts Handoff.check} */
  abstract check(ctx: HandoffContext): P | undefined | Promise<P | undefined>;
  /** @internal {@link handoff.ts Handoff.handoff} */
  abstract handoff(ctx: HandoffContext, prepared: P | undefined): P | undefined | Promise<P | undefined>;
  /** @internal {@link handoff.ts Handoff.commit} */
  abstract commit(pending: P | undefined): HandoffOutcome;
  /** @internal {@link handoff.ts Handoff.abort} */
  abstract abort(pending: P | undefined): void;
  /**
   * @internal Rebuilds this resource in `next`, a fresh instance of the same version (its worker was ended at a
   * deadline): the pending state {@link commit} then installs.
   */
  abstract recover(next: PluginVersion): Promise<P | undefined>;
  /** @internal {@link handoff.ts Handoff.retire} */
  abstract retire(pending: P | undefined): void | Promise<void>;
}
