// Index kinds: build on generated data, persist, open the bytes in a *fresh* instance (as a restart or a hot
// reload does), and require the same probe schema and the same answers to the same queries.
import { ipc, makeTable, plainRows, schemaText, valueArbitrary, arrowType } from "../arrow-gen.mjs";
import { CheckFailure, holds } from "./property.mjs";

/** Source shapes tried, in order, for a kind uni-plugin.json does not describe. */
export const INDEX_SHAPES = [
  { source: { id: "Int64", vector: "FixedSizeList[8]<Float32>" }, query: { vector: "FixedSizeList[8]<Float32>" } },
  { source: { id: "Int64", value: "Float64" }, query: { value: "Float64" } },
  { source: { id: "Int64", text: "Utf8" }, query: { text: "Utf8" } },
  { source: { id: "Int64", value: "Int64" }, query: { value: "Int64" } },
];

export const describeShape = (columns) =>
  Object.entries(columns)
    .map(([n, t]) => `${n}: ${t}`)
    .join(", ");

/** Generated source rows: ids unique (an `id` Int64 column numbers the rows), the rest random. */
export function sourceArbitrary(fc, shape) {
  const columns = Object.entries(shape.source).filter(([name, type]) => !(name === "id" && type === "Int64"));
  const record = fc.record(
    Object.fromEntries(columns.map(([name, type]) => [name, valueArbitrary(fc, arrowType(type))])),
  );
  return fc
    .array(record, { minLength: 1, maxLength: 40 })
    .map((rows) => rows.map((r, i) => ("id" in shape.source ? { id: BigInt(i * 3 + 1), ...r } : r)));
}

/** Queries: half of them copy a source value, so a lost row changes some answer. */
export function queryArbitrary(fc, shape, source) {
  const columns = Object.entries(shape.query).map(([name, type]) => {
    const fresh = valueArbitrary(fc, arrowType(type));
    const fromSource = name in shape.source ? fc.constantFrom(...source.map((r) => r[name])) : fresh;
    return [name, fc.oneof(fromSource, fresh)];
  });
  return fc.array(fc.record(Object.fromEntries(columns)), { minLength: 1, maxLength: 6 });
}

function firstDifference(a, b) {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const [x, y] = [JSON.stringify(a[i] ?? null), JSON.stringify(b[i] ?? null)];
    if (x !== y) return `row ${i}: ${x} before, ${y} after`;
  }
  return "";
}

/**
 * @param {object} ctx
 * @param {typeof import("fast-check").default} ctx.fc
 * @param {import("../runtime.mjs").component.ComponentInstance} ctx.a builds and persists
 * @param {import("../runtime.mjs").component.ComponentInstance} ctx.b opens what `a` persisted
 * @param {import("./calls.mjs").Calls} ctx.calls
 * @returns {Promise<string>} what was checked
 * @throws {CheckFailure}
 */
export async function checkIndexKind({ fc, a, b, calls, kind, sample, seed, numRuns }) {
  let shape = sample;
  const tried = [];
  if (!shape) {
    for (const candidate of INDEX_SHAPES) {
      const [rows] = fc.sample(sourceArbitrary(fc, candidate), { seed, numRuns: 1 });
      const built = calls.attempt("index.build", () =>
        a.index.build(kind, ipc(makeTable(candidate.source, rows)), "{}"),
      );
      if (built.value) {
        built.value.drop();
        shape = candidate;
        break;
      }
      tried.push(`${describeShape(candidate.source)}: ${built.error.message}`);
    }
    if (!shape) {
      throw new CheckFailure(
        `none of the generated source shapes builds a "${kind}" index (${tried.join("; ")})`,
        `describe the data in uni-plugin.json: "samples": { "index": { "${kind}": { "source": { "id": "Int64", … }, "query": { … }, "options": {} } } }`,
      );
    }
  }
  const options = JSON.stringify(shape.options ?? {});
  const property = fc.property(
    sourceArbitrary(fc, shape).chain((source) => fc.tuple(fc.constant(source), queryArbitrary(fc, shape, source))),
    ([source, queries]) => {
      const k = Math.min(source.length, 64);
      const handles = [];
      try {
        const built = calls.run("index.build", () =>
          a.index.build(kind, ipc(makeTable(shape.source, source)), options),
        );
        handles.push(built);
        const query = ipc(makeTable(shape.query, queries));
        const before = plainRows(calls.run("index-handle.probe", () => built.probe(query, k)));
        const schema = schemaText(calls.run("index-handle.schema", () => built.schema()));
        const persisted = calls.run("index-handle.persist", () => built.persist());
        const opened = calls.run("index.open (fresh instance)", () => b.index.open(kind, persisted));
        handles.push(opened);
        const reopenedSchema = schemaText(calls.run("index-handle.schema", () => opened.schema()));
        if (reopenedSchema !== schema) {
          throw new CheckFailure(`after persist → open the probe schema changed from ${schema} to ${reopenedSchema}`);
        }
        const after = plainRows(calls.run("index-handle.probe", () => opened.probe(query, k)));
        const diff = firstDifference(before, after);
        if (diff) {
          throw new CheckFailure(
            `after persist → open (${persisted.length} bytes) the same queries answer differently: ${before.length} rows before, ${after.length} after; first difference at ${diff}`,
            "persist must write everything probe depends on, and open must read all of it back",
          );
        }
      } finally {
        for (const h of handles) {
          try {
            h.drop();
          } catch {
            // reported by the call that failed
          }
        }
      }
    },
  );
  const runs = await holds(fc, property, { seed, numRuns, calls });
  return `persist → open round trip in a fresh instance, identical probes (${runs} generated sources; ${describeShape(shape.source)}${sample ? "" : ", inferred"})`;
}
