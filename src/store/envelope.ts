/**
 * How a record's value is stored: the caller's bytes wrapped with the blobs the record links and a CRC-32, so a
 * damaged record is detected on read in every adapter (not only where the medium has checksums of its own).
 *
 * Layout: `u8 version (1)`, `u8 link count`, 32 bytes per linked blob id, the value, `u32 CRC-32` (little-endian)
 * of everything before it.
 *
 * @module
 */
import { crc32 } from "./crc32.ts";
import { corrupt } from "./errors.ts";
import { fromHex, toHex } from "./bytes-io.ts";

const VERSION = 1;
const ID_BYTES = 32;

/** Bytes the envelope adds to a value that links `links` blobs. */
export function envelopeOverhead(links: number): number {
  return 2 + ID_BYTES * links + 4;
}

export function sealRecord(value: Uint8Array, blobs: readonly string[]): Uint8Array {
  const out = new Uint8Array(envelopeOverhead(blobs.length) + value.length);
  out[0] = VERSION;
  out[1] = blobs.length;
  let at = 2;
  for (const id of blobs) {
    out.set(fromHex(id), at);
    at += ID_BYTES;
  }
  out.set(value, at);
  at += value.length;
  new DataView(out.buffer).setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/**
 * The value and links inside a stored envelope (the value is a view into `stored`).
 *
 * # Errors
 * `Corrupt` when the envelope is truncated, of an unknown version, or fails its CRC.
 */
export function openRecord(stored: Uint8Array, where: string): { value: Uint8Array; blobs: string[] } {
  if (stored.length < envelopeOverhead(0)) throw corrupt(`record ${where} is truncated (${stored.length} bytes)`);
  const body = stored.subarray(0, stored.length - 4);
  const expected = new DataView(stored.buffer, stored.byteOffset + body.length, 4).getUint32(0, true);
  if (crc32(body) !== expected) throw corrupt(`record ${where} fails its CRC-32`);
  if (body[0] !== VERSION) throw corrupt(`record ${where} has unknown envelope version ${body[0]}`);
  const links = body[1] as number;
  const valueStart = 2 + ID_BYTES * links;
  if (valueStart > body.length) throw corrupt(`record ${where} is truncated inside its blob links`);
  const blobs: string[] = [];
  for (let i = 0; i < links; i++) blobs.push(toHex(body.subarray(2 + ID_BYTES * i, 2 + ID_BYTES * (i + 1))));
  return { value: body.subarray(valueStart), blobs };
}

/** Versionstamps are 20 hex digits, as in Deno KV: a 64-bit commit counter, then a 16-bit batch index (0). */
export function versionstampOf(counter: bigint | number): string {
  return `${BigInt(counter).toString(16).padStart(16, "0")}0000`;
}

const VERSIONSTAMP = /^[0-9a-f]{20}$/;

export function isVersionstamp(s: unknown): s is string {
  return typeof s === "string" && VERSIONSTAMP.test(s);
}
