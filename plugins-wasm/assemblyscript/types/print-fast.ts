// Shortest round-tripping number text (ECMAScript's Number::toString) with
// exact 128-bit integer arithmetic, for the doubles where it fits: normal
// values from ~1e-10 up to 2^64. Everything else goes to the big-integer
// path in numbers.ts, which also defines the result this must reproduce:
//
// Let v = m × 2^e and n with 10^(n−1) <= v < 10^n. For p = 1, 2, … 17 take
// the p-digit truncation d = floor(v × 10^(p−n)) and its successor d + 1;
// the nearer one (ties to an even d) is the answer if it lies in v's rounding
// interval (halfway to each neighbour double; ends included when m is even;
// the lower half is half as wide just above a power of two), else the other
// one if that does. The first p that yields a candidate wins.
//
// Exactness: every quantity is scaled by one common integer factor so that
// v, the digit unit 10^(n−p) and the half-gaps to the neighbours all become
// integers below 2^126, so comparisons between them are exact.
import { ByteWriter } from "../../sdk/assemblyscript/bytes";
import { H, L, add, bitLength, cmp, mul64, shl, shr, sub } from "./u128";

const POW10 = new StaticArray<u64>(20);
const POW5 = new StaticArray<u64>(28);
POW10[0] = 1;
for (let i = 1; i < 20; i++) POW10[i] = POW10[i - 1] * 10;
POW5[0] = 1;
for (let i = 1; i < 28; i++) POW5[i] = POW5[i - 1] * 5; // 5^27 < 2^63

/** The scaled quantities of `scale`: v as A, the unit of digit 17 as P10 × 2^k, the upper half-gap R. */
let Ah: u64 = 0;
let Al: u64 = 0;
let P10: u64 = 1;
let K: i32 = 0;
let Rh: u64 = 0;
let Rl: u64 = 0;
/** floor(v × 10^(17−n)). */
let D17: u64 = 0;

/**
 * Scales v = m × 2^e by 10^q and by 4 (so half-gaps are integers). False
 * when a quantity would not fit (the caller falls back to the exact path).
 */
function scale(m: u64, e: i32, q: i32): bool {
  if (q >= 0) {
    if (q > 27) return false;
    mul64(m, POW5[q]); // v × 10^q = m × 5^q × 2^(q+e)
    const xh = H;
    const xl = L;
    const t = q + e;
    if (t >= 0) {
      if (bitLength(xh, xl) + t + 2 > 125) return false;
      shl(xh, xl, t + 2);
      Ah = H;
      Al = L;
      P10 = 1;
      K = 2;
      shl(0, POW5[q] << 1, t);
      Rh = H;
      Rl = L;
    } else {
      const s = -t;
      if (s + 2 > 125 || bitLength(xh, xl) + 2 > 125) return false;
      shl(xh, xl, 2);
      Ah = H;
      Al = L;
      P10 = 1;
      K = s + 2;
      Rh = 0;
      Rl = POW5[q] << 1;
    }
  } else {
    const g = -q; // v × 10^q = m × 2^e / 10^g
    if (g > 19) return false;
    if (e >= 0) {
      if (e > 11) return false; // m × 2^e must stay below 2^64
      shl(0, m << <u64>e, 2);
      Ah = H;
      Al = L;
      K = 2;
      Rh = 0;
      Rl = <u64>2 << <u64>e;
    } else {
      if (-e > 60) return false;
      Ah = 0;
      Al = m << 2;
      K = 2 - e;
      Rh = 0;
      Rl = 2;
    }
    P10 = POW10[g];
  }
  shr(Ah, Al, K);
  if (H != 0) return false;
  D17 = P10 == 1 ? L : L / P10;
  return true;
}

/** Digits of the chosen candidate, most significant first. */
const digitBuf = new StaticArray<u8>(24);
/** Write cursor of `writeLayout` (an address inside the output buffer, room ensured up front). */
let at: usize = 0;

/** Writes ECMAScript's spelling of 0.D × 10^n (D: k digits, no trailing zeros, below 10^17) to `out`. */
function writeLayout(out: ByteWriter, negative: bool, d: u64, k: i32, n: i32): void {
  // digits right to left; past the low 8 the rest fits in 32 bits (cheaper divisions)
  let pos = k;
  let rest = d;
  if (rest >= 100000000) {
    let low = <u32>(rest % 100000000);
    rest /= 100000000;
    for (let i = 0; i < 8; i++) {
      unchecked((digitBuf[--pos] = <u8>(0x30 + (low % 10))));
      low /= 10;
    }
  }
  let high = <u32>rest;
  while (pos > 0) {
    unchecked((digitBuf[--pos] = <u8>(0x30 + (high % 10))));
    high /= 10;
  }
  // longest output: sign, "0.", 5 zeros, 17 digits; or 21 digits; or d.ddd…e-308
  out.ensure(k + 32);
  at = out.buf.dataStart + <usize>out.length;
  if (negative) put(0x2d);
  if (k <= n && n <= 21) {
    putDigits(0, k);
    for (let i = k; i < n; i++) put(0x30);
  } else if (0 < n && n <= 21) {
    putDigits(0, n);
    put(0x2e);
    putDigits(n, k);
  } else if (-6 < n && n <= 0) {
    put(0x30);
    put(0x2e);
    for (let i = 0; i < -n; i++) put(0x30);
    putDigits(0, k);
  } else {
    putDigits(0, 1);
    if (k > 1) {
      put(0x2e);
      putDigits(1, k);
    }
    put(0x65);
    const x = n - 1;
    put(x < 0 ? 0x2d : 0x2b);
    const ax = <u32>abs(x);
    if (ax >= 100) put(0x30 + ax / 100);
    if (ax >= 10) put(0x30 + ((ax / 10) % 10));
    put(0x30 + (ax % 10));
  }
  out.length = <i32>(at - out.buf.dataStart);
}

@inline
function put(c: u32): void {
  store<u8>(at, <u8>c);
  at++;
}

function putDigits(from: i32, to: i32): void {
  for (let i = from; i < to; i++) put(unchecked(digitBuf[i]));
}

/** Appends candidate `d` (p digits, or 10^p after a carry) for exponent n. */
function emit(out: ByteWriter, negative: bool, d: u64, p: i32, n: i32): void {
  let k = p;
  if (d == POW10[p]) {
    d = 1;
    k = 1;
    n++;
  }
  while (d % 10 == 0) {
    d /= 10;
    k--;
  }
  writeLayout(out, negative, d, k, n);
}

const POW10_F64 = new StaticArray<f64>(23);
POW10_F64[0] = 1;
for (let i = 1; i < 23; i++) POW10_F64[i] = POW10_F64[i - 1] * 10; // exact up to 10^22
/** Below 10^15 a scaled value's double is within 1/16 of it, and units are wide enough (see below). */
const SHORT_LIMIT: f64 = 1e15;

/** Result of `shortCandidate`: the integer s with s × 10^−q reading back as v, or 0. */
let shortDigits: u64 = 0;

/**
 * Whether some decimal s × 10^−q with an integer s reads back as v (v normal,
 * positive). Exact, in double arithmetic. While t = v × 10^q < 10^15 the
 * unit 10^−q exceeds v / 10^15, more than 4.5 times the width of v's
 * rounding interval (at most 2^−52 × v for a normal v), so at most one
 * multiple c of the unit lies inside it, and then |v × 10^q − c| < 0.23;
 * the computed t is one rounding (<= 1/16) away from v × 10^q, so
 * c = nearest(t). Reading s × 10^−q back is Clinger's case (s < 2^53 and
 * 10^|q| exact, |q| <= 22: one correctly rounded operation, ties to even,
 * exactly as parsing does). Returns true also when t >= 10^15 or |q| > 22
 * ("cannot tell": the caller falls back to the 128-bit path).
 */
function shortCandidate(v: f64, q: i32): bool {
  if (q > 22 || q < -22) return true;
  const t = q >= 0 ? v * unchecked(POW10_F64[q]) : v / unchecked(POW10_F64[-q]);
  if (t >= SHORT_LIMIT) return true;
  const s = nearest(t);
  const back = q >= 0 ? s / unchecked(POW10_F64[q]) : s * unchecked(POW10_F64[-q]);
  if (back != v) return false;
  shortDigits = <u64>s;
  return true;
}

/**
 * The common case in double arithmetic only: when the shortest spelling has
 * at most 15 digits (found by `shortCandidate`). "A candidate exists at q" only turns from false to true
 * as q grows (finer units include the coarser ones' multiples), and so does
 * "cannot tell", so a binary search over q finds the coarsest q that works;
 * if that answer is "cannot tell", false (the 128-bit path decides).
 */
function writeShortDouble(out: ByteWriter, negative: bool, v: f64, nUpper: i32): bool {
  // at q0 the unit is >= 10^(n−1): one digit at most; at q0 + 17 the scaled value is >= 10^16 > 2^53
  let lo = 1 - nUpper;
  let hi = lo + 17;
  if (lo < -22) return false;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (shortCandidate(v, mid)) hi = mid;
    else lo = mid + 1;
  }
  shortDigits = 0;
  if (!shortCandidate(v, lo) || shortDigits == 0) return false;
  let d = shortDigits;
  let k = 1;
  while (k < 17 && d >= unchecked(POW10[k])) k++;
  const n = k - lo;
  while (d % 10 == 0) {
    d /= 10;
    k--;
  }
  writeLayout(out, negative, d, k, n);
  return true;
}

/**
 * Appends the shortest round-tripping text of a finite, non-zero double to
 * `out`. Returns false, having written nothing, when the value is outside
 * the fast path's range.
 */
export function writeShortestFast(out: ByteWriter, v: f64): bool {
  const negative = v < 0;
  const bits = reinterpret<u64>(abs(v));
  const biased = <i32>((bits >> 52) & 0x7ff);
  if (biased == 0 || biased == 0x7ff) return false; // subnormal, infinite, NaN
  const fraction = bits & 0xfffffffffffff;
  const m = fraction | (<u64>1 << 52);
  const e = biased - 1075;
  // Just above a power of two the next double down is half as far away.
  const narrowBelow = fraction == 0 && biased > 1;
  const even = (m & 1) == 0;

  // n from a logarithm estimate (log2 v ≈ exponent + fraction, low by at
  // most 0.086), corrected until D17 has exactly 17 digits.
  const log2 = <f64>(biased - 1023) + <f64>fraction * 2.220446049250313e-16; // 2^-52
  let n = <i32>Math.floor(log2 * 0.3010299956639812) + 1;
  if (writeShortDouble(out, negative, abs(v), n + 1)) return true;
  let settled = false;
  for (let tries = 0; tries < 3 && !settled; tries++) {
    if (!scale(m, e, 17 - n)) return false;
    if (D17 >= POW10[17]) n++;
    else if (D17 < POW10[16]) n--;
    else settled = true;
  }
  if (!settled) return false;

  const ah = Ah;
  const al = Al;
  // lower half-gap: R, or R / 2 below a power of two (R is always even)
  const lh = narrowBelow ? Rh >> 1 : Rh;
  const ll = narrowBelow ? (Rl >> 1) | (Rh << 63) : Rl;
  // A cheap lower bound on the length: the interval widened to whole units of
  // digit 17, [lo17, hi17], holds no multiple of 10^(17−p) → no p-digit
  // candidate can be inside the exact interval either, so the exact test
  // below starts at the first p that survives (u64 divisions only).
  sub(ah, al, lh, ll);
  shr(H, L, K);
  if (H != 0) return false;
  const lo17 = P10 == 1 ? L : L / P10;
  add(ah, al, Rh, Rl);
  shr(H, L, K);
  if (H != 0) return false;
  const hi17 = (P10 == 1 ? L : L / P10) + 1;
  // "some multiple of 10^(17−p) lies in [lo17, hi17]" only turns from false
  // to true as p grows (a multiple of 10^(j+1) is a multiple of 10^j):
  // binary search for the first true p.
  let first = 1;
  let last = 17; // always true: lo17 <= D17 <= hi17
  while (first < last) {
    const mid = (first + last) >> 1;
    const pw = POW10[17 - mid];
    if ((hi17 / pw) * pw >= lo17) last = mid;
    else first = mid + 1;
  }
  for (let p = first; p <= 17; p++) {
    const pw = POW10[17 - p];
    const d = D17 / pw;
    // unit of the p-th digit: U = P10 × 10^(17−p) × 2^K; truncation T = d × U
    mul64(P10, pw);
    shl(H, L, K);
    const uh = H;
    const ul = L;
    mul64(d * pw, P10);
    shl(H, L, K);
    sub(ah, al, H, L); // below = A − T, the distance down to d
    const bh = H;
    const bl = L;
    if (bh == 0 && bl == 0) {
      emit(out, negative, d, p, n);
      return true;
    }
    sub(uh, ul, bh, bl); // above = U − below, the distance up to d + 1
    const ch = H;
    const cl = L;
    const downCmp = cmp(bh, bl, lh, ll);
    const upCmp = cmp(ch, cl, Rh, Rl);
    const downOk = even ? downCmp <= 0 : downCmp < 0;
    const upOk = even ? upCmp <= 0 : upCmp < 0;
    if (!downOk && !upOk) continue;
    // nearer candidate; an exact tie rounds to an even digit string
    const toward = cmp(bh, bl, ch, cl);
    const up = toward > 0 || (toward == 0 && (d & 1) == 1);
    if (up ? upOk : downOk) emit(out, negative, up ? d + 1 : d, p, n);
    else emit(out, negative, up ? d : d + 1, p, n);
    return true;
  }
  return false; // 17 digits always identify a double; not reached
}
