/**
 * The edge server's CDC sink: what a stream's output emitted, kept in the same store as the host's state, one
 * record per emit (`["edge", "sink", stream, "b", lsnStart]`) under a head record holding the exclusive end
 * (`["edge", "sink", stream, "head"]`). An emit is acknowledged to the host only once its record and the new head
 * are durable (one commit checked against the head's versionstamp), so the host's checkpoint never passes what
 * this log holds.
 *
 * After a restart the host redelivers from the position the sink last acknowledged *as the host recorded it*,
 * which may be behind this log's end (a crash between the sink's commit and the host's head write). Opening the
 * log therefore cuts it back to that position, so redelivered emits are stored once, in order, with no gap and no
 * duplicate, however the output groups them the second time.
 *
 * @module
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { type CdcEmit, ErrorCode, fromIPC, PluginError } from "../../src/mod.ts";
import type { Key, Mutation, StateStore } from "../../src/store/mod.ts";

const encoder = new Encoder({ useBigInt64: true });
const decoder = new Decoder({ useBigInt64: true });
/** Payloads up to this size live in the batch's record; larger ones are blobs the record links. */
const INLINE_BYTES = 48 * 1024;

/** One emit the sink received, as the API reports it. */
export interface SinkBatch {
  lsnStart: bigint;
  lsnEnd: bigint;
  /** Rows in the payload when it is an Arrow IPC stream, else null. */
  rows: number | null;
  /** `id@version` of the plugin version that emitted it. */
  emittedBy: string;
  payloadBytes: number;
}

interface StoredBatch extends SinkBatch {
  payload: { inline: Uint8Array } | { blob: string };
}

interface Head {
  end: bigint;
}

const root = (stream: string): Key => ["edge", "sink", stream];
const headKey = (stream: string): Key => ["edge", "sink", stream, "head"];
const batchPrefix = (stream: string): Key => ["edge", "sink", stream, "b"];
const batchKey = (stream: string, lsnStart: bigint): Key => ["edge", "sink", stream, "b", lsnStart];

function decode<T>(bytes: Uint8Array): T {
  return decoder.decode(bytes) as T;
}

function rowsOf(payload: Uint8Array): number | null {
  try {
    return fromIPC(payload).numRows;
  } catch {
    return null; // an output may emit something other than Arrow; the bytes are kept all the same
  }
}

export class SinkLog {
  readonly stream: string;
  readonly #store: StateStore;
  #end: bigint;
  #versionstamp: string | null;

  private constructor(store: StateStore, stream: string, end: bigint, versionstamp: string | null) {
    this.#store = store;
    this.stream = stream;
    this.#end = end;
    this.#versionstamp = versionstamp;
  }

  /** Exclusive end of what the log holds. */
  get end(): bigint {
    return this.#end;
  }

  /** The log's end as stored, without opening it (`0n` when there is none): where a re-created stream starts. */
  static async storedEnd(store: StateStore, stream: string): Promise<bigint> {
    const head = await store.get(headKey(stream));
    return head ? decode<Head>(head.value).end : 0n;
  }

  /**
   * Opens the log of `stream` for a stream whose sinks have acknowledged everything below `acknowledged`: records
   * at or past it are removed (they are redelivered), so the log continues exactly where the host does.
   *
   * # Errors
   * `Corrupt` when the log ends before `acknowledged` (records were lost: it would have a gap); the store's.
   */
  static async open(store: StateStore, stream: string, acknowledged: bigint): Promise<SinkLog> {
    const head = await store.get(headKey(stream));
    const end = head ? decode<Head>(head.value).end : 0n;
    if (end < acknowledged) {
      throw new PluginError(
        ErrorCode.Corrupt,
        `the sink log of cdc stream "${stream}" ends at LSN ${end}, before LSN ${acknowledged} that it acknowledged`,
      );
    }
    const log = new SinkLog(store, stream, end, head?.versionstamp ?? null);
    if (end > acknowledged) {
      // The host recorded the sink's acknowledgement of [acknowledged, end) only in part before it stopped.
      console.error(
        `edge: sink log "${stream}" resumes at LSN ${acknowledged} (held up to ${end}); the rest is redelivered`,
      );
    }
    if (end > acknowledged || !head) await log.#cutBack(acknowledged);
    return log;
  }

  async #cutBack(to: bigint): Promise<void> {
    const deletes: Mutation[] = [];
    for await (const e of this.#store.list({ prefix: batchPrefix(this.stream), start: batchKey(this.stream, to) })) {
      deletes.push({ type: "delete", key: e.key });
    }
    for (let i = 0; i < deletes.length; i += 500) {
      const res = await this.#store.commit({ mutations: deletes.slice(i, i + 500) });
      if (!res.ok) throw new PluginError(ErrorCode.Io, `sink log "${this.stream}": a cleanup commit was refused`);
    }
    const res = await this.#store.commit({
      checks: [{ key: headKey(this.stream), versionstamp: this.#versionstamp }],
      mutations: [{ type: "set", key: headKey(this.stream), value: encoder.encode({ end: to } satisfies Head) }],
    });
    if (!res.ok) throw new PluginError(ErrorCode.Io, `sink log "${this.stream}": another writer changed it`);
    this.#end = to;
    this.#versionstamp = res.versionstamp;
  }

  /**
   * The sink (`LiveCdc.onEmit`): stores one emit; resolving acknowledges it. An emit wholly below the end is
   * already here (a retry after an ambiguous store failure) and is acknowledged again without a write.
   *
   * # Errors
   * Refuses (the host halts delivery and retries from its copy) an emit that does not continue the log, and any
   * store failure.
   */
  readonly sink = async (emit: CdcEmit): Promise<void> => {
    if (emit.lsnEnd <= this.#end) return;
    if (emit.lsnStart !== this.#end) await this.#reread();
    if (emit.lsnEnd <= this.#end) return;
    if (emit.lsnStart !== this.#end) {
      throw new PluginError(
        ErrorCode.Io,
        `sink log "${this.stream}" ends at LSN ${this.#end}; an emit of [${emit.lsnStart}, ${emit.lsnEnd}) would leave a gap or a duplicate`,
      );
    }
    const payload = emit.payload;
    let stored: StoredBatch["payload"];
    let blobs: string[] = [];
    if (payload.byteLength <= INLINE_BYTES) {
      stored = { inline: payload };
    } else {
      const blob = await this.#store.putBlob(payload);
      stored = { blob: blob.id };
      blobs = [blob.id];
    }
    const record: StoredBatch = {
      lsnStart: emit.lsnStart,
      lsnEnd: emit.lsnEnd,
      rows: rowsOf(payload),
      emittedBy: `${emit.pluginId}@${emit.version}`,
      payloadBytes: payload.byteLength,
      payload: stored,
    };
    const res = await this.#store.commit({
      checks: [{ key: headKey(this.stream), versionstamp: this.#versionstamp }],
      mutations: [
        { type: "set", key: batchKey(this.stream, emit.lsnStart), value: encoder.encode(record), blobs },
        { type: "set", key: headKey(this.stream), value: encoder.encode({ end: emit.lsnEnd } satisfies Head) },
      ],
    });
    if (!res.ok) {
      throw new PluginError(ErrorCode.Io, `sink log "${this.stream}" was changed by another writer`, {
        retryable: true,
      });
    }
    this.#end = emit.lsnEnd;
    this.#versionstamp = res.versionstamp;
  };

  async #reread(): Promise<void> {
    const head = await this.#store.get(headKey(this.stream));
    this.#end = head ? decode<Head>(head.value).end : 0n;
    this.#versionstamp = head?.versionstamp ?? null;
  }

  /**
   * Up to `limit` batches starting at or after `from`, in LSN order, and the keys of damaged batch records
   * skipped on the way (their CRC-32 failed: they are reported, never served).
   */
  async batches(from: bigint, limit: number): Promise<{ batches: SinkBatch[]; damaged: string[] }> {
    const batches: SinkBatch[] = [];
    const damaged: string[] = [];
    const selector = { prefix: batchPrefix(this.stream), start: batchKey(this.stream, from) };
    for await (const e of this.#store.list(selector, { limit, onCorrupt: (key) => damaged.push(String(key.at(-1))) })) {
      const { payload: _payload, ...batch } = decode<StoredBatch>(e.value);
      batches.push(batch);
    }
    return { batches, damaged };
  }

  /** The payload of the batch starting at `lsnStart`, or null. */
  async payload(lsnStart: bigint): Promise<{ batch: SinkBatch; bytes: Uint8Array } | null> {
    const entry = await this.#store.get(batchKey(this.stream, lsnStart));
    if (!entry) return null;
    const { payload, ...batch } = decode<StoredBatch>(entry.value);
    const bytes = "inline" in payload ? payload.inline : await this.#store.getBlob(payload.blob);
    return { batch, bytes };
  }

  /** Deletes the whole log (its stream was deleted). */
  static async remove(store: StateStore, stream: string): Promise<void> {
    const keys: Key[] = [];
    // A damaged record goes too (it is why a log may be removed): listed through onCorrupt, deleted by key.
    for await (const e of store.list({ prefix: root(stream) }, { onCorrupt: (key) => keys.push(key) }))
      keys.push(e.key);
    for (let i = 0; i < keys.length; i += 500) {
      await store.commit({ mutations: keys.slice(i, i + 500).map((key) => ({ type: "delete" as const, key })) });
    }
  }
}
