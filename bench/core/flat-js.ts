/**
 * The `vector.flat` probe in plain JavaScript, written as a good JS engineer
 * would: the baseline the wasm plugin must at least match.
 *
 * Same work as the Rust guest (plugins-wasm/rust/vector-flat): exact brute
 * force, squared L2 summed in four lanes, the k smallest by (distance, id).
 * Like the guest, it scores several queries per pass over the rows: four
 * queries share every read of a row element (register blocking), rows go in
 * tiles of 256 whose scores stay in L1, and each query keeps its k best in a
 * bounded max-heap that most rows never touch (one compare against the
 * current worst). Nothing is allocated per row or per query.
 * Distances accumulate in float64 (JS numbers); the guest uses float32, so
 * near-ties may order differently (the benchmark allows for that).
 *
 * @module
 */

export interface FlatHits {
  query: Int32Array;
  id: BigInt64Array;
  distance: Float32Array;
}

/** Rows scored per tile before the selection pass (the tile's scores stay in L1). */
const TILE = 256;
/** Queries scored together per read of a row (register blocking). */
const GROUP = 4;

export class FlatIndexJs {
  /** The ids as numbers (exact below 2^53), so the tie-break compares doubles, not bigints. */
  private readonly idNum: Float64Array;

  /**
   * # Errors
   * RangeError when `vectors.length !== ids.length * dim`.
   */
  constructor(
    readonly ids: BigInt64Array,
    readonly vectors: Float32Array,
    readonly dim: number,
  ) {
    if (vectors.length !== ids.length * dim)
      throw new RangeError("FlatIndexJs: vectors.length must be ids.length * dim");
    this.idNum = Float64Array.from(ids, (id) => Number(id));
  }

  probe(queries: Float32Array, k: number): FlatHits {
    const n = this.idNum.length;
    const nq = queries.length / this.dim;
    const take = Math.min(k, n);
    const out: FlatHits = {
      query: new Int32Array(nq * take),
      id: new BigInt64Array(nq * take),
      distance: new Float32Array(nq * take),
    };
    // Per query of a group: a max-heap of `take` (distance, row), worst on top.
    const heapDist = new Float64Array(GROUP * take);
    const heapRow = new Int32Array(GROUP * take);
    const size = new Int32Array(GROUP);
    const scores = new Float64Array(GROUP * TILE);
    for (let q0 = 0; q0 < nq; ) {
      const group = nq - q0 >= GROUP ? GROUP : 1;
      size.fill(0);
      for (let r0 = 0; r0 < n; r0 += TILE) {
        const nr = Math.min(TILE, n - r0);
        if (group === GROUP) this.score4(queries, q0, r0, nr, scores);
        else this.score1(queries, q0, r0, nr, scores);
        for (let b = 0; b < group; b++)
          this.select(scores, b * TILE, r0, nr, heapDist, heapRow, b * take, take, size, b);
      }
      for (let b = 0; b < group; b++) this.emit(q0 + b, heapDist, heapRow, b * take, size[b] as number, take, out);
      q0 += group;
    }
    return out;
  }

  /** Squared L2 of four queries against rows [r0, r0 + nr): each row element is read once for all four. */
  private score4(queries: Float32Array, q0: number, r0: number, nr: number, scores: Float64Array): void {
    const { dim, vectors } = this;
    const qa = q0 * dim;
    const qb = qa + dim;
    const qc = qb + dim;
    const qd = qc + dim;
    for (let i = 0; i < nr; i++) {
      const ro = (r0 + i) * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < dim; j++) {
        const x = vectors[ro + j] as number;
        const a = (queries[qa + j] as number) - x;
        const b = (queries[qb + j] as number) - x;
        const c = (queries[qc + j] as number) - x;
        const d = (queries[qd + j] as number) - x;
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += d * d;
      }
      scores[i] = s0;
      scores[TILE + i] = s1;
      scores[2 * TILE + i] = s2;
      scores[3 * TILE + i] = s3;
    }
  }

  /** Squared L2 of one query against rows [r0, r0 + nr), summed in four lanes as the guest does. */
  private score1(queries: Float32Array, q0: number, r0: number, nr: number, scores: Float64Array): void {
    const { dim, vectors } = this;
    const qo = q0 * dim;
    const dim4 = dim & ~3;
    for (let i = 0; i < nr; i++) {
      const ro = (r0 + i) * dim;
      let l0 = 0;
      let l1 = 0;
      let l2 = 0;
      let l3 = 0;
      let j = 0;
      for (; j < dim4; j += 4) {
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
      scores[i] = l0 + l1 + (l2 + l3);
    }
  }

  /** Offers a tile's scores to one query's heap; most rows fail the cheap check against the current worst. */
  private select(
    scores: Float64Array,
    at: number,
    r0: number,
    nr: number,
    hd: Float64Array,
    hr: Int32Array,
    h: number,
    take: number,
    size: Int32Array,
    b: number,
  ): void {
    const ids = this.idNum;
    let s = size[b] as number;
    let worst = s === take ? (hd[h] as number) : Number.POSITIVE_INFINITY;
    for (let i = 0; i < nr; i++) {
      const dist = scores[at + i] as number;
      if (dist > worst) continue;
      const row = r0 + i;
      if (s < take) {
        siftUp(hd, hr, ids, h, s, dist, row);
        s++;
        if (s === take) worst = hd[h] as number;
      } else if (dist < worst || (ids[row] as number) < (ids[hr[h] as number] as number)) {
        siftDown(hd, hr, ids, h, take, dist, row);
        worst = hd[h] as number;
      }
    }
    size[b] = s;
  }

  /** Pops a query's heap worst-first into the output back to front: best first, as the guest orders. */
  private emit(
    q: number,
    hd: Float64Array,
    hr: Int32Array,
    h: number,
    filled: number,
    take: number,
    out: FlatHits,
  ): void {
    let s = filled;
    while (s > 0) {
      const at = q * take + s - 1;
      out.query[at] = q;
      out.id[at] = this.ids[hr[h] as number] as bigint;
      out.distance[at] = hd[h] as number;
      s--;
      if (s > 0) siftDown(hd, hr, this.idNum, h, s, hd[h + s] as number, hr[h + s] as number);
    }
  }
}

/** a is worse than b: larger distance, or equal distance and larger id. */
function worse(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}

/** Inserts (dist, row) at slot `s` of the heap at offset `h` and restores the max-heap order. */
function siftUp(hd: Float64Array, hr: Int32Array, ids: Float64Array, h: number, s: number, dist: number, row: number) {
  let i = s;
  const id = ids[row] as number;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(dist, id, hd[h + p] as number, ids[hr[h + p] as number] as number)) break;
    hd[h + i] = hd[h + p] as number;
    hr[h + i] = hr[h + p] as number;
    i = p;
  }
  hd[h + i] = dist;
  hr[h + i] = row;
}

/** Replaces the top of a heap of `size` entries with (dist, row) and sifts it down. */
function siftDown(
  hd: Float64Array,
  hr: Int32Array,
  ids: Float64Array,
  h: number,
  size: number,
  dist: number,
  row: number,
) {
  const id = ids[row] as number;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let c = l;
    const r = l + 1;
    if (
      r < size &&
      worse(
        hd[h + r] as number,
        ids[hr[h + r] as number] as number,
        hd[h + l] as number,
        ids[hr[h + l] as number] as number,
      )
    )
      c = r;
    if (!worse(hd[h + c] as number, ids[hr[h + c] as number] as number, dist, id)) break;
    hd[h + i] = hd[h + c] as number;
    hr[h + i] = hr[h + c] as number;
    i = c;
  }
  hd[h + i] = dist;
  hr[h + i] = row;
}
