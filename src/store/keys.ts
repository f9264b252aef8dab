/**
 * Keys as bytes whose unsigned lexicographic order is the key order (a tuple encoding in the manner of
 * FoundationDB's, which Deno KV also uses): byte-ordered adapters (memory, file log, IndexedDB) store these
 * bytes; Deno KV takes the parts themselves and orders them the same way.
 *
 * Part encodings, each starting with a type byte so that string < bigint < number:
 * - string `0x02`: UTF-8 with each `0x00` written `0x00 0xFF`, then a `0x00` terminator;
 * - bigint `0x0b`..`0x1d`: `0x14` is zero; `0x14 ± n` is a positive/negative value of n ≤ 8 big-endian bytes
 *   (negatives as one's complement); `0x1d len`/`0x0b ~len` for longer magnitudes (up to 255 bytes);
 * - number `0x21`: the IEEE 754 double, big-endian, sign bit flipped (all bits flipped for negatives).
 * No encoded key contains `0xFF` at a part boundary, so `prefix + 0xFF` bounds every key under a prefix.
 *
 * @module
 */
import { invalid } from "./errors.ts";
import type { Key, KeyPart } from "./types.ts";

const STRING = 0x02;
const INT_ZERO = 0x14;
const INT_NEG_LONG = 0x0b;
const INT_POS_LONG = 0x1d;
const DOUBLE = 0x21;
const MAX_BIGINT_BYTES = 255;
/** With the `u` flag a paired surrogate is one code point, so only lone ones match. */
const LONE_SURROGATE = /\p{Cs}/u;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Renders a key for messages: `["a", 1, 2n]`. */
export function showKey(key: Key): string {
  return `[${key.map((p) => (typeof p === "bigint" ? `${p}n` : JSON.stringify(p))).join(", ")}]`;
}

/**
 * Checks a key's parts and returns it normalized (`-0` becomes `0`).
 *
 * # Errors
 * `TypeCoercion` for a non-array, a part that is not a string/number/bigint, NaN, or a string with lone surrogates.
 */
export function normalizeKey(key: unknown, what = "key"): Key {
  if (!Array.isArray(key)) throw invalid(`${what} must be an array of strings, numbers and bigints`);
  let out: KeyPart[] | undefined;
  for (let i = 0; i < key.length; i++) {
    const part: unknown = key[i];
    if (typeof part === "string") {
      if (LONE_SURROGATE.test(part))
        throw invalid(`${what} part ${i} is a string with a lone surrogate (not representable in UTF-8)`);
    } else if (typeof part === "number") {
      if (Number.isNaN(part)) throw invalid(`${what} part ${i} is NaN`);
      if (Object.is(part, -0)) {
        out ??= key.slice();
        out[i] = 0;
      }
    } else if (typeof part !== "bigint") {
      throw invalid(`${what} part ${i} is ${part === null ? "null" : typeof part}: use strings, numbers and bigints`);
    }
  }
  return (out ?? key) as Key;
}

/** The encoded bytes of a normalized key. */
export function encodeKey(key: Key): Uint8Array {
  const out: number[] = [];
  for (const part of key) {
    if (typeof part === "string") encodeString(part, out);
    else if (typeof part === "bigint") encodeBigint(part, out);
    else encodeNumber(part, out);
  }
  return Uint8Array.from(out);
}

function encodeString(s: string, out: number[]): void {
  out.push(STRING);
  for (const b of encoder.encode(s)) {
    out.push(b);
    if (b === 0) out.push(0xff);
  }
  out.push(0);
}

function magnitudeBytes(m: bigint): number[] {
  const bytes: number[] = [];
  while (m > 0n) {
    bytes.unshift(Number(m & 0xffn));
    m >>= 8n;
  }
  return bytes;
}

function encodeBigint(n: bigint, out: number[]): void {
  if (n === 0n) {
    out.push(INT_ZERO);
    return;
  }
  const bytes = magnitudeBytes(n < 0n ? -n : n);
  if (bytes.length > MAX_BIGINT_BYTES) throw invalid(`a bigint key part is longer than ${MAX_BIGINT_BYTES} bytes`);
  if (n > 0n) {
    if (bytes.length <= 8) out.push(INT_ZERO + bytes.length);
    else out.push(INT_POS_LONG, bytes.length);
    out.push(...bytes);
  } else {
    if (bytes.length <= 8) out.push(INT_ZERO - bytes.length);
    else out.push(INT_NEG_LONG, bytes.length ^ 0xff);
    for (const b of bytes) out.push(b ^ 0xff);
  }
}

function encodeNumber(x: number, out: number[]): void {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const negative = (view.getUint8(0) & 0x80) !== 0;
  out.push(DOUBLE);
  for (let i = 0; i < 8; i++) {
    const b = view.getUint8(i);
    out.push(negative ? b ^ 0xff : i === 0 ? b ^ 0x80 : b);
  }
}

/**
 * The key encoded in `bytes`.
 *
 * # Errors
 * `Corrupt`-worthy input throws `TypeCoercion` here; callers reading stored keys wrap it.
 */
export function decodeKey(bytes: Uint8Array): Key {
  const parts: KeyPart[] = [];
  let i = 0;
  const need = (n: number) => {
    if (i + n > bytes.length) throw invalid("truncated key bytes");
  };
  while (i < bytes.length) {
    const tag = bytes[i++] as number;
    if (tag === STRING) {
      const raw: number[] = [];
      for (;;) {
        need(1);
        const b = bytes[i++] as number;
        if (b !== 0) raw.push(b);
        else if (bytes[i] === 0xff) {
          raw.push(0);
          i++;
        } else break;
      }
      parts.push(decoder.decode(Uint8Array.from(raw)));
    } else if (tag === DOUBLE) {
      need(8);
      const view = new DataView(new ArrayBuffer(8));
      const negative = ((bytes[i] as number) & 0x80) === 0;
      for (let j = 0; j < 8; j++) {
        const b = bytes[i + j] as number;
        view.setUint8(j, negative ? b ^ 0xff : j === 0 ? b ^ 0x80 : b);
      }
      i += 8;
      parts.push(view.getFloat64(0));
    } else if (tag >= INT_NEG_LONG && tag <= INT_POS_LONG) {
      let len: number;
      const negative = tag < INT_ZERO;
      if (tag === INT_POS_LONG || tag === INT_NEG_LONG) {
        need(1);
        len = negative ? (bytes[i++] as number) ^ 0xff : (bytes[i++] as number);
      } else len = Math.abs(tag - INT_ZERO);
      need(len);
      let m = 0n;
      for (let j = 0; j < len; j++) m = (m << 8n) | BigInt(negative ? (bytes[i + j] as number) ^ 0xff : bytes[i + j]);
      i += len;
      parts.push(negative ? -m : m);
    } else {
      throw invalid(`unknown key part tag 0x${tag.toString(16)}`);
    }
  }
  return parts;
}

/** Unsigned lexicographic comparison of byte strings (the key order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** `bytes` followed by one more byte. */
export function withByte(bytes: Uint8Array, byte: number): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = byte;
  return out;
}

/** Whether `key` starts with every part of `prefix`. */
export function hasPrefix(key: Key, prefix: Key): boolean {
  if (prefix.length > key.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const a = key[i];
    const b = prefix[i];
    if (typeof a !== typeof b || a !== b) return false;
  }
  return true;
}
