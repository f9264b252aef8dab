// Byte helpers. Every read is bounds-checked by hand: with --noAssert an
// out-of-range load does not trap, it reads garbage, and malformed input must
// become an FnError rather than a wrong answer.

/** A growable byte buffer. */
export class ByteWriter {
  buf: Uint8Array;
  length: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new Uint8Array(max(capacity, 16));
  }

  ensure(extra: i32): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.buf.dataStart, this.length);
    this.buf = next;
  }

  u8(v: u32): void {
    this.ensure(1);
    store<u8>(this.buf.dataStart + this.length, <u8>v);
    this.length += 1;
  }

  u16be(v: u32): void {
    this.ensure(2);
    store<u16>(this.buf.dataStart + this.length, bswap<u16>(<u16>v));
    this.length += 2;
  }

  u32be(v: u32): void {
    this.ensure(4);
    store<u32>(this.buf.dataStart + this.length, bswap<u32>(v));
    this.length += 4;
  }

  u64be(v: u64): void {
    this.ensure(8);
    store<u64>(this.buf.dataStart + this.length, bswap<u64>(v));
    this.length += 8;
  }

  u16le(v: u32): void {
    this.ensure(2);
    store<u16>(this.buf.dataStart + this.length, <u16>v);
    this.length += 2;
  }

  u32le(v: u32): void {
    this.ensure(4);
    store<u32>(this.buf.dataStart + this.length, v);
    this.length += 4;
  }

  u64le(v: u64): void {
    this.ensure(8);
    store<u64>(this.buf.dataStart + this.length, v);
    this.length += 8;
  }

  f64le(v: f64): void {
    this.ensure(8);
    store<f64>(this.buf.dataStart + this.length, v);
    this.length += 8;
  }

  /** Unsigned LEB128. */
  varint(v: u64): void {
    do {
      let byte = <u32>(v & 0x7f);
      v >>= 7;
      if (v != 0) byte |= 0x80;
      this.u8(byte);
    } while (v != 0);
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    memory.copy(this.buf.dataStart + this.length, src.dataStart, src.length);
    this.length += src.length;
  }

  zeros(n: i32): void {
    this.ensure(n);
    memory.fill(this.buf.dataStart + this.length, 0, n);
    this.length += n;
  }

  /** Pads with zeros to a multiple of `align`. */
  align(align: i32): void {
    const rem = this.length % align;
    if (rem != 0) this.zeros(align - rem);
  }

  patchU32le(at: i32, v: u32): void {
    store<u32>(this.buf.dataStart + at, v);
  }

  patchU16le(at: i32, v: u32): void {
    store<u16>(this.buf.dataStart + at, <u16>v);
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A bounds-checked cursor over bytes; the first failure sticks in `error`. */
export class ByteReader {
  pos: i32 = 0;
  error: string | null = null;

  constructor(public data: Uint8Array) {}

  get failed(): bool {
    return this.error != null;
  }

  get remaining(): i32 {
    return this.data.length - this.pos;
  }

  fail(message: string): void {
    if (this.error == null) this.error = message;
  }

  /** True when `n` more bytes exist; records an error otherwise. */
  has(n: i32, what: string): bool {
    if (this.error != null) return false;
    if (n < 0 || n > this.data.length - this.pos) {
      this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.data.length - this.pos} left`);
      return false;
    }
    return true;
  }

  u8(what: string = "byte"): u32 {
    if (!this.has(1, what)) return 0;
    const v = <u32>load<u8>(this.data.dataStart + this.pos);
    this.pos += 1;
    return v;
  }

  u16be(what: string = "u16"): u32 {
    if (!this.has(2, what)) return 0;
    const v = <u32>bswap<u16>(load<u16>(this.data.dataStart + this.pos));
    this.pos += 2;
    return v;
  }

  u32be(what: string = "u32"): u32 {
    if (!this.has(4, what)) return 0;
    const v = bswap<u32>(load<u32>(this.data.dataStart + this.pos));
    this.pos += 4;
    return v;
  }

  u64be(what: string = "u64"): u64 {
    if (!this.has(8, what)) return 0;
    const v = bswap<u64>(load<u64>(this.data.dataStart + this.pos));
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128 of at most 10 bytes that fits in u64. */
  varint(what: string = "varint"): u64 {
    let result: u64 = 0;
    let shift: u32 = 0;
    while (true) {
      const b = this.u8(what);
      if (this.error != null) return 0;
      if (shift == 63 && (b & 0x7e) != 0) {
        this.fail(`${what}: varint overflows 64 bits at offset ${this.pos - 1}`);
        return 0;
      }
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
      if (shift > 63) {
        this.fail(`${what}: varint longer than 10 bytes at offset ${this.pos - 1}`);
        return 0;
      }
    }
  }

  /** A copy of the next `n` bytes. */
  take(n: i32, what: string = "bytes"): Uint8Array {
    if (!this.has(n, what)) return new Uint8Array(0);
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Lexicographic byte comparison: <0, 0, >0. */
export function compareBytes(a: Uint8Array, b: Uint8Array): i32 {
  const n = min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = <i32>unchecked(a[i]);
    const y = <i32>unchecked(b[i]);
    if (x != y) return x - y;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): bool {
  return a.length == b.length && compareBytes(a, b) == 0;
}

/** True when `bytes[start, end)` is well-formed UTF-8 (no surrogates, no overlongs). */
export function isValidUtf8(bytes: Uint8Array, start: i32, end: i32): bool {
  let i = start;
  while (i < end) {
    const b0 = <u32>unchecked(bytes[i]);
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: i32;
    let min: u32;
    let cp: u32;
    if ((b0 & 0xe0) == 0xc0) {
      need = 1;
      min = 0x80;
      cp = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
      need = 2;
      min = 0x800;
      cp = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
      need = 3;
      min = 0x10000;
      cp = b0 & 0x07;
    } else return false;
    if (end - i - 1 < need) return false;
    for (let k = 1; k <= need; k++) {
      const b = <u32>unchecked(bytes[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** UTF-8 bytes of a string (managed copy). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** Decodes UTF-8 known to be valid. */
export function fromUtf8(bytes: Uint8Array, start: i32, end: i32): string {
  return String.UTF8.decodeUnsafe(bytes.dataStart + <usize>start, <usize>(end - start));
}

/** Orders strings by their UTF-8 bytes (what hosts in other languages sort by). */
export function compareUtf8(a: string, b: string): i32 {
  return compareBytes(utf8(a), utf8(b));
}

/** Sorts strings by UTF-8 bytes, in place. */
export function sortUtf8(items: string[]): string[] {
  items.sort((a: string, b: string): i32 => compareUtf8(a, b));
  return items;
}
