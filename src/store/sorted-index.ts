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

/** Keys per block: inserts move at most this many entries, lookups search blocks then one block. */
const BLOCK = 512;

/**
 * Keys in sorted blocks of at most {@link BLOCK} (a one-level B-tree): an insert in the middle of a million keys
 * moves a few hundred array slots, not a million.
 */
export class SortedIndex<V> {
  readonly #map = new Map<string, V>();
  /** Non-empty sorted blocks, in order; every key of a block is below every key of the next. */
  #blocks: string[][] = [];

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    if (!this.#map.has(key)) this.#insert(key);
    this.#map.set(key, value);
  }

  delete(key: string): boolean {
    if (!this.#map.delete(key)) return false;
    const b = this.#blockOf(key);
    const block = this.#blocks[b] as string[];
    block.splice(lowerBound(block, key), 1);
    if (block.length === 0) this.#blocks.splice(b, 1);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#blocks = [];
  }

  /** The block that holds `key` or would: the first whose last key is >= `key` (or the last block). */
  #blockOf(key: string): number {
    let lo = 0;
    let hi = this.#blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = this.#blocks[mid] as string[];
      if ((block[block.length - 1] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(key: string): void {
    if (this.#blocks.length === 0) {
      this.#blocks.push([key]);
      return;
    }
    const b = this.#blockOf(key);
    const block = this.#blocks[b] as string[];
    block.splice(lowerBound(block, key), 0, key);
    if (block.length > BLOCK) this.#blocks.splice(b + 1, 0, block.splice(BLOCK >>> 1));
  }

  /** Up to `limit` values with `lo <= key < hi`, ascending (or descending when `reverse`). */
  range(lo: string, hi: string, reverse: boolean, limit: number): V[] {
    const out: V[] = [];
    if (this.#blocks.length === 0 || limit <= 0) return out;
    if (!reverse) {
      for (let b = this.#blockOf(lo); b < this.#blocks.length; b++) {
        const block = this.#blocks[b] as string[];
        for (let i = lowerBound(block, lo); i < block.length; i++) {
          const k = block[i] as string;
          if (k >= hi || out.length >= limit) return out;
          out.push(this.#map.get(k) as V);
        }
      }
      return out;
    }
    for (let b = this.#blockOf(hi); b >= 0; b--) {
      const block = this.#blocks[b] as string[];
      for (let i = lowerBound(block, hi) - 1; i >= 0; i--) {
        const k = block[i] as string;
        if (k < lo || out.length >= limit) return out;
        out.push(this.#map.get(k) as V);
      }
    }
    return out;
  }

  /** Every value in key order. */
  values(): V[] {
    const out: V[] = [];
    for (const block of this.#blocks) for (const k of block) out.push(this.#map.get(k) as V);
    return out;
  }
}

/** The first position in sorted `keys` whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
