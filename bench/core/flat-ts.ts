/**
 * The `vector.flat` probe written in plain TypeScript: the baseline the wasm
 * plugin must at least match. Same algorithm as the Rust guest
 * (plugins-wasm/rust/vector-flat): exact brute force, squared L2 summed in four
 * lanes, every row scored, then the k smallest by (distance, id). Written the
 * way a careful TS author would (typed arrays, no allocation per row), so the
 * comparison is against a fair opponent, not a strawman.
 *
 * @module
 */

export interface FlatHits {
  query: Int32Array;
  id: BigInt64Array;
  distance: Float32Array;
}

export class FlatIndexTs {
  /** Scratch: one distance per stored row, reused across queries. */
  private readonly scores: Float32Array;

  constructor(
    readonly ids: BigInt64Array,
    readonly vectors: Float32Array,
    readonly dim: number,
  ) {
    if (vectors.length !== ids.length * dim)
      throw new RangeError("FlatIndexTs: vectors.length must be ids.length * dim");
    this.scores = new Float32Array(ids.length);
  }

  probe(queries: Float32Array, k: number): FlatHits {
    const { dim, vectors, scores } = this;
    const n = this.ids.length;
    const nq = queries.length / dim;
    const take = Math.min(k, n);
    const outQuery = new Int32Array(nq * take);
    const outId = new BigInt64Array(nq * take);
    const outDistance = new Float32Array(nq * take);
    const best = new Int32Array(take); // row numbers of the current k best, sorted
    for (let q = 0; q < nq; q++) {
      const qo = q * dim;
      for (let r = 0; r < n; r++) {
        const ro = r * dim;
        let l0 = 0;
        let l1 = 0;
        let l2 = 0;
        let l3 = 0;
        let j = 0;
        for (; j + 4 <= dim; j += 4) {
          const d0 = (queries[qo + j] as number) - (vectors[ro + j] as number);
          const d1 = (queries[qo + j + 1] as number) - (vectors[ro + j + 1] as number);
          const d2 = (queries[qo + j + 2] as number) - (vectors[ro + j + 2] as number);
          const d3 = (queries[qo + j + 3] as number) - (vectors[ro + j + 3] as number);
          l0 += d0 * d0;
          l1 += d1 * d1;
          l2 += d2 * d2;
          l3 += d3 * d3;
        }
        for (; j < dim; j++) {
          const d = (queries[qo + j] as number) - (vectors[ro + j] as number);
          l0 += d * d;
        }
        scores[r] = l0 + l1 + (l2 + l3);
      }
      const filled = this.selectK(take, best);
      for (let i = 0; i < filled; i++) {
        const at = q * take + i;
        const row = best[i] as number;
        outQuery[at] = q;
        outId[at] = this.ids[row] as bigint;
        outDistance[at] = scores[row] as number;
      }
    }
    return { query: outQuery, id: outId, distance: outDistance };
  }

  /** Insertion into a sorted list of k rows, ordered by (distance, id) as the guest orders them. */
  private selectK(take: number, best: Int32Array): number {
    const { scores, ids } = this;
    let size = 0;
    const before = (a: number, b: number) =>
      (scores[a] as number) < (scores[b] as number) ||
      ((scores[a] as number) === (scores[b] as number) && (ids[a] as bigint) < (ids[b] as bigint));
    for (let r = 0; r < scores.length; r++) {
      if (size === take && !before(r, best[size - 1] as number)) continue;
      let i = size === take ? size - 1 : size++;
      while (i > 0 && before(r, best[i - 1] as number)) {
        best[i] = best[i - 1] as number;
        i--;
      }
      best[i] = r;
    }
    return size;
  }
}
