/**
 * What a host with a `StateStore` writes, and when. Durability levels, named in the manner of Postgres'
 * `synchronous_commit`:
 *
 * - `"none"`: nothing is written (no store). A restart starts empty.
 * - `"snapshot"`: state is written in the background — resources at creation and on a timer (`snapshotIntervalMs`)
 *   when they changed, plugins and reloads as they commit. Writes resolve at once; a crash loses what changed since
 *   the last write (CRDT ops, CDC publishes). Cheapest.
 * - `"journal"` (the default with a store): a write resolves only once it is durable — a CRDT op in its journal,
 *   a CDC batch in its log, a new index's snapshot, a load or reload in its one atomic commit — with group commit,
 *   so concurrent writes share one durable write. Nothing acknowledged is lost.
 *
 * A reload is atomic in the store too: the version switch, the generation, and the new version's snapshots of the
 * handed-over state go out in one commit before the new version serves; a crash restarts on the old version or
 * the new one, never half of each.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";
import type { Check, Key, Mutation, StateStore } from "../store/types.ts";
import { type RestoredState, readAll } from "./read.ts";
import {
  encodeRecord,
  INLINE_BYTES,
  Keys,
  type PluginRecord,
  type ResourceRecord,
  type SnapshotRef,
  writePlugin,
  writeResource,
  writeSamples,
} from "./records.ts";
import { Writer } from "./writer.ts";

export type Durability = "none" | "snapshot" | "journal";

/** How a host persists its state; see the module doc. */
export interface DurableOptions {
  /** Where: `fileStore(dir)` (Node), `openDenoKvStore()` (Deno), `indexedDbStore(name)` (browsers), `memoryStore()`. */
  store: StateStore;
  /** Default `"journal"`. */
  durability?: Exclude<Durability, "none">;
  /** Keeps this host's records apart from other hosts sharing the store. Default `"host"`. */
  namespace?: string;
  /** A CRDT state's journal is folded into a fresh snapshot after this many ops. Default 1000. */
  snapshotEveryOps?: number;
  /** `"snapshot"` durability: how often changed state is written. Default 1000 ms. */
  snapshotIntervalMs?: number;
}

/** The host's view of its store: records, blobs, the commit queue, and the background timer. */
export class HostDurability {
  readonly level: Exclude<Durability, "none">;
  readonly store: StateStore;
  readonly keys: Keys;
  readonly writer: Writer;
  readonly snapshotEveryOps: number;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  readonly #flushers = new Set<() => Promise<void>>();
  /** Failures of background writes (snapshot durability), kept for `restored`/diagnostics. */
  readonly backgroundErrors: PluginError[] = [];

  constructor(options: DurableOptions) {
    if (!options.store || typeof options.store.commit !== "function") {
      throw new PluginError(ErrorCode.TypeCoercion, "durable: `store` must be a StateStore");
    }
    this.store = options.store;
    this.level = options.durability ?? "journal";
    if (this.level !== "journal" && this.level !== "snapshot") {
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `durable: durability must be "journal" or "snapshot", got ${String(this.level)}`,
      );
    }
    this.keys = new Keys(options.namespace ?? "host");
    this.writer = new Writer(this.store);
    this.snapshotEveryOps = options.snapshotEveryOps ?? 1000;
    if (this.level === "snapshot") {
      const every = options.snapshotIntervalMs ?? 1000;
      this.#timer = setInterval(() => void this.flushChanged(), every);
      // A timer must not keep a process alive on its own (Node, Deno).
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Reads everything this host wrote, for the restore. */
  readAll(): Promise<RestoredState> {
    return readAll(this.store, this.keys);
  }

  /** Snapshot durability: registers what writes a resource's changes on each tick (returns the unregister). */
  onTick(flush: () => Promise<void>): () => void {
    this.#flushers.add(flush);
    return () => this.#flushers.delete(flush);
  }

  /** Every live resource's log: {@link flushChanged} waits for what each has under way. */
  readonly #logs = new Set<{ readonly dropped: boolean; settled(): Promise<void> }>();

  /** A resource's log, to wait for in {@link flushChanged} (forgotten once it is dropped and settled). */
  track(log: { readonly dropped: boolean; settled(): Promise<void> }): void {
    this.#logs.add(log);
  }

  /**
   * Writes everything changed since the last tick (snapshot durability), then waits until every write under way
   * has settled: resources' records, journals and housekeeping (deletions after folds and reloads), and the
   * queued commits. A failed one is a background error here; its caller, if any, got the error.
   */
  async flushChanged(): Promise<void> {
    for (const flush of [...this.#flushers]) {
      try {
        await flush();
      } catch (err) {
        this.background(err);
      }
    }
    for (const log of [...this.#logs]) {
      await log.settled().catch(() => {});
      if (log.dropped) this.#logs.delete(log);
    }
    await this.writer.flush();
  }

  /** Records a background write's failure (it has no caller to reject). */
  background(err: unknown): void {
    const e = err instanceof PluginError ? err : new PluginError(ErrorCode.Io, String(err), { retryable: true });
    this.backgroundErrors.push(e);
    if (this.backgroundErrors.length > 100) this.backgroundErrors.shift();
  }

  /** A snapshot reference for `bytes`: inline when small, else a blob (put now, durably, before any record links it). */
  async snapshotRef(bytes: Uint8Array): Promise<{ ref: SnapshotRef; blobs: string[] }> {
    if (bytes.length <= INLINE_BYTES) return { ref: { inline: bytes.slice() }, blobs: [] };
    const blob = await this.store.putBlob(bytes);
    return { ref: { blob: blob.id, size: blob.size }, blobs: [blob.id] };
  }

  /** The mutation writing a resource record. */
  resourceSet(record: ResourceRecord, blobs: readonly string[] = []): Mutation {
    return { type: "set", key: this.keys.resource(record.surface, record.name), value: writeResource(record), blobs };
  }

  /** The mutation deleting a resource record. */
  resourceDelete(surface: string, name: string): Mutation {
    return { type: "delete", key: this.keys.resource(surface, name) };
  }

  /**
   * Commits a plugin version as the one serving `id`, with `also` (the resources' new records, on reload) in the
   * same atomic commit, and allocates its generation: one above both the store's counter and `atLeast`, checked
   * against the counter so two writers never get the same one. Resolves the generation.
   *
   * # Errors
   * The store's (`Io`, `ResourceLimit`); `Timeout` (retryable) after 20 lost races on the counter.
   */
  async commitVersion(
    record: Omit<PluginRecord, "generation" | "component">,
    bytes: Uint8Array,
    atLeast: number,
    also: readonly Mutation[] = [],
  ): Promise<number> {
    const blob = await this.store.putBlob(bytes);
    const counterKey = this.keys.generation(record.id);
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.store.get(counterKey);
      const stored = entry ? decodeU64(entry.value) : 0n;
      const generation = Number(stored > BigInt(atLeast) ? stored : BigInt(atLeast)) + 1;
      const checks: Check[] = [{ key: counterKey, versionstamp: entry?.versionstamp ?? null }];
      const mutations: Mutation[] = [
        { type: "set", key: counterKey, value: encodeU64(BigInt(generation)) },
        {
          type: "set",
          key: this.keys.plugin(record.id),
          value: writePlugin({ ...record, component: blob.id, generation }),
          blobs: [blob.id],
        },
        ...also,
      ];
      if (await this.writer.write(mutations, checks)) return generation;
    }
    throw new PluginError(ErrorCode.Timeout, `durable: lost 20 races for a generation of ${record.id}`, {
      retryable: true,
    });
  }

  /** Removes a plugin's record (unload) with its resources' records (`also`). The generation counter stays. */
  async removePlugin(id: string, also: readonly Mutation[] = []): Promise<void> {
    await this.writer.write([{ type: "delete", key: this.keys.plugin(id) }, ...also]);
  }

  /** Writes the literals a logical type has seen. */
  writeSamples(type: string, literals: readonly string[]): Promise<boolean> {
    return this.writer.write([{ type: "set", key: this.keys.sample(type), value: writeSamples(literals) }]);
  }

  /**
   * Moves a record that failed to restore aside, with why: it no longer blocks a restart, and stays inspectable
   * under `["uni", namespace, "quarantine", …]`. The original is deleted.
   */
  async quarantine(key: Key, value: Uint8Array | undefined, reason: string): Promise<void> {
    const room = this.store.limits.maxValueBytes - 8192;
    const note = encodeRecord({
      format: 1,
      reason: reason.slice(0, 4000),
      at: Date.now(),
      value: value && value.length <= room ? value : undefined,
    });
    await this.writer.write([
      { type: "set", key: this.keys.quarantine(key), value: note },
      { type: "delete", key },
    ]);
  }

  /** Stops the timer and waits for queued writes. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.flushChanged();
  }
}

function encodeU64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

function decodeU64(bytes: Uint8Array): bigint {
  if (bytes.length !== 8)
    throw new PluginError(ErrorCode.Corrupt, `a generation counter of ${bytes.length} bytes, not 8`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
