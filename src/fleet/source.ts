/**
 * Where a fleet CDC stream's changes come from: a replayable, ordered source such as a Postgres replication slot,
 * a Kafka partition, or `storeQueue` below. The owner reads after the last position its stream logged and
 * publishes each batch with its position (`LiveCdc.publish(batch, { source })`); it confirms a position once the
 * stream's checkpoint has passed it (`checkpointPosition()`: checkpointed by the output and applied by the sink).
 * A source must keep everything after the confirmed position: a new owner resumes reading from the last position
 * its predecessor's published state logged, which is never below what was confirmed.
 *
 * @module
 */
import { ErrorCode } from "../errors.ts";
import { field } from "../durable/records.ts";
import type { Key, StateStore } from "../store/types.ts";
import { FleetError } from "./errors.ts";
import { loadPayload, storePayload } from "./payload.ts";
import { decode, encode, readPayload } from "./records.ts";

export interface SourceBatch {
  /** Opaque, but ordered as the source orders it; what `read(after)` continues from. */
  position: string;
  /** Arrow IPC stream bytes. */
  mutations: Uint8Array;
  /** Commit time, microseconds since the Unix epoch. */
  commitMicros: bigint;
}

export interface FleetSource {
  /** Up to `limit` batches after position `after` (exclusive; undefined: from the start), in order. */
  read(after: string | undefined, limit: number): Promise<SourceBatch[]>;
  /** Everything up to and including `position` is delivered for good: the source may discard it. */
  confirm(position: string): Promise<void>;
  /** Store keys whose change means new batches (watch-mode notification); none: polled. */
  readonly watchKeys?: readonly Key[];
}

export interface StoreQueue extends FleetSource {
  /** Appends a batch (atomically, in order); resolves its position. */
  append(mutations: Uint8Array, commitMicros?: bigint): Promise<string>;
  /** The position confirmed so far, if any. */
  confirmed(): Promise<string | undefined>;
}

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

function readU64(bytes: Uint8Array): bigint {
  if (bytes.length !== 8) throw new FleetError(ErrorCode.Corrupt, "a queue counter that is not 8 bytes");
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

function seqOf(position: string): bigint {
  if (!/^\d{1,20}$/.test(position)) {
    throw new FleetError(ErrorCode.TypeCoercion, `not a queue position: ${JSON.stringify(position)}`);
  }
  return BigInt(position);
}

/**
 * An append-only queue in a `StateStore`: entries `[...prefix, "e", seq]`, the next sequence number under
 * `[...prefix, "head"]` (each append one checked commit, so appends from several writers stay in order), the
 * confirmed position under `[...prefix, "confirmed"]`. Positions are the sequence numbers as decimal strings.
 */
export function storeQueue(store: StateStore, prefix: Key): StoreQueue {
  const head: Key = [...prefix, "head"];
  const entries: Key = [...prefix, "e"];
  const confirmedKey: Key = [...prefix, "confirmed"];
  return {
    watchKeys: [head],
    async append(mutations, commitMicros = BigInt(Date.now()) * 1000n) {
      const { payload, blobs } = await storePayload(store, mutations);
      for (let attempt = 0; attempt < 100; attempt++) {
        const e = await store.get(head);
        const seq = e ? readU64(e.value) : 0n;
        const res = await store.commit({
          checks: [{ key: head, versionstamp: e?.versionstamp ?? null }],
          mutations: [
            { type: "set", key: head, value: u64(seq + 1n) },
            { type: "set", key: [...entries, seq], value: encode({ mutations: payload, commitMicros }), blobs },
          ],
        });
        if (res.ok) return String(seq);
      }
      throw new FleetError(ErrorCode.Timeout, "queue append lost 100 races", { retryable: true });
    },
    async read(after, limit) {
      const start = after === undefined ? 0n : seqOf(after) + 1n;
      const out: SourceBatch[] = [];
      for await (const e of store.list({ prefix: entries, start: [...entries, start] }, { limit })) {
        const seq = e.key[e.key.length - 1];
        const rec = decode(e.key, e.value, (v) => ({
          payload: readPayload(v, "mutations"),
          commitMicros: field.s64(v, "commitMicros"),
        }));
        out.push({
          position: String(seq),
          mutations: await loadPayload(store, rec.payload),
          commitMicros: rec.commitMicros,
        });
      }
      return out;
    },
    async confirm(position) {
      const upTo = seqOf(position);
      const current = await store.get(confirmedKey);
      if (current && readU64(current.value) >= upTo) return; // never backwards (a new owner may confirm less)
      for (;;) {
        const keys: Key[] = [];
        for await (const e of store.list({ prefix: entries, end: [...entries, upTo + 1n] }, { limit: 500 })) {
          keys.push(e.key);
        }
        await store.commit({
          mutations: [
            ...keys.map((key) => ({ type: "delete" as const, key })),
            { type: "set", key: confirmedKey, value: u64(upTo) },
          ],
        });
        if (keys.length < 500) return;
      }
    },
    async confirmed() {
      const e = await store.get(confirmedKey);
      return e ? String(readU64(e.value)) : undefined;
    },
  };
}
