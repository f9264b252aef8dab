/** Request bodies → Arrow tables, with every malformed input a RequestError that names what is wrong. */
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, tableFromJSON } from "apache-arrow";
import { RequestError } from "./http-errors.ts";

export async function readJson(req: Request): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await req.json();
  } catch (err) {
    throw new RequestError(`the request body is not JSON: ${(err as Error).message}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new RequestError("the request body must be a JSON object");
  return body as Record<string, unknown>;
}

function vectorsOf(list: unknown[], what: string): { values: Float32Array; dim: number } {
  const first = list[0];
  if (!Array.isArray(first) || first.length === 0)
    throw new RequestError(`${what}[0] must be a non-empty array of numbers`);
  const dim = first.length;
  const values = new Float32Array(list.length * dim);
  list.forEach((v, i) => {
    if (!Array.isArray(v) || v.length !== dim)
      throw new RequestError(`${what}[${i}] must have ${dim} numbers, like ${what}[0]`);
    v.forEach((x, j) => {
      if (typeof x !== "number" || !Number.isFinite(x))
        throw new RequestError(`${what}[${i}][${j}] is not a finite number`);
      values[i * dim + j] = x;
    });
  });
  return { values, dim };
}

function vectorColumn(values: Float32Array, dim: number) {
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** `{ rows: [{ id, vector: number[] }] }` → the `vector.flat` build input. */
export function indexRows(body: Record<string, unknown>): Table {
  const rows = body.rows;
  if (!Array.isArray(rows) || rows.length === 0)
    throw new RequestError("rows must be a non-empty array of { id, vector }");
  const ids = new BigInt64Array(rows.length);
  rows.forEach((r, i) => {
    const id = (r as { id?: unknown })?.id;
    if (typeof id !== "number" || !Number.isSafeInteger(id)) throw new RequestError(`rows[${i}].id must be an integer`);
    ids[i] = BigInt(id);
  });
  const { values, dim } = vectorsOf(
    rows.map((r) => (r as { vector?: unknown }).vector),
    "rows[].vector",
  );
  return new Table({ id: makeVector(ids), vector: vectorColumn(values, dim) });
}

/** `{ vector: number[] }` or `{ vectors: number[][] }` → a probe query table. */
export function queryRows(body: Record<string, unknown>): Table {
  const list = Array.isArray(body.vectors) ? body.vectors : body.vector !== undefined ? [body.vector] : null;
  if (!list || list.length === 0) throw new RequestError("give `vector` (number[]) or `vectors` (number[][])");
  const { values, dim } = vectorsOf(list, "vectors");
  return new Table({ vector: vectorColumn(values, dim) });
}

/** `{ rows: [{...}, ...] }` → a change batch (columns inferred from the objects). */
export function changeRows(body: Record<string, unknown>): Table {
  const rows = body.rows;
  if (!Array.isArray(rows) || rows.length === 0) throw new RequestError("rows must be a non-empty array of objects");
  rows.forEach((r, i) => {
    if (!r || typeof r !== "object" || Array.isArray(r)) throw new RequestError(`rows[${i}] must be an object`);
  });
  try {
    return tableFromJSON(rows as Record<string, unknown>[]);
  } catch (err) {
    throw new RequestError(`rows cannot be made into a change batch: ${(err as Error).message}`);
  }
}

/** The `k` of a search: an integer in 1..1000, default 10. */
export function kOf(body: Record<string, unknown>): number {
  const k = body.k ?? 10;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > 1000)
    throw new RequestError("k must be an integer from 1 to 1000");
  return k;
}
