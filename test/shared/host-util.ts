// Helpers for the host-*.test.ts files: runtime-neutral (no node: imports), chai `expect` from #test.
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, type Vector } from "apache-arrow";
import { expect } from "#test";
import type { PluginHost } from "../../src/mod.ts";

export { type Expected, expectPluginError, expectRejects, expectThrows } from "../support/errors.ts";

/** Asserts the host holds no plugin and no registry key: what every refused load must leave behind. */
export function expectNothingRegistered(
  host: PluginHost,
  keys: readonly [Parameters<PluginHost["provider"]>[0], string][],
): void {
  expect(host.plugins()).to.deep.equal([]);
  for (const [surface, key] of keys) expect(host.provider(surface, key), `${surface} "${key}"`).to.equal(undefined);
}

/** The runtime the shared suite runs in, for the few cases that differ (file paths, http URLs). */
export function runtime(): "deno" | "node" | "browser" {
  const g = globalThis as { Deno?: unknown; document?: unknown };
  // Deno first: Deno 2 also defines `process`. The page has a document; Node and Deno have none.
  if (g.Deno !== undefined) return "deno";
  return g.document === undefined ? "node" : "browser";
}

/** Deterministic pseudo-random numbers in [-1, 1), rounded to f32 (what the plugin stores). */
export function seededFloats(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // Numerical Recipes LCG
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A FixedSizeList[dim]<Float32> vector over row-major `values`. */
export function vectorColumn(values: Float32Array, dim: number): Vector {
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** The `vector.flat` source schema: `id: Int64`, `vector: FixedSizeList[dim]<Float32>`. */
export function vectorTable(ids: readonly bigint[], values: Float32Array, dim: number): Table {
  return new Table({ id: makeVector(BigInt64Array.from(ids)), vector: vectorColumn(values, dim) });
}

/** One probe hit as the test computes it. */
export interface Hit {
  query: number;
  id: bigint;
  distance: number;
}

/** Rows of a probe result table as plain hits. */
export function hitsOf(table: Table): Hit[] {
  return table.toArray().map((row) => ({
    query: Number(row.query),
    id: BigInt(row.id),
    distance: Number(row.distance),
  }));
}
