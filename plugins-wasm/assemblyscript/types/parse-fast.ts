// Decimal text -> double straight from UTF-8 bytes. Clinger's fast path: when
// the significant digits form an integer w <= 2^53 and the decimal exponent E
// satisfies |E| <= 22, both w and 10^|E| are exact doubles, so the single
// IEEE multiply or divide w × 10^E (w / 10^−E) is the correctly rounded
// (ties-to-even) result — what Number(text) gives. Anything else goes to the
// big-integer conversion in numbers.ts.
import { parseDecimal } from "./numbers";

/** 10^0 … 10^22, all exact doubles (each product of exact values below 2^53 × 2^k). */
const POW10_F64 = new StaticArray<f64>(23);
POW10_F64[0] = 1;
for (let i = 1; i < 23; i++) POW10_F64[i] = POW10_F64[i - 1] * 10;

const MAX_EXACT: u64 = <u64>1 << 53;

/** Where the last `parseNumberAt` stopped (its end offset when it found a number). */
export let numberEnd: i32 = 0;

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

/**
 * Parses `[+-]digits[.digits][(e|E)[+-]digits]` (also `.5`, `5.`) at byte
 * offset `pos` of the `end`-bounded bytes at `base`; NaN when no number
 * starts there. An `e` without digits after it is not consumed.
 * `numberEnd` is set to the offset after the number.
 */
export function parseNumberAt(base: usize, pos: i32, end: i32): f64 {
  const start = pos;
  let negative = false;
  let c: u32 = pos < end ? load<u8>(base + pos) : 0;
  if (c == 0x2b || c == 0x2d) {
    negative = c == 0x2d;
    pos++;
  }
  let w: u64 = 0;
  let significant = 0; // digits folded into w (leading zeros are not)
  let tooLong = false;
  let scale = 0; // value = w × 10^(scale + exponent)
  let digits = 0;
  while (pos < end && isDigit((c = load<u8>(base + pos)))) {
    digits++;
    pos++;
    if (w == 0 && c == 0x30) continue;
    if (significant < 19) {
      w = w * 10 + (c - 0x30);
      significant++;
    } else {
      tooLong = true;
    }
  }
  if (pos < end && load<u8>(base + pos) == 0x2e) {
    pos++;
    while (pos < end && isDigit((c = load<u8>(base + pos)))) {
      digits++;
      pos++;
      if (w == 0 && c == 0x30) {
        scale--;
        continue;
      }
      if (significant < 19) {
        w = w * 10 + (c - 0x30);
        significant++;
        scale--;
      } else {
        tooLong = true;
      }
    }
  }
  if (digits == 0) {
    numberEnd = start;
    return NaN;
  }
  let exponent = 0;
  if (pos < end && (load<u8>(base + pos) | 0x20) == 0x65) {
    const save = pos;
    pos++;
    let expNegative = false;
    if (pos < end && (load<u8>(base + pos) == 0x2b || load<u8>(base + pos) == 0x2d)) {
      expNegative = load<u8>(base + pos) == 0x2d;
      pos++;
    }
    let expDigits = 0;
    while (pos < end && isDigit((c = load<u8>(base + pos)))) {
      if (exponent < 100000) exponent = exponent * 10 + <i32>(c - 0x30);
      expDigits++;
      pos++;
    }
    if (expDigits == 0) {
      pos = save;
      exponent = 0;
    } else if (expNegative) exponent = -exponent;
  }
  numberEnd = pos;
  if (w == 0) return negative ? -0.0 : 0.0;
  const e10 = scale + exponent;
  if (!tooLong && w <= MAX_EXACT && e10 >= -22 && e10 <= 22) {
    const x = <f64>w;
    const r = e10 >= 0 ? x * unchecked(POW10_F64[e10]) : x / unchecked(POW10_F64[-e10]);
    return negative ? -r : r;
  }
  return parseDecimal(String.UTF8.decodeUnsafe(base + <usize>start, <usize>(pos - start)));
}
