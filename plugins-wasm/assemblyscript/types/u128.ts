// Just enough unsigned 128-bit arithmetic for exact decimal scaling of a
// double: the fast number paths keep every quantity below 2^126, so nothing
// here needs to detect overflow. A value is a (high, low) pair of u64s;
// results land in `H`/`L` (module registers: AssemblyScript functions return
// one value, and allocating a pair per step would defeat the purpose).

export let H: u64 = 0;
export let L: u64 = 0;

/** (H, L) = a × b, the full 128-bit product. */
export function mul64(a: u64, b: u64): void {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  L = (mid << 32) | (ll & 0xffffffff);
  H = aHi * bHi + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** (H, L) = (h, l) << k, 0 <= k < 128 (bits shifted past 2^128 are lost). */
export function shl(h: u64, l: u64, k: i32): void {
  if (k == 0) {
    H = h;
    L = l;
  } else if (k < 64) {
    H = (h << <u64>k) | (l >> <u64>(64 - k));
    L = l << <u64>k;
  } else {
    H = l << <u64>(k - 64);
    L = 0;
  }
}

/** (H, L) = (h, l) >> k, 0 <= k < 128. */
export function shr(h: u64, l: u64, k: i32): void {
  if (k == 0) {
    H = h;
    L = l;
  } else if (k < 64) {
    L = (l >> <u64>k) | (h << <u64>(64 - k));
    H = h >> <u64>k;
  } else {
    L = h >> <u64>(k - 64);
    H = 0;
  }
}

/** (H, L) = a − b, a >= b. */
export function sub(ah: u64, al: u64, bh: u64, bl: u64): void {
  L = al - bl;
  H = ah - bh - (al < bl ? 1 : 0);
}

/** (H, L) = a + b (no carry out of 2^128: callers stay far below). */
export function add(ah: u64, al: u64, bh: u64, bl: u64): void {
  L = al + bl;
  H = ah + bh + (L < al ? 1 : 0);
}

/** Compares a and b: −1, 0 or 1. */
export function cmp(ah: u64, al: u64, bh: u64, bl: u64): i32 {
  if (ah != bh) return ah < bh ? -1 : 1;
  if (al != bl) return al < bl ? -1 : 1;
  return 0;
}

/** Number of significant bits of (h, l). */
export function bitLength(h: u64, l: u64): i32 {
  return h != 0 ? 128 - <i32>clz(h) : 64 - <i32>clz(l);
}
