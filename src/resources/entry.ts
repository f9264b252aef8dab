/**
 * What the host keeps per installed plugin id: the version currently serving,
 * the gate its live resources pass through, and those resources.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";
import type { Gate } from "../gate.ts";
import type { PluginHandle, PluginVersion } from "../plugin.ts";

export type ResourceSurface = "index" | "cdc" | "crdt";

export interface PluginEntry {
  current: PluginVersion;
  readonly gate: Gate;
  readonly resources: Set<LiveResource>;
  /** Set while a reload of this id runs: a second reload is refused. */
  reloading: boolean;
}

/** Runs `fn` through the entry's gate: queued while a reload holds it closed, counted while in flight. */
export async function through<T>(entry: PluginEntry, fn: () => T): Promise<T> {
  const wait = entry.gate.enter();
  if (wait) await wait;
  try {
    return fn();
  } finally {
    entry.gate.exit();
  }
}

/**
 * A named, host-owned resource living in whichever version of its plugin is
 * serving; reload hands it to the next version.
 */
export abstract class LiveResource {
  abstract readonly surface: ResourceSurface;
  readonly name: string;
  /** Registry key: index kind, CDC output or CRDT kind. */
  readonly key: string;
  /** @internal */
  readonly entry: PluginEntry;
  #dropped = false;
  readonly #onDrop: (r: LiveResource) => void;

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

  /** @internal runs `fn` through the plugin's gate, refusing once dropped. */
  protected call<T>(fn: () => T): Promise<T> {
    return through(this.entry, () => {
      if (this.#dropped) {
        throw new PluginError(ErrorCode.Disposed, `${this.surface} "${this.name}" was dropped`, {
          pluginId: this.entry.current.handle.id,
        });
      }
      return fn();
    });
  }

  /** @internal releases the plugin-side resource (no gate). */
  protected abstract release(): void;

  /** Drops the resource from the plugin and the host (waits for a running reload). */
  async drop(): Promise<void> {
    await this.call(() => this.dropNow());
  }

  /** @internal drop without the gate: used by unload and by drop itself. */
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
}
