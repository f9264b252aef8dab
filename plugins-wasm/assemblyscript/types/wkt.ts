// WKT points read from and written to UTF-8 bytes in place: the row loops
// never build a string for a valid value (strings are only made for error
// messages). Same grammar as text.ts's `parseWktPoint`; every structural
// character is ASCII, so matching bytes is matching characters.
import { ByteWriter } from "../../sdk/assemblyscript/bytes";
import { shortestNumber } from "./numbers";
import { numberEnd, parseNumberAt } from "./parse-fast";
import { writeShortestFast } from "./print-fast";

/** The point the last successful `parseWktPointAt` read. */
export let pointX: f64 = 0;
export let pointY: f64 = 0;

function isSpace(c: u32): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d);
}

function skipSpace(base: usize, pos: i32, end: i32): i32 {
  while (pos < end && isSpace(load<u8>(base + <usize>pos))) pos++;
  return pos;
}

const POINT = "POINT";

/** Parses `POINT(x y)` (case-insensitive, flexible whitespace) from bytes [start, end); false when it is not one. */
export function parseWktPointAt(base: usize, start: i32, end: i32): bool {
  let pos = skipSpace(base, start, end);
  if (end - pos < 5) return false;
  for (let i = 0; i < 5; i++) {
    let c = <u32>load<u8>(base + <usize>(pos + i));
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c != <u32>POINT.charCodeAt(i)) return false;
  }
  pos = skipSpace(base, pos + 5, end);
  if (pos >= end || load<u8>(base + <usize>pos) != 0x28) return false;
  pos = skipSpace(base, pos + 1, end);
  const x = parseNumberAt(base, pos, end);
  if (isNaN(x)) return false;
  const afterX = numberEnd;
  pos = skipSpace(base, afterX, end);
  if (pos == afterX) return false; // the coordinates need whitespace between them
  const y = parseNumberAt(base, pos, end);
  if (isNaN(y)) return false;
  pos = skipSpace(base, numberEnd, end);
  if (pos >= end || load<u8>(base + <usize>pos) != 0x29) return false;
  pos = skipSpace(base, pos + 1, end);
  if (pos != end) return false;
  pointX = x;
  pointY = y;
  return true;
}

/** Appends the shortest round-tripping spelling of `v` (`-0` for negative zero) as ASCII. */
export function writeNumber(out: ByteWriter, v: f64): void {
  if (v == 0) {
    if (reinterpret<u64>(v) >> 63 != 0) out.u8(0x2d);
    out.u8(0x30);
    return;
  }
  if (writeShortestFast(out, v)) return;
  writeAscii(out, shortestNumber(v));
}

function writeAscii(out: ByteWriter, s: string): void {
  out.ensure(s.length);
  for (let i = 0; i < s.length; i++) out.u8(s.charCodeAt(i));
}

/** Appends `POINT(x y)`. */
export function writeWktPoint(out: ByteWriter, x: f64, y: f64): void {
  writeAscii(out, "POINT(");
  writeNumber(out, x);
  out.u8(0x20);
  writeNumber(out, y);
  out.u8(0x29);
}
