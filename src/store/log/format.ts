/**
 * The file store's on-disk formats.
 *
 * **Log file** `log-<generation as 16 hex digits>`: a 32-byte header, then records.
 * - Header: `"UPSLOG01"`, `u64 generation`, `u64 commit counter at creation`, `u32 CRC-32 of the 24 bytes
 *   before`, `u32 0`.
 * - Record: `u32 magic "UPR1"`, `u32 payload length`, `u32 CRC-32 of the payload`, payload.
 * - Payload of a commit (type 1): `u8 1`, `u64 commit counter`, `u32 count`, then per mutation `u8 op` (1 set,
 *   2 delete), `u32 key length`, key bytes, and for a set `u32 value length`, value bytes (the sealed envelope).
 * - Payload of a snapshot (type 2, written by compaction): `u8 2`, `u32 count`, then per record
 *   `u64 commit counter`, `u32 key length`, key, `u32 value length`, value.
 * All integers are little-endian; keys are the order-preserving key bytes of `keys.ts`.
 *
 * **Blob file** `blobs/<id>`: `u32 magic "UPBF"`, `u32 manifest length`, the manifest, the data.
 *
 * @module
 */
import { ByteReader, ByteWriter } from "../bytes-io.ts";
import { crc32 } from "../crc32.ts";
import { corrupt } from "../errors.ts";

export const HEADER_BYTES = 32;
const HEADER_MAGIC = new TextEncoder().encode("UPSLOG01");
const RECORD_MAGIC = 0x31525055; // "UPR1" little-endian
const FRAME_BYTES = 12;
const BLOB_MAGIC = 0x46425055; // "UPBF"
/** No record is larger: a commit is at most ~800 KiB, a snapshot record is cut at 1 MiB. */
const MAX_PAYLOAD = 64 << 20;

export const COMMIT = 1;
export const SNAPSHOT = 2;
export const SET = 1;
export const DELETE = 2;

export interface LogHeader {
  readonly generation: bigint;
  readonly counter: bigint;
}

export function logFileName(generation: bigint): string {
  return `log-${generation.toString(16).padStart(16, "0")}`;
}

/** The generation a log file name carries, or `null` for any other name. */
export function logGeneration(name: string): bigint | null {
  const m = /^log-([0-9a-f]{16})$/.exec(name);
  return m ? BigInt(`0x${m[1]}`) : null;
}

export function encodeHeader(h: LogHeader): Uint8Array {
  const w = new ByteWriter(HEADER_BYTES).bytes(HEADER_MAGIC).u64(h.generation).u64(h.counter);
  const body = w.finish().slice();
  return new ByteWriter(HEADER_BYTES).bytes(body).u32(crc32(body)).u32(0).finish().slice();
}

/**
 * # Errors
 * `Corrupt` when the header is short, not ours, or fails its CRC (headers are written atomically, so never torn).
 */
export function decodeHeader(file: Uint8Array, where: string): LogHeader {
  if (file.length < HEADER_BYTES) throw corrupt(`${where}: log header is truncated`, { where });
  for (let i = 0; i < HEADER_MAGIC.length; i++) {
    if (file[i] !== HEADER_MAGIC[i]) throw corrupt(`${where}: not a store log`, { where });
  }
  const r = new ByteReader(file, where, 8);
  const generation = r.u64();
  const counter = r.u64();
  if (r.u32() !== crc32(file.subarray(0, 24))) throw corrupt(`${where}: log header fails its CRC-32`, { where });
  return { generation, counter };
}

/** Frames a payload as one log record. */
export function frame(payload: Uint8Array): Uint8Array {
  return new ByteWriter(FRAME_BYTES + payload.length)
    .u32(RECORD_MAGIC)
    .u32(payload.length)
    .u32(crc32(payload))
    .bytes(payload)
    .finish();
}

export interface LogMutation {
  readonly op: typeof SET | typeof DELETE;
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
}

export function encodeCommit(counter: bigint, mutations: readonly LogMutation[]): Uint8Array {
  const w = new ByteWriter(64).u8(COMMIT).u64(counter).u32(mutations.length);
  for (const m of mutations) {
    w.u8(m.op).sized(m.key);
    if (m.op === SET) w.sized(m.value as Uint8Array);
  }
  return frame(w.finish());
}

export interface SnapshotRecord {
  readonly counter: bigint;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export function encodeSnapshot(records: readonly SnapshotRecord[]): Uint8Array {
  const w = new ByteWriter(64).u8(SNAPSHOT).u32(records.length);
  for (const r of records) w.u64(r.counter).sized(r.key).sized(r.value);
  return frame(w.finish());
}

export type LogRecord =
  | { readonly type: typeof COMMIT; readonly counter: bigint; readonly mutations: LogMutation[] }
  | { readonly type: typeof SNAPSHOT; readonly records: SnapshotRecord[] };

/** The record framed at `offset`, and where the next begins; `null` when no valid record is there. */
export function readRecord(file: Uint8Array, offset: number): { record: LogRecord; next: number } | null {
  if (offset + FRAME_BYTES > file.length) return null;
  const view = new DataView(file.buffer, file.byteOffset + offset, FRAME_BYTES);
  if (view.getUint32(0, true) !== RECORD_MAGIC) return null;
  const len = view.getUint32(4, true);
  if (len > MAX_PAYLOAD || offset + FRAME_BYTES + len > file.length) return null;
  const payload = file.subarray(offset + FRAME_BYTES, offset + FRAME_BYTES + len);
  if (crc32(payload) !== view.getUint32(8, true)) return null;
  try {
    return { record: parsePayload(payload), next: offset + FRAME_BYTES + len };
  } catch {
    return null; // a CRC-valid payload we cannot parse is damage too
  }
}

function parsePayload(payload: Uint8Array): LogRecord {
  const r = new ByteReader(payload, "log record");
  const type = r.u8();
  if (type === COMMIT) {
    const counter = r.u64();
    const n = r.u32();
    const mutations: LogMutation[] = [];
    for (let i = 0; i < n; i++) {
      const op = r.u8();
      if (op === SET) mutations.push({ op, key: r.sized(), value: r.sized() });
      else if (op === DELETE) mutations.push({ op, key: r.sized() });
      else throw corrupt(`unknown log mutation ${op}`);
    }
    if (r.remaining !== 0) throw corrupt("trailing bytes in a log record");
    return { type, counter, mutations };
  }
  if (type === SNAPSHOT) {
    const n = r.u32();
    const records: SnapshotRecord[] = [];
    for (let i = 0; i < n; i++) records.push({ counter: r.u64(), key: r.sized(), value: r.sized() });
    if (r.remaining !== 0) throw corrupt("trailing bytes in a log record");
    return { type, records };
  }
  throw corrupt(`unknown log record type ${type}`);
}

/**
 * Whether any valid record starts after `offset`: if one does, the damage at `offset` is in the middle of the
 * log (corruption), not a torn tail.
 */
export function validRecordAfter(file: Uint8Array, offset: number): number | null {
  const magic0 = RECORD_MAGIC & 0xff;
  for (let i = offset + 1; i + FRAME_BYTES <= file.length; i++) {
    if (file[i] === magic0 && readRecord(file, i)) return i;
  }
  return null;
}

export function encodeBlobFileHeader(manifest: Uint8Array): Uint8Array {
  return new ByteWriter(8).u32(BLOB_MAGIC).u32(manifest.length).finish().slice();
}

/**
 * Splits a blob file into manifest and data (views, no copy); the core verifies both.
 *
 * # Errors
 * `Corrupt` when the file is too short for its header and manifest, or not a blob file.
 */
export function decodeBlobFile(file: Uint8Array, id: string): { manifest: Uint8Array; data: Uint8Array } {
  const r = new ByteReader(file, `blob file ${id}`);
  if (r.u32() !== BLOB_MAGIC) throw corrupt(`blob file ${id} is not a blob file`, { blob: id });
  const manifest = r.sized();
  return { manifest, data: file.subarray(r.position) };
}
