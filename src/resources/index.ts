/**
 * A named, host-owned index, and its reload rules: `persist` (old) → `open`
 * (new) with the bytes moving from the old instance's memory into the new
 * one's in one copy; the old handle is kept until the new version commits.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { type ArrowInput, fromIPC, ipcOf } from "../arrow.ts";
import { sameBytes } from "../bytes.ts";
import type { IndexLog } from "../durable/logs.ts";
import type { Mutation } from "../store/types.ts";
import type { IndexHandle } from "../surfaces/index.ts";
import { incompatible, naming } from "./compat.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import { type HandoffContext, type HandoffOutcome, quietly, undoing } from "./handoff.ts";

/**
 * What an index carries through a reload: the handle opened in the new version (and, on a durable host, the
 * store write of its snapshot by the new version, started right away), or the decision to drop it.
 */
type IndexPending = { open: IndexHandle; retiring?: IndexHandle; snapshot?: Promise<Mutation> } | { drop: true };

export class LiveIndex extends LiveResource<IndexPending> {
  readonly surface = "index" as const;
  /** @internal An index's bytes live in the plugin's memory: a trapped version takes them along. */
  readonly survivesTrap = false;
  /** @internal the serving version's handle; swapped by reload's commit. */
  handle: IndexHandle;
  /** @internal its record in the host's store (durable hosts only). */
  log: IndexLog | undefined;

  /** @internal created by PluginHost.createIndex / openIndex */
  constructor(entry: PluginEntry, name: string, kind: string, handle: IndexHandle, onDrop: (r: LiveResource) => void) {
    super(entry, name, kind, onDrop);
    this.handle = handle;
  }

  /** The index kind, e.g. `vector.flat`. */
  get kind(): string {
    return this.key;
  }

  /** k nearest rows per query row, as an Arrow table in the kind's probe schema. */
  async probe(query: ArrowInput, k: number): Promise<Table> {
    return fromIPC(await this.probeIPC(ipcOf(query), k));
  }

  /** {@link probe} on Arrow IPC bytes in and out. */
  probeIPC(query: Uint8Array, k: number): Promise<Uint8Array> {
    return this.call(() => this.handle.probe(query, k));
  }

  /** {@link probe} restricted to rows whose bit is set in `mask` (LSB-first bitmap in build order). */
  async probeFiltered(query: ArrowInput, k: number, mask: Uint8Array): Promise<Table> {
    const bytes = ipcOf(query);
    return fromIPC(await this.call(() => this.handle.probeFiltered(bytes, k, mask)));
  }

  supportsFilter(): Promise<boolean> {
    return this.call(() => this.handle.supportsFilter());
  }

  /** The persisted bytes (e.g. to keep in Deno KV and `openIndex` after a restart). */
  persist(): Promise<Uint8Array> {
    return this.call(() => this.handle.persist());
  }

  /** The probe output schema, as an empty Arrow table. */
  async schema(): Promise<Table> {
    return fromIPC(await this.call(() => this.handle.schema()));
  }

  protected release(): void {
    this.handle.drop();
  }

  /** @internal drop, and (durable host) its record with it. */
  protected override forget(): Promise<void> | undefined {
    return this.log?.gone();
  }

  // ---------------------------------------------------------------- reload (see resources/handoff.ts)

  /** @internal
   * check-compat: opens this index in the new version from the live bytes (invisible until commit) and
   * compares the probe schemas. This is not a dry run: the opened handle is what commit installs. Indexes
   * never change after build, so the handle prepared here is still exact at handoff.
   */
  check(ctx: HandoffContext): IndexPending | undefined {
    if (ctx.oldPoisoned || !ctx.kept("index", this.kind)) return undefined;
    return this.#prepared(ctx, this.#openIn(ctx));
  }

  /** The opened handle, with its snapshot's store write under way on a durable host (callers still served). */
  #prepared(ctx: HandoffContext, open: IndexHandle): IndexPending {
    if (!this.log) return { open };
    const snapshot = this.log.reloadWrite(open.persist(), ctx.next.manifest.version);
    snapshot.catch(() => {}); // awaited by durable(); a reload that rolls back first leaves only an unlinked blob
    return { open, snapshot };
  }

  /** @internal handoff: an index created after check-compat is opened now; a dropped kind or a trapped version drops it. */
  handoff(ctx: HandoffContext, prepared: IndexPending | undefined): IndexPending | undefined {
    if (ctx.oldPoisoned || !ctx.kept("index", this.kind)) {
      this.abort(prepared);
      return { drop: true };
    }
    if (this.dropped) {
      this.abort(prepared); // dropped by its user after check-compat: nothing to hand over
      return undefined;
    }
    return prepared ?? this.#prepared(ctx, this.#openIn(ctx));
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
    this.log?.committed(this.entry.current.manifest.id, this.entry.current.manifest.version);
    return "moved";
  }

  /** @internal */
  abort(pending: IndexPending | undefined): void {
    if (pending && "open" in pending) quietly(() => pending.open.drop());
  }

  /** @internal */
  retire(pending: IndexPending | undefined): void {
    if (pending && "retiring" in pending) pending.retiring?.drop();
  }

  /** persist (old) → open (new), one copy from memory to memory; refuses a different probe schema. */
  #openIn(ctx: HandoffContext): IndexHandle {
    const index = ctx.next.instance.index;
    if (!index) incompatible("index", this.kind, "the new version does not export uni:plugin/index");
    const fresh = naming("index", this.kind, () =>
      this.handle.persistLent((view) => {
        ctx.moved(view.byteLength);
        return index.open(this.kind, view);
      }),
    );
    return undoing(
      () => {
        const [before, after] = [this.handle.schema(), fresh.schema()];
        // Different bytes may still be the same schema (metadata order, padding): compare what Arrow reads.
        if (!sameBytes(before, after)) {
          const [want, got] = [schemaOf(before), schemaOf(after)];
          if (want !== got) incompatible("index", this.kind, `probe schema changed from ${want} to ${got}`);
        }
        return fresh;
      },
      () => fresh.drop(),
    );
  }
}

function schemaOf(ipc: Uint8Array): string {
  return fromIPC(ipc)
    .schema.fields.map((f) => `${f.name}: ${f.type}`)
    .join(", ");
}
