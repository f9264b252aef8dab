/**
 * Where a fleet CDC stream delivers, and the contract that makes delivery exactly once across owners.
 *
 * The host delivers every emit to its sinks in LSN order and moves on only when the sink acknowledges (resolves);
 * the emits themselves are contiguous `[lsnStart, lsnEnd)` ranges. When the owner dies, the next one restores the
 * stream from the state its predecessor published (cdc-owner.ts) and redelivers what that state had not seen
 * acknowledged, so a sink may be handed an emit it already applied. The sink must therefore **record its
 * position atomically with what it applies**, and:
 *
 * - apply an emit that starts exactly at its position, moving the position to the emit's end, in one atomic step;
 * - acknowledge an emit that ends at or below its position without applying it (a redelivery: `"duplicate"`);
 * - refuse anything else (a gap, or an emit straddling its position), which the protocol never produces.
 *
 * A sink writing to a database does the first in one transaction (rows + position row); `storeSink` below does it
 * with one `StateStore` commit checked against the position record's versionstamp, so even two owners writing at
 * once (a paused owner waking after losing its lease) cannot both apply an LSN.
 *
 * @module
 */
import type { CdcEmit } from "../resources/cdc-state.ts";
import { ErrorCode } from "../errors.ts";
import { field } from "../durable/records.ts";
import type { Entry, Key, StateStore } from "../store/types.ts";
import { FleetError } from "./errors.ts";
import { loadPayload, storePayload } from "./payload.ts";
import { decode, encode, readPayload } from "./records.ts";

/** Who is writing: the owning node and its lease's fencing token (for the sink's records and diagnostics). */
export interface WriterTag {
  node: string;
  token: number;
}

export interface FleetSink {
  /** The exclusive LSN bound of what the sink has applied (0 when empty). */
  position(): Promise<bigint>;
  /**
   * Applies `emit` atomically with moving the position to `emit.lsnEnd` when the position is `emit.lsnStart`;
   * resolves `"duplicate"` without applying when `emit.lsnEnd` is at or below the position.
   *
   * # Errors
   * Rejects (the stream then halts delivery and retries) for a gap or an overlap, and when its storage fails.
   */
  write(emit: CdcEmit, by: WriterTag): Promise<"applied" | "duplicate">;
}

/** One emit as `storeSink` recorded it. */
export interface SinkBatch {
  lsnStart: bigint;
  lsnEnd: bigint;
  payload: Uint8Array;
  pluginId: string;
  version: string;
  source?: string;
  node: string;
  token: number;
  /** Wall-clock ms when it was written. */
  at: number;
}

export interface StoreSink extends FleetSink {
  /** Every batch recorded, in LSN order (for checking and tests). */
  batches(): Promise<SinkBatch[]>;
}

function u64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

function readU64(e: Entry): bigint {
  if (e.value.length !== 8) {
    throw new FleetError(ErrorCode.Corrupt, `sink position ${JSON.stringify(e.key.map(String))} is not 8 bytes`);
  }
  return new DataView(e.value.buffer, e.value.byteOffset, 8).getBigUint64(0, true);
}

/**
 * A sink that records each emit under `[...prefix, "batch", lsnStart]` and its position under
 * `[...prefix, "position"]`, in one checked commit per emit (see the module doc).
 */
export function storeSink(store: StateStore, prefix: Key): StoreSink {
  const positionKey: Key = [...prefix, "position"];
  let known: { position: bigint; versionstamp: string | null } | undefined;
  const read = async () => {
    const e = await store.get(positionKey);
    known = { position: e ? readU64(e) : 0n, versionstamp: e?.versionstamp ?? null };
    return known;
  };
  return {
    async position() {
      return (await read()).position;
    },
    async write(emit, by) {
      let cur = known ?? (await read());
      for (let attempt = 0; attempt < 50; attempt++) {
        if (emit.lsnEnd <= cur.position) return "duplicate";
        if (emit.lsnStart !== cur.position) {
          throw new FleetError(
            ErrorCode.Forbidden,
            `sink ${JSON.stringify(prefix.map(String))} is at LSN ${cur.position}; emit [${emit.lsnStart}, ${emit.lsnEnd}) ` +
              "would leave a gap or overlap",
          );
        }
        const { payload, blobs } = await storePayload(store, emit.payload);
        const value = encode({
          lsnStart: emit.lsnStart,
          lsnEnd: emit.lsnEnd,
          payload,
          pluginId: emit.pluginId,
          version: emit.version,
          ...(emit.source === undefined ? {} : { source: emit.source }),
          node: by.node,
          token: by.token,
          at: Date.now(),
        });
        const res = await store.commit({
          checks: [{ key: positionKey, versionstamp: cur.versionstamp }],
          mutations: [
            { type: "set", key: positionKey, value: u64(emit.lsnEnd) },
            { type: "set", key: [...prefix, "batch", emit.lsnStart], value, blobs },
          ],
        });
        if (res.ok) {
          known = { position: emit.lsnEnd, versionstamp: res.versionstamp };
          return "applied";
        }
        cur = await read(); // another writer moved the position: decide again on what it is now
      }
      throw new FleetError(ErrorCode.Timeout, `sink ${JSON.stringify(prefix.map(String))}: lost 50 races`, {
        retryable: true,
      });
    },
    async batches() {
      const out: SinkBatch[] = [];
      for await (const e of store.list({ prefix: [...prefix, "batch"] })) {
        const b = decode(e.key, e.value, (v) => {
          const batch: SinkBatch = {
            lsnStart: field.u64(v, "lsnStart"),
            lsnEnd: field.u64(v, "lsnEnd"),
            payload: new Uint8Array(),
            pluginId: field.string(v, "pluginId"),
            version: field.string(v, "version"),
            node: field.string(v, "node"),
            token: field.count(v, "token"),
            at: typeof v.at === "number" ? v.at : 0,
          };
          const source = field.optionalString(v, "source");
          if (source !== undefined) batch.source = source;
          return { batch, payload: readPayload(v, "payload") };
        });
        b.batch.payload = await loadPayload(store, b.payload);
        out.push(b.batch);
      }
      return out;
    },
  };
}
