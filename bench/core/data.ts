/**
 * Deterministic benchmark data: the same bytes in every runtime and every run
 * (a seeded xorshift, not Math.random), so figures compare like with like.
 *
 * @module
 */
import { Field, FixedSizeList, Float32, Int64, makeData, makeVector, Table } from "apache-arrow";

/** xorshift32 in [0, 1). */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export function randomVectors(rows: number, dim: number, seed: number): Float32Array {
  const next = random(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

/** Standard normal samples (Box-Muller) from a seeded uniform source. */
export function gaussian(seed: number): () => number {
  const uniform = random(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Clusters in the demo's catalogue (demo/web/src/dataset.ts: eight categories). */
export const CLUSTERS = 8;

/**
 * Vectors shaped like the demo's embeddings (demo/web/src/dataset.ts): each row
 * is one of {@link CLUSTERS} centroids plus 0.35 x N(0, 1) noise per dimension.
 * The centroids come from `centroidSeed` alone, so index rows and queries made
 * with different `seed`s share them (queries land near the rows, as in the demo).
 */
export function clusteredVectors(rows: number, dim: number, seed: number, centroidSeed = 7): Float32Array {
  const c = gaussian(centroidSeed);
  const centroids = Float32Array.from({ length: CLUSTERS * dim }, () => c());
  const noise = gaussian(seed);
  const pick = random(seed ^ 0x5bd1e995);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const at = Math.floor(pick() * CLUSTERS) * dim;
    for (let d = 0; d < dim; d++) out[r * dim + d] = (centroids[at + d] as number) + 0.35 * noise();
  }
  return out;
}

export function sequentialIds(rows: number): BigInt64Array {
  const ids = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) ids[i] = BigInt(i);
  return ids;
}

function vectorColumn(values: Float32Array, dim: number) {
  const child = makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** The `vector.flat` source schema: `id: Int64`, `vector: FixedSizeList[dim]<Float32>`. */
export function indexSource(ids: BigInt64Array, vectors: Float32Array, dim: number): Table {
  const id = makeVector(makeData({ type: new Int64(), length: ids.length, nullCount: 0, data: ids }));
  return new Table({ id, vector: vectorColumn(vectors, dim) });
}

/** A query batch: one `vector` column. */
export function queryTable(vectors: Float32Array, dim: number): Table {
  return new Table({ vector: vectorColumn(vectors, dim) });
}

/** Rows of `dim`-d vectors whose persisted `vector.flat` form is about `bytes` long (id + floats per row). */
export function rowsForBytes(bytes: number, dim: number): number {
  return Math.max(1, Math.floor(bytes / (8 + 4 * dim)));
}

export const MiB = 1024 * 1024;
