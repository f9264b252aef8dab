/**
 * JSON request bodies → Arrow tables, the convenience beside Arrow IPC bodies. `vector.flat` gets its exact
 * schema (`id: Int64`, `vector: FixedSizeList<Float32>`); any other index kind and every CDC batch get the columns
 * apache-arrow infers (numbers → Float64, strings → Utf8, booleans → Bool, arrays → List): send Arrow IPC for
 * exact types. Every malformed input is a RequestError naming what is wrong.
 *
 * @module
 */
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import { RequestError } from "./http-errors.ts";

/** The index kind whose JSON bodies are `{ id, vector }` rows and `vector`/`vectors` queries. */
export const VECTOR_KIND = "vector.flat";

function vectorsOf(list: unknown[], what: string): { values: Float32Array; dim: number } {
  const first = list[0];
  if (!Array.isArray(first) || first.length === 0) {
    throw new RequestError(`${what}[0] must be a non-empty array of numbers`);
  }
  const dim = first.length;
  const values = new Float32Array(list.length * dim);
  list.forEach((v, i) => {
    if (!Array.isArray(v) || v.length !== dim) {
      throw new RequestError(`${what}[${i}] must have ${dim} numbers, like ${what}[0]`);
    }
    v.forEach((x, j) => {
      if (typeof x !== "number" || !Number.isFinite(x)) {
        throw new RequestError(`${what}[${i}][${j}] is not a finite number`);
      }
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

function objectRows(rows: unknown, what: string, example: string): Record<string, unknown>[] {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new RequestError(`${what} must be a non-empty array of objects, e.g. ${example}`);
  }
  rows.forEach((r, i) => {
    if (!r || typeof r !== "object" || Array.isArray(r)) throw new RequestError(`${what}[${i}] must be an object`);
  });
  return rows as Record<string, unknown>[];
}

/**
 * Columns from JSON objects: apache-arrow infers each column's type from its values (`vectorFromArray`), except
 * that strings become plain Utf8 rather than the Dictionary<Int32, Utf8> it picks by default, which few plugins
 * read. A key missing from a row is a null there.
 */
function inferred(rows: Record<string, unknown>[], what: string): Table {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (names.length === 0) throw new RequestError(`${what} have no fields: give each row at least one`);
  try {
    const columns = names.map((name) => {
      const values = rows.map((r) => r[name] ?? null);
      const strings = values.every((v) => v === null || typeof v === "string");
      return [name, strings ? vectorFromArray(values, new Utf8()) : vectorFromArray(values)] as const;
    });
    return new Table(Object.fromEntries(columns));
  } catch (err) {
    throw new RequestError(`${what} cannot be made into an Arrow table: ${(err as Error).message}`);
  }
}

/** An index build's rows: `[{ id, vector }]` for `vector.flat`, any objects otherwise. */
export function indexRows(kind: string, body: Record<string, unknown>): Table {
  if (kind !== VECTOR_KIND) {
    return inferred(objectRows(body.rows, "rows", '[{"id": 1, "text": "a"}]'), "rows");
  }
  const rows = objectRows(body.rows, "rows", '[{"id": 1, "vector": [0.1, 0.2]}]');
  const ids = new BigInt64Array(rows.length);
  rows.forEach((r, i) => {
    const id = r.id;
    if (typeof id !== "number" || !Number.isSafeInteger(id)) throw new RequestError(`rows[${i}].id must be an integer`);
    ids[i] = BigInt(id);
  });
  const { values, dim } = vectorsOf(
    rows.map((r) => r.vector),
    "rows[].vector",
  );
  return new Table({ id: makeVector(ids), vector: vectorColumn(values, dim) });
}

/** A probe's queries: `vector` (number[]) or `vectors` (number[][]) for `vector.flat`, `rows` otherwise. */
export function queryRows(kind: string, body: Record<string, unknown>): Table {
  if (kind !== VECTOR_KIND) return inferred(objectRows(body.rows, "rows", '[{"text": "a"}]'), "rows");
  const list = Array.isArray(body.vectors) ? body.vectors : body.vector !== undefined ? [body.vector] : null;
  if (!list || list.length === 0) throw new RequestError("give `vector` (number[]) or `vectors` (number[][])");
  const { values, dim } = vectorsOf(list, "vectors");
  return new Table({ vector: vectorColumn(values, dim) });
}

/** A CDC batch: `{ rows: [{...}, ...] }`, columns inferred from the objects. */
export function changeRows(body: Record<string, unknown>): Table {
  return inferred(objectRows(body.rows, "rows", '[{"id": 1, "op": "insert"}]'), "rows");
}
