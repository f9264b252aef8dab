import { Column } from "../../sdk/assemblyscript/arrow/column";
import { ByteWriter } from "../../sdk/assemblyscript/bytes";
import { parseDecimal } from "./numbers";
import { writeNumber } from "./wkt";
// Text helpers for the logical types: WKT points, shortest round-tripping
// numbers, canonical UUIDs.

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d || c == 0x0c || c == 0x0b;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** A cursor over a string for small hand-written parsers. */
export class Scanner {
  pos: i32 = 0;
  constructor(public s: string) {}

  get done(): bool {
    return this.pos >= this.s.length;
  }
  peek(): i32 {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }
  skipSpace(): i32 {
    const start = this.pos;
    while (!this.done && isSpace(this.peek())) this.pos++;
    return this.pos - start;
  }
  /** Consumes `word` case-insensitively (ASCII). */
  word(word: string): bool {
    if (this.s.length - this.pos < word.length) return false;
    for (let i = 0; i < word.length; i++) {
      let c = this.s.charCodeAt(this.pos + i);
      if (c >= 0x61 && c <= 0x7a) c -= 0x20;
      if (c != word.charCodeAt(i)) return false;
    }
    this.pos += word.length;
    return true;
  }
  char(c: i32): bool {
    if (this.peek() != c) return false;
    this.pos++;
    return true;
  }

  /**
   * A decimal number `[+-]digits[.digits][(e|E)[+-]digits]` (also `.5`, `5.`);
   * NaN when none is here. Infinity/NaN spellings are not numbers here.
   */
  number(): f64 {
    const start = this.pos;
    if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
    let digits = 0;
    while (isDigit(this.peek())) {
      this.pos++;
      digits++;
    }
    if (this.peek() == 0x2e) {
      this.pos++;
      while (isDigit(this.peek())) {
        this.pos++;
        digits++;
      }
    }
    if (digits == 0) {
      this.pos = start;
      return NaN;
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      const save = this.pos;
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      let exp = 0;
      while (isDigit(this.peek())) {
        this.pos++;
        exp++;
      }
      if (exp == 0) this.pos = save;
    }
    return parseDecimal(this.s.substring(start, this.pos));
  }
}

/** Parses `POINT(x y)` (case-insensitive, flexible whitespace); null when it is not one. */
export function parseWktPoint(s: string): f64[] | null {
  const sc = new Scanner(s);
  sc.skipSpace();
  if (!sc.word("POINT")) return null;
  sc.skipSpace();
  if (!sc.char(0x28)) return null;
  sc.skipSpace();
  const x = sc.number();
  if (isNaN(x)) return null;
  if (sc.skipSpace() == 0) return null;
  const y = sc.number();
  if (isNaN(y)) return null;
  sc.skipSpace();
  if (!sc.char(0x29)) return null;
  sc.skipSpace();
  if (!sc.done) return null;
  return [x, y];
}

/** Shortest text that parses back to `v`, spelled like JavaScript's `String(v)` (but `-0` stays `-0`). */
export function formatNumber(v: f64): string {
  // the same code as the display columns (wkt.ts), so messages and columns never disagree
  const scratch = new ByteWriter(32);
  writeNumber(scratch, v);
  return String.UTF8.decodeUnsafe(scratch.buf.dataStart, <usize>scratch.length);
}

export function formatWktPoint(x: f64, y: f64): string {
  return `POINT(${formatNumber(x)} ${formatNumber(y)})`;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Parses 8-4-4-4-12 hex (any case), optionally inside `{…}`; null when invalid. */
export function parseUuid(text: string, allowBraces: bool): Uint8Array | null {
  let s = text;
  if (allowBraces && s.length == 38 && s.charCodeAt(0) == 0x7b && s.charCodeAt(37) == 0x7d) s = s.substring(1, 37);
  if (s.length != 36) return null;
  const out = new Uint8Array(16);
  let nibble = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != 0x2d) return null;
      continue;
    }
    const h = hexValue(c);
    if (h < 0) return null;
    const at = nibble >> 1;
    out[at] = (out[at] << 4) | <u8>h;
    nibble++;
  }
  return out;
}

const HEX = "0123456789abcdef";

export function formatUuid(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += "-";
    s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 15);
  }
  return s;
}

/**
 * Text value `i` of a Utf8 column, quoted for an error message: only its first
 * bytes are decoded, so a huge value costs no more than a short one.
 */
export function quoteAt(input: Column, i: i32): string {
  const offsets = changetype<Int32Array>(input.offsets);
  const start = unchecked(offsets[i]);
  const length = unchecked(offsets[i + 1]) - start;
  if (length <= 240) return quote(input.stringAt(i));
  let cut = 240;
  // back up to the start of a UTF-8 sequence so the prefix decodes cleanly
  while (cut > 0 && (load<u8>(input.data.dataStart + <usize>(start + cut)) & 0xc0) == 0x80) cut--;
  return quote(String.UTF8.decodeUnsafe(input.data.dataStart + <usize>start, <usize>cut) + "...");
}

/** A literal quoted for an error message (shortened when long). */
export function quote(s: string): string {
  if (s.length <= 60) return '"' + s + '"';
  // never cut between the two halves of a surrogate pair: a lone surrogate is not valid UTF-8,
  // and a message that is not valid UTF-8 breaks the ABI (the host traps the call)
  let cut = 57;
  const last = s.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return '"' + s.substring(0, cut) + '..."';
}
