// Deterministic contents shared by the crash workload and its checker.

function mix(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h;
}

/** A pair's value: its name padded to 16..215 bytes. */
export function pairValue(round: number, w: number, i: number): string {
  return `${round}:${w}:${i}:`.padEnd(16 + (mix(round, w, i) % 200), "x");
}

/** A blob of 10–300 KB whose bytes depend on (round, w, i). */
export function blobContent(round: number, w: number, i: number): Uint8Array {
  const out = new Uint8Array(10_000 + (mix(round, w, i, 1) % 290_000));
  let x = mix(round, w, i, 2) || 1;
  for (let k = 0; k < out.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[k] = x & 0xff;
  }
  return out;
}

/** The churn record of writer `w`, last written by its pair `i`: about 8 KB. */
export function hotValue(round: number, w: number, i: number): string {
  return `${round}:${w}:${i}:`.padEnd(8000, "h");
}

/** The (round, i) a churn record names. */
export function hotOrigin(value: string): [number, number] {
  const [round, , i] = value.split(":");
  return [Number(round), Number(i)];
}

/** Resource `k`'s snapshot at plugin version `version` (a few KB). */
export function snapshotContent(version: string, k: number): Uint8Array {
  return new TextEncoder().encode(`${version}/${k}:`.padEnd(3000 + k * 1000, "s"));
}
