/**
 * A named, host-owned index, and its reload rules: `persist` (old) → `open`
 * (new) with the bytes moving from the old instance's memory into the new
 * one's in one copy; the old handle is kept until the new version commits.
 * A worker-hosted index also keeps a shared snapshot of its bytes, taken off
 * the serving thread: a new version opens from it without asking the serving
 * worker, and a worker ended at a deadline is restored from it.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { type ArrowInput, fromIPC, ipcOf } from "../arrow.ts";
import { sameBytes } from "../bytes.ts";
import type { IndexLog } from "../durable/logs.ts";
import { ErrorCode, PluginError } from "../errors.ts";
import type { PluginVersion } from "../plugin.ts";
import type { Mutation } from "../store/types.ts";
import {
  type CallOptions,
  dropQuietly,
  type IndexHandleLike,
  inThread,
  moveState,
  type PluginInstance,
} from "./clients.ts";
import { incompatible, namingAsync } from "./compat.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import type { HandoffContext, HandoffOutcome } from "./handoff.ts";

/**
 * What an index carries through a reload: the handle opened in the new version (with, for a worker-hosted one, its
 * shared snapshot, and on a durable host the store write of its snapshot, started right away), or a drop.
 */
type IndexPending =
  | { open: IndexHandleLike; retiring?: IndexHandleLike; shared?: Uint8Array; snapshot?: Promise<Mutation> }
  | { drop: true };

export class LiveIndex extends LiveResource<IndexPending> {
  readonly surface = "index" as const;
  /** @internal An in-thread index's bytes live in the plugin's memory: a trapped version takes them along. */
  readonly survivesTrap = false;
  /** @internal the serving version's handle; swapped by reload's commit. */
  handle: IndexHandleLike;
  /** @internal its record in the host's store (durable hosts only). */
  log: IndexLog | undefined;
  /** @internal worker-hosted: the persisted bytes, shared, for reloads and restores (an index never changes). */
  shared: Uint8Array | undefined;

  /** @internal created by PluginHost.createIndex / openIndex */
  constructor(
    entry: PluginEntry,
    name: string,
    kind: string,
    handle: IndexHandleLike,
    onDrop: (r: LiveResource) => void,
  ) {
    super(entry, name, kind, onDrop);
    this.handle = handle;
  }

  /** The index kind, e.g. `vector.flat`. */
  get kind(): string {
    return this.key;
  }

  /** k nearest rows per query row, as an Arrow table in the kind's probe schema. */
  async probe(query: ArrowInput, k: number, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.probeIPC(ipcOf(query), k, call));
  }

  /** {@link probe} on Arrow IPC bytes in and out. */
  probeIPC(query: Uint8Array, k: number, call?: CallOptions): Promise<Uint8Array> {
    return this.call(() => this.handle.probe(query, k, call));
  }

  /** {@link probe} restricted to rows whose bit is set in `mask` (LSB-first bitmap in build order). */
  async probeFiltered(query: ArrowInput, k: number, mask: Uint8Array, call?: CallOptions): Promise<Table> {
    const bytes = ipcOf(query);
    return fromIPC(await this.call(() => this.handle.probeFiltered(bytes, k, mask, call)));
  }

  supportsFilter(call?: CallOptions): Promise<boolean> {
    return this.call(() => this.handle.supportsFilter(call));
  }

  /** The persisted bytes (e.g. to keep in Deno KV and `openIndex` after a restart). */
  persist(call?: CallOptions): Promise<Uint8Array> {
    return this.call(() => this.handle.persist(call));
  }

  /** The probe output schema, as an empty Arrow table. */
  async schema(call?: CallOptions): Promise<Table> {
    return fromIPC(await this.call(() => this.handle.schema(call)));
  }

  protected release(): void {
    dropQuietly(this.handle);
  }

  /** @internal drop, and (durable host) its record with it. */
  protected override forget(): Promise<void> | undefined {
    return this.log?.gone();
  }

  // ---------------------------------------------------------------- reload (see resources/handoff.ts)

  /** @internal
   * check-compat: opens this index in the new version from the live bytes (invisible until commit) and
   * compares the probe schemas. This is not a dry run: the opened handle is what commit installs. Indexes
   * never change after build, so the handle prepared here is still exact at handoff. A worker-hosted index
   * opens from its shared snapshot: the serving worker is not asked, and callers keep being served.
   */
  async check(ctx: HandoffContext): Promise<IndexPending | undefined> {
    if (ctx.oldPoisoned || !ctx.kept("index", this.kind)) return undefined;
    return await this.#prepared(ctx, await this.#openIn(ctx));
  }

  /**
   * The opened handle, with what the new version's state needs kept: a worker-hosted one's shared snapshot
   * (taken in the new worker, before it serves), and on a durable host its store write, under way already.
   */
  async #prepared(ctx: HandoffContext, open: IndexHandleLike): Promise<IndexPending> {
    try {
      const shared = await sharedOf(ctx.next.instance, open);
      if (!this.log) return { open, ...(shared ? { shared } : {}) };
      const snapshot = this.log.reloadWrite(shared ?? (await open.persist()), ctx.next.manifest.version);
      snapshot.catch(() => {}); // awaited by durable(); a reload that rolls back first leaves only an unlinked blob
      return { open, snapshot, ...(shared ? { shared } : {}) };
    } catch (err) {
      dropQuietly(open);
      throw err;
    }
  }

  /** @internal handoff: an index created after check-compat is opened now; a dropped kind or a trapped version drops it. */
  async handoff(ctx: HandoffContext, prepared: IndexPending | undefined): Promise<IndexPending | undefined> {
    if (ctx.oldPoisoned || !ctx.kept("index", this.kind)) {
      this.abort(prepared);
      return { drop: true };
    }
    if (this.dropped) {
      this.abort(prepared); // dropped by its user after check-compat: nothing to hand over
      return undefined;
    }
    return prepared ?? (await this.#prepared(ctx, await this.#openIn(ctx)));
  }

  /**
   * @internal Restores this index into a fresh instance of the same version (its worker was ended at a deadline):
   * opened from the shared snapshot.
   */
  async recover(next: PluginVersion): Promise<IndexPending> {
    const index = next.instance.index;
    if (!index || !this.shared) {
      throw new PluginError(
        ErrorCode.Reload,
        `index "${this.name}": nothing to restore it from (no snapshot was kept)`,
      );
    }
    const open = await index.open(this.kind, this.shared);
    return { open, shared: this.shared };
  }

  /** @internal The store write of the new version's snapshot, or of the removal (durable hosts). */
  async durable(_ctx: HandoffContext, pending: IndexPending | undefined): Promise<readonly Mutation[]> {
    if (!this.log || !pending) return [];
    if ("drop" in pending) return [await this.log.removal()];
    return pending.snapshot ? [await pending.snapshot] : [];
  }

  /** @internal */
  commit(pending: IndexPending | undefined): HandoffOutcome {
    if (!pending) return "none";
    if ("drop" in pending) {
      this.dropNow(); // its record went in the reload's commit
      return "dropped";
    }
    if (this.dropped) {
      this.abort(pending); // dropped between handoff and commit
      return "none";
    }
    pending.retiring = this.handle;
    this.handle = pending.open;
    this.shared = pending.shared;
    this.log?.committed(this.entry.current.manifest.id, this.entry.current.manifest.version);
    return "moved";
  }

  /** @internal */
  abort(pending: IndexPending | undefined): void {
    if (pending && "open" in pending) dropQuietly(pending.open);
  }

  /** @internal */
  retire(pending: IndexPending | undefined): void {
    if (pending && "retiring" in pending) dropQuietly(pending.retiring);
  }

  /** The live bytes opened in the new version (moved in one copy, or from the shared snapshot); same probe schema. */
  async #openIn(ctx: HandoffContext): Promise<IndexHandleLike> {
    const index = ctx.next.instance.index;
    if (!index) incompatible("index", this.kind, "the new version does not export uni:plugin/index");
    const open = (bytes: Uint8Array): IndexHandleLike | Promise<IndexHandleLike> => index.open(this.kind, bytes);
    const fresh = await namingAsync<IndexHandleLike>("index", this.kind, () => {
      if (this.shared) {
        ctx.moved(this.shared.byteLength);
        return open(this.shared);
      }
      return moveState(this.handle, inThread(ctx.next.instance), open, ctx.moved);
    });
    try {
      const [before, after] = [await this.handle.schema(), await fresh.schema()];
      // Different bytes may still be the same schema (metadata order, padding): compare what Arrow reads.
      if (!sameBytes(before, after)) {
        const [want, got] = [schemaOf(before), schemaOf(after)];
        if (want !== got) incompatible("index", this.kind, `probe schema changed from ${want} to ${got}`);
      }
      return fresh;
    } catch (err) {
      dropQuietly(fresh);
      throw err;
    }
  }
}

/** A worker-hosted handle's persisted bytes, shared (taken in its worker); none for an in-thread one. */
export async function sharedOf(instance: PluginInstance, handle: IndexHandleLike): Promise<Uint8Array | undefined> {
  if (inThread(instance)) return undefined;
  return await (handle as unknown as { persistShared(): Promise<Uint8Array> }).persistShared();
}

function schemaOf(ipc: Uint8Array): string {
  return fromIPC(ipc)
    .schema.fields.map((f) => `${f.name}: ${f.type}`)
    .join(", ");
}
