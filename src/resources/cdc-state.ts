/**
 * Everything the host keeps for one CDC stream, as one plain record: the log of published batches (with their
 * source positions and commit times), the next LSN, the output's checkpoint, the sink's acknowledged position
 * and the outbox of emitted-but-unacknowledged batches. Only bigints, strings, numbers, arrays, plain objects and
 * `Uint8Array`s: it survives `structuredClone` (IndexedDB, Deno KV, `postMessage`) unchanged, so a stream can be
 * persisted and restored from it (`CdcOptions.restore`).
 *
 * Positions, all exclusive LSN bounds, in order:
 *
 *     confirmed.lsn  <=  acknowledged  <=  emittedEnd  <=  nextLsn
 *     └ log starts here  └ outbox starts  └ outbox ends    └ log ends
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";

/** Where a published batch came from. */
export interface CdcOrigin {
  /** The batch's host LSN range, `[lsnStart, lsnEnd)`. */
  lsnStart: bigint;
  lsnEnd: bigint;
  /** Commit time given to `publish`, microseconds since the Unix epoch. */
  commitMicros: bigint;
  /** The opaque source position given to `publish` (e.g. a Postgres LSN such as `"0/16B3748"`). */
  source?: string;
}

/** One published batch in the host's log. */
export interface CdcLogEntry extends CdcOrigin {
  /**
   * The Arrow IPC stream bytes, kept while the output may still need them (until it has emitted past the
   * batch); then `null`: the entry stays, for its position, until the sink has acknowledged it.
   */
  mutations: Uint8Array | null;
}

/** One `cdc-sink.emit` the host accepted, as sinks receive it. */
export interface CdcEmit {
  /** The live stream's name. */
  stream: string;
  output: string;
  lsnStart: bigint;
  lsnEnd: bigint;
  /** Arrow IPC (or whatever the output emits). */
  payload: Uint8Array;
  /** The plugin version that emitted it. */
  pluginId: string;
  version: string;
  /** The published batches this emit covers, in whole or in part, in LSN order. */
  origins: CdcOrigin[];
  /** The commit time of the last batch the emit covers. */
  commitMicros: bigint;
  /**
   * The highest source position this emit completes: that of the last batch ending within it that carried one.
   * Absent when no such batch does.
   */
  source?: string;
}

/** A point in the stream: an exclusive LSN bound and, when known, the source position and commit time there. */
export interface CdcPosition {
  lsn: bigint;
  /** The source position of the last batch ending at or below `lsn` that carried one. */
  source?: string;
  /** The commit time of the last batch ending at or below `lsn`. */
  commitMicros?: bigint;
}

/** The host-side state of one CDC stream (see the module doc for how the positions relate). */
export interface CdcStreamState {
  /** Format of this record. */
  format: 1;
  output: string;
  /** The LSN the next published batch starts at. */
  nextLsn: bigint;
  /** The output's last reported checkpoint. */
  checkpointed: bigint;
  /** The exclusive bound of what the output has emitted (accepted into the outbox). */
  emittedEnd: bigint;
  /** Every sink has acknowledged every LSN below this. */
  acknowledged: bigint;
  /** Below this, the output has checkpointed and the sink acknowledged: safe to confirm upstream. */
  confirmed: CdcPosition;
  /** Every published batch from `confirmed.lsn` to `nextLsn`, contiguous. */
  log: CdcLogEntry[];
  /** Every emit from `acknowledged` to `emittedEnd`, contiguous. */
  outbox: CdcEmit[];
}

/** A fresh stream's state, starting at `from`. */
export function freshState(output: string, from: bigint): CdcStreamState {
  return {
    format: 1,
    output,
    nextLsn: from,
    checkpointed: from,
    emittedEnd: from,
    acknowledged: from,
    confirmed: { lsn: from },
    log: [],
    outbox: [],
  };
}

/** A copy whose arrays and records are the caller's; the byte arrays are shared (never mutated by the host). */
export function copyState(s: CdcStreamState): CdcStreamState {
  return {
    ...s,
    confirmed: { ...s.confirmed },
    log: s.log.map((e) => ({ ...e })),
    outbox: s.outbox.map((e) => ({ ...e, origins: e.origins.map((o) => ({ ...o })) })),
  };
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks that `value` is a CDC stream state of `output` this host can resume, and returns a copy of it.
 *
 * # Errors
 * `TypeCoercion` naming the first field at fault.
 */
export function checkState(value: unknown, output: string): CdcStreamState {
  const bad = (what: string): never => {
    throw new PluginError(ErrorCode.TypeCoercion, `not a CDC stream state this host can restore: ${what}`);
  };
  if (typeof value !== "object" || value === null) return bad("expected an object");
  const s = value as Partial<CdcStreamState>;
  if (s.format !== 1) bad(`format ${String(s.format)}, expected 1`);
  if (s.output !== output) bad(`it is a stream of output ${JSON.stringify(s.output)}, not ${JSON.stringify(output)}`);
  const lsn = (x: unknown, what: string): bigint =>
    typeof x === "bigint" && x >= 0n && x <= U64_MAX ? x : bad(`${what} must be a u64 bigint`);
  const nextLsn = lsn(s.nextLsn, "nextLsn");
  lsn(s.checkpointed, "checkpointed");
  const emittedEnd = lsn(s.emittedEnd, "emittedEnd");
  const acknowledged = lsn(s.acknowledged, "acknowledged");
  const confirmed = s.confirmed ?? bad("confirmed is missing");
  const confirmedLsn = lsn(confirmed.lsn, "confirmed.lsn");
  if (!(confirmedLsn <= acknowledged && acknowledged <= emittedEnd && emittedEnd <= nextLsn)) {
    bad(
      `positions out of order: confirmed ${confirmedLsn}, acknowledged ${acknowledged}, emitted ${emittedEnd}, next ${nextLsn}`,
    );
  }
  const origin = (o: Partial<CdcOrigin>, what: string) => {
    lsn(o.lsnStart, `${what}.lsnStart`);
    lsn(o.lsnEnd, `${what}.lsnEnd`);
    if (typeof o.commitMicros !== "bigint") bad(`${what}.commitMicros must be a bigint`);
    if (o.source !== undefined && typeof o.source !== "string") bad(`${what}.source must be a string`);
  };
  if (!Array.isArray(s.log)) return bad("log must be an array");
  let at = confirmedLsn;
  for (const [i, e] of s.log.entries()) {
    origin(e, `log[${i}]`);
    if (e.lsnStart !== at || e.lsnEnd <= e.lsnStart)
      bad(`log[${i}] is [${e.lsnStart}, ${e.lsnEnd}), expected it to start at ${at}`);
    if (e.lsnEnd > emittedEnd && !(e.mutations instanceof Uint8Array))
      bad(`log[${i}] was not emitted yet but has no mutations`);
    at = e.lsnEnd;
  }
  if (at !== nextLsn) bad(`the log ends at ${at}, not at nextLsn ${nextLsn}`);
  if (!Array.isArray(s.outbox)) return bad("outbox must be an array");
  at = acknowledged;
  for (const [i, e] of s.outbox.entries()) {
    if (lsn(e.lsnStart, `outbox[${i}].lsnStart`) !== at || lsn(e.lsnEnd, `outbox[${i}].lsnEnd`) <= e.lsnStart) {
      bad(`outbox[${i}] is [${e.lsnStart}, ${e.lsnEnd}), expected it to start at ${at}`);
    }
    if (!(e.payload instanceof Uint8Array) || !Array.isArray(e.origins)) bad(`outbox[${i}] needs payload and origins`);
    for (const [j, o] of e.origins.entries()) origin(o, `outbox[${i}].origins[${j}]`);
    at = e.lsnEnd;
  }
  if (at !== emittedEnd) bad(`the outbox ends at ${at}, not at emittedEnd ${emittedEnd}`);
  return copyState(s as CdcStreamState);
}
