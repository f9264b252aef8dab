// Exact number <-> text conversions by big-integer arithmetic: the reference
// definitions, and the fallback of the fast paths (parse-fast.ts: Clinger;
// print-fast.ts: double arithmetic, then 128-bit integers), which take over
// whenever they can prove their answer equals these. Slow (tens of µs) but
// only reached for subnormals, magnitudes beyond ~1e-10 … 2^64 and inputs
// with more than 19 significant digits or large exponents.
// The runtime's own conversions are not good enough:
// f64.toString is Grisu2 (round-trips, often longer than needed) and
// parseFloat misrounds some subnormals.
//
// Shortest round-tripping number text, spelled like ECMAScript's
// Number::toString: the exact decimal expansion of the double (by bignum
// arithmetic), rounded half-even to 1, 2, … 17 significant digits until it
// parses back to the same double. Rounding the exact value gives the closest
// candidate of that length, which is what ECMAScript specifies. (The
// runtime's own f64.toString is Grisu2: it round-trips but is often longer.)

/** Exact decimal digits of |v| (finite, non-zero) and the exponent n with |v| = 0.d1d2… × 10^n. */
class Exact {
  constructor(
    public digits: string,
    public n: i32,
  ) {}
}

/** Little-endian base-1e9 bignum helpers over u32 limbs. */
function mulSmall(limbs: u32[], m: u32): void {
  let carry: u64 = 0;
  for (let i = 0; i < limbs.length; i++) {
    const x = <u64>limbs[i] * <u64>m + carry;
    limbs[i] = <u32>(x % 1000000000);
    carry = x / 1000000000;
  }
  while (carry > 0) {
    limbs.push(<u32>(carry % 1000000000));
    carry /= 1000000000;
  }
}

/** Exact decimal expansion of mant × 2^exp (mant > 0, mant < 2^62). */
function exactDecimal(mant: u64, exp: i32): Exact {
  // For exp < 0, mant × 2^exp = mant × 5^-exp / 10^-exp.
  const limbs: u32[] = [<u32>(mant % 1000000000), <u32>((mant / 1000000000) % 1000000000), <u32>(mant / 1000000000000000000)];
  let scale = 0;
  if (exp >= 0) {
    for (let i = 0; i < exp; i++) mulSmall(limbs, 2);
  } else {
    scale = -exp;
    let k = scale;
    while (k >= 13) {
      mulSmall(limbs, 1220703125); // 5^13
      k -= 13;
    }
    let rest: u32 = 1;
    for (let i = 0; i < k; i++) rest *= 5;
    mulSmall(limbs, rest);
  }
  while (limbs.length > 1 && limbs[limbs.length - 1] == 0) limbs.pop();
  let text = limbs[limbs.length - 1].toString();
  for (let i = limbs.length - 2; i >= 0; i--) text += limbs[i].toString().padStart(9, "0");
  return new Exact(stripZeros(text), text.length - scale);
}

/** Compares decimals 0.a × 10^an and 0.b × 10^bn (normalized: leading digit non-zero, no trailing zeros). */
function compareDecimal(a: string, an: i32, b: string, bn: i32): i32 {
  if (an != bn) return an < bn ? -1 : 1;
  const n = min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d != 0) return d;
  }
  return a.length - b.length;
}

/** Rounds digit string `d` half-even to `p` digits; returns [digits, exponent carry]. */
function roundDigits(d: string, p: i32): string {
  if (d.length <= p) return d;
  const next = d.charCodeAt(p) - 0x30;
  let up = next > 5;
  if (next == 5) {
    let tail = false;
    for (let i = p + 1; i < d.length; i++) if (d.charCodeAt(i) != 0x30) tail = true;
    up = tail || ((d.charCodeAt(p - 1) - 0x30) & 1) == 1;
  }
  if (!up) return d.substring(0, p);
  // increment the p-digit prefix; "999" becomes "1000" (one digit longer: the caller shifts n)
  const chars = new Array<i32>(p);
  for (let i = 0; i < p; i++) chars[i] = d.charCodeAt(i) - 0x30;
  let i = p - 1;
  while (i >= 0) {
    if (chars[i] == 9) {
      chars[i] = 0;
      i--;
    } else {
      chars[i]++;
      break;
    }
  }
  let out = i < 0 ? "1" : "";
  for (let k = 0; k < p; k++) out += String.fromCharCode(0x30 + chars[k]);
  return out;
}

function stripZeros(d: string): string {
  let end = d.length;
  while (end > 1 && d.charCodeAt(end - 1) == 0x30) end--;
  return d.substring(0, end);
}

/** ECMAScript's layout of digits `s` with |v| = 0.s × 10^n. */
function layout(negative: bool, s: string, n: i32): string {
  const k = s.length;
  let out: string;
  if (k <= n && n <= 21) out = s + "0".repeat(n - k);
  else if (0 < n && n <= 21) out = s.substring(0, n) + "." + s.substring(n);
  else if (-6 < n && n <= 0) out = "0." + "0".repeat(-n) + s;
  else {
    const e = n - 1;
    const exp = (e < 0 ? "-" : "+") + abs(e).toString();
    out = (k == 1 ? s : s.substring(0, 1) + "." + s.substring(1)) + "e" + exp;
  }
  return negative ? "-" + out : out;
}

/** A p-digit candidate: digits (normalized) and exponent. */
class Candidate {
  constructor(
    public digits: string,
    public n: i32,
  ) {}
}

/** The p-digit prefix of `d` (zero-padded), rounded toward zero or away from it. */
function candidate(d: string, n: i32, p: i32, up: bool): Candidate {
  let prefix = d.length >= p ? d.substring(0, p) : d + "0".repeat(p - d.length);
  if (!up) return new Candidate(stripZeros(prefix), n);
  const bumped = increment(prefix);
  return new Candidate(stripZeros(bumped), bumped.length > p ? n + 1 : n);
}

function increment(d: string): string {
  const chars = new Array<i32>(d.length);
  for (let i = 0; i < d.length; i++) chars[i] = d.charCodeAt(i) - 0x30;
  let i = d.length - 1;
  while (i >= 0) {
    if (chars[i] == 9) {
      chars[i] = 0;
      i--;
    } else {
      chars[i]++;
      break;
    }
  }
  let out = i < 0 ? "1" : "";
  for (let k = 0; k < d.length; k++) out += String.fromCharCode(0x30 + chars[k]);
  return out;
}

/** Whether `c` reads back as the double whose rounding interval is (low, high). */
function inside(c: Candidate, low: Exact, high: Exact, inclusive: bool): bool {
  const lo = compareDecimal(c.digits, c.n, low.digits, low.n);
  const hi = compareDecimal(c.digits, c.n, high.digits, high.n);
  return inclusive ? lo >= 0 && hi <= 0 : lo > 0 && hi < 0;
}

class Interval {
  constructor(
    public low: Exact,
    public high: Exact,
    /** Parsing rounds half to even, so the ends belong to even mantissas. */
    public inclusive: bool,
  ) {}
}

/** The decimals that read back as the positive double `bits`: halfway to each neighbour. */
function intervalOf(bits: u64): Interval {
  const biased = <i32>((bits >> 52) & 0x7ff);
  let mant = bits & 0xfffffffffffff;
  let exp: i32;
  if (biased == 0) exp = -1074;
  else {
    mant |= <u64>1 << 52;
    exp = biased - 1075;
  }
  const high = exactDecimal(2 * mant + 1, exp - 1);
  // Below a power of two the lower neighbour is half as far away.
  const low = mant == <u64>1 << 52 && biased > 1 ? exactDecimal(4 * mant - 1, exp - 2) : exactDecimal(2 * mant - 1, exp - 1);
  return new Interval(low, high, (mant & 1) == 0);
}

/** Shortest round-tripping text of a finite double (`-0` for negative zero). */
export function shortestNumber(v: f64): string {
  if (v == 0) return (reinterpret<u64>(v) >> 63) != 0 ? "-0" : "0";
  if (!isFinite(v)) return isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  const negative = v < 0;
  const bits = reinterpret<u64>(abs(v));
  const biased = <i32>((bits >> 52) & 0x7ff);
  const mant = biased == 0 ? bits : (bits & 0xfffffffffffff) | (<u64>1 << 52);
  const exact = exactDecimal(mant, biased == 0 ? -1074 : biased - 1075);
  const range = intervalOf(bits);
  for (let p = 1; p <= 17; p++) {
    const rounded = roundDigits(exact.digits, p);
    const roundedUp = rounded != exact.digits.substring(0, p) || rounded.length > p;
    const nearest = candidate(exact.digits, exact.n, p, roundedUp);
    if (inside(nearest, range.low, range.high, range.inclusive)) return layout(negative, nearest.digits, nearest.n);
    const other = candidate(exact.digits, exact.n, p, !roundedUp);
    if (exact.digits.length > p && inside(other, range.low, range.high, range.inclusive)) {
      return layout(negative, other.digits, other.n);
    }
  }
  // 17 significant digits always identify a double; not reached.
  return layout(negative, exact.digits, exact.n);
}

/** Significant digits parseDecimal keeps: more than any double's rounding boundary has (at most 767). */
const MAX_DIGITS = 800;

/**
 * Parses a decimal `[+-]digits[.digits][(e|E)[+-]digits]` (already checked to
 * have that shape) to the nearest double, ties to even: parseFloat's guess,
 * then corrected against the guess's exact rounding interval.
 */
export function parseDecimal(text: string): f64 {
  let i = 0;
  let negative = false;
  if (text.charCodeAt(0) == 0x2d || text.charCodeAt(0) == 0x2b) {
    negative = text.charCodeAt(0) == 0x2d;
    i = 1;
  }
  // One pass, linear in the text: the significant digits (leading zeros
  // skipped) up to MAX_DIGITS, then only whether any later digit is non-zero.
  // Every rounding boundary of a double has fewer significant digits than
  // that, so a sticky 1 after them compares exactly as the full tail would.
  const kept = new Array<i32>();
  let sticky = false;
  let pointAt = -1;
  let count = 0;
  let lead = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) pointAt = count;
    else if (c >= 0x30 && c <= 0x39) {
      count++;
      if (kept.length == 0 && c == 0x30) lead++;
      else if (kept.length < MAX_DIGITS) kept.push(c);
      else if (c != 0x30) sticky = true;
    } else break;
  }
  if (pointAt < 0) pointAt = count;
  let exp = 0;
  if (i < text.length) {
    i++; // e or E
    let expNegative = false;
    if (text.charCodeAt(i) == 0x2d || text.charCodeAt(i) == 0x2b) {
      expNegative = text.charCodeAt(i) == 0x2d;
      i++;
    }
    for (; i < text.length; i++) if (exp < 100000) exp = exp * 10 + (text.charCodeAt(i) - 0x30);
    if (expNegative) exp = -exp;
  }
  // normalize to 0.d × 10^n
  if (kept.length == 0) return negative ? -0.0 : 0.0;
  if (sticky) kept.push(0x31);
  const d = stripZeros(String.fromCharCodes(kept));
  const n = pointAt - lead + exp;
  // parseFloat's guess from a short spelling of the same value (never the whole, possibly huge, text)
  const guessText = `0.${d.length > 24 ? d.substring(0, 24) : d}e${n}`;
  let g = abs(parseFloat(guessText));
  for (let iter = 0; iter < 64; iter++) {
    if (!isFinite(g)) break;
    const bits = reinterpret<u64>(g);
    if (bits == 0) {
      // 0's upper half-interval ends at 2^-1075; a tie there goes to 0 (even)
      const half = exactDecimal(1, -1075);
      if (compareDecimal(d, n, half.digits, half.n) > 0) {
        g = reinterpret<f64>(<u64>1);
        continue;
      }
      break;
    }
    const range = intervalOf(bits);
    const lo = compareDecimal(d, n, range.low.digits, range.low.n);
    const hi = compareDecimal(d, n, range.high.digits, range.high.n);
    if (lo < 0 || (lo == 0 && !range.inclusive)) g = reinterpret<f64>(bits - 1);
    else if (hi > 0 || (hi == 0 && !range.inclusive)) g = reinterpret<f64>(bits + 1);
    else break;
  }
  return negative ? -g : g;
}
