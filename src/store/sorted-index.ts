/**
 * An ordered in-memory map from encoded keys to values, for the adapters that keep their records in memory (the
 * memory store, and the file log's index). Keys are held as binary strings (one char per byte) so JavaScript's
 * string order is the bytes' unsigned order; a sorted array of them gives range scans by binary search.
 *
 * @module
 */

/** `bytes` as a string of char codes 0..255, which sorts like the bytes. */
export function byteString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  return s;
}

export class SortedIndex<V> {
  readonly #map = new Map<string, V>();
  #sorted: string[] = [];

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (!this.#map.has(key)) this.#sorted.splice(this.#lowerBound(key), 0, key);
    this.#map.set(key, value);
  }

  delete(key: string): boolean {
    if (!this.#map.delete(key)) return false;
    this.#sorted.splice(this.#lowerBound(key), 1);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#sorted = [];
  }

  /** The first position whose key is >= `key`. */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#sorted[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Up to `limit` values with `lo <= key < hi`, ascending (or descending when `reverse`). */
  range(lo: string, hi: string, reverse: boolean, limit: number): V[] {
    const from = this.#lowerBound(lo);
    const to = this.#lowerBound(hi);
    const out: V[] = [];
    if (reverse) {
      for (let i = to - 1; i >= from && out.length < limit; i--)
        out.push(this.#map.get(this.#sorted[i] as string) as V);
    } else {
      for (let i = from; i < to && out.length < limit; i++) out.push(this.#map.get(this.#sorted[i] as string) as V);
    }
    return out;
  }

  /** Every value in key order. */
  values(): V[] {
    return this.#sorted.map((k) => this.#map.get(k) as V);
  }
}
