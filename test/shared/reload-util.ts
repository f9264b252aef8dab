// Shared helpers for the reload suites: seeded data, Arrow tables, and assertions on ReloadError.
import { Field, FixedSizeList, Float32, makeData, makeVector, Table } from "apache-arrow";
import { expect } from "#test";
import { type CdcEmit, PluginHost, type PluginHandle } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function vectorColumn(values: Float32Array, dim: number) {
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

/** `rows` random vectors of `dim` with ids 1000.. (id: Int64, vector: FixedSizeList<Float32>). */
export function vectorTable(rows: number, dim: number, seed: number): Table {
  const next = rng(seed);
  const values = Float32Array.from({ length: rows * dim }, () => next() * 2 - 1);
  const ids = BigInt64Array.from({ length: rows }, (_, i) => BigInt(1000 + i));
  return new Table({ id: makeVector(ids), vector: vectorColumn(values, dim) });
}

export function queryTable(rows: number, dim: number, seed: number): Table {
  const next = rng(seed);
  return new Table({
    vector: vectorColumn(
      Float32Array.from({ length: rows * dim }, () => next() * 2 - 1),
      dim,
    ),
  });
}

/** A probe result as plain rows, for exact comparison. */
export function rowsOf(t: Table): Array<Record<string, unknown>> {
  return t.toArray().map((r) => ({ ...r.toJSON() }));
}

const cache = new Map<string, Uint8Array>();
/** Sample component bytes, read once per file. */
export async function plugin(name: string): Promise<Uint8Array> {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = await loadPlugin(name);
    cache.set(name, bytes);
  }
  return bytes;
}

export async function hostWith(name: string): Promise<{ host: PluginHost; handle: PluginHandle }> {
  const host = new PluginHost({ onLog: () => {} });
  const handle = await host.load(await plugin(name));
  return { host, handle };
}

export { refused } from "../support/errors.ts";

/** Every LSN in [from, to) reached the sink exactly once, in order. */
export function expectContiguous(emits: readonly CdcEmit[], from: bigint, to: bigint): void {
  let next = from;
  for (const e of emits) {
    expect(e.lsnStart, `emit ${e.lsnStart}..${e.lsnEnd} by v${e.version}`).to.equal(next);
    expect(e.lsnEnd > e.lsnStart).to.equal(true);
    next = e.lsnEnd;
  }
  expect(next).to.equal(to);
}
