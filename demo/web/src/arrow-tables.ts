/** Arrow tables in the shapes the plugins take, built straight from typed arrays (no per-row objects). */
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";

export function vectorColumn(values: Float32Array, dim: number) {
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** The `vector.flat` build input: `id: Int64`, `vector: FixedSizeList[dim]<Float32>`. */
export function indexSource(ids: BigInt64Array, vectors: Float32Array, dim: number): Table {
  return new Table({ id: makeVector(ids), vector: vectorColumn(vectors, dim) });
}

/** A probe query: one `vector` column, one row per query. */
export function queryTable(vectors: Float32Array, dim: number): Table {
  return new Table({ vector: vectorColumn(vectors, dim) });
}

/** A CDC change batch: the rows a user ingested, as the changelog output hands them on. */
export function changeBatch(rows: { id: bigint; category: string; location: string; likes: number }[]): Table {
  return new Table({
    id: makeVector(BigInt64Array.from(rows, (r) => r.id)),
    category: vectorFromArray(
      rows.map((r) => r.category),
      new Utf8(),
    ),
    location: vectorFromArray(
      rows.map((r) => r.location),
      new Utf8(),
    ),
    likes: makeVector(Int32Array.from(rows, (r) => r.likes)),
  });
}

/** x/y pairs of a `FixedSizeList[2]<Float64>` storage column (the geo.point storage type), across chunks. */
export function pointsOf(storage: Table): { x: Float64Array; y: Float64Array } {
  const column = storage.getChildAt(0);
  const n = storage.numRows;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let row = 0;
  for (const data of column?.data ?? []) {
    // The child is sliced along with its parent, so the child's own offset is the whole story.
    const child = data.children[0];
    const values = child?.values as Float64Array;
    const base = child?.offset ?? 0;
    for (let i = 0; i < data.length; i++, row++) {
      x[row] = values[base + 2 * i] as number;
      y[row] = values[base + 2 * i + 1] as number;
    }
  }
  return { x, y };
}
