/**
 * The Rust `vector.flat` components (v1 scalar, v2 simd128, v2-incompatible)
 * loaded from plugins-wasm/dist through jco, checked against a plain
 * TypeScript brute force.
 */
import {
  Field,
  FixedSizeList,
  Float32,
  Int64,
  makeData,
  makeVector,
  RecordBatchReader,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { fnErrorOf, instantiateComponent, recordingHostLog } from "./support/transpile.ts";

// ---- the component's surface, as jco exposes it ----
interface IndexHandle {
  probe(query: Uint8Array, k: number): Uint8Array;
  supportsFilter(): boolean;
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array): Uint8Array;
  persist(): Uint8Array;
  schema(): Uint8Array;
}
interface IndexPlugin {
  manifest(): string;
  index: {
    kinds(): string[];
    build(kind: string, source: Uint8Array, optionsJson: string): IndexHandle;
    open(kind: string, persisted: Uint8Array): IndexHandle;
  };
}
const load = (file: string) => instantiateComponent<IndexPlugin>(file, { "uni:plugin/host-log": recordingHostLog() });

// ---- Arrow inputs ----
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
function randomVectors(n: number, d: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n * d }, () => next() * 2 - 1);
}
function vectorColumn(values: Float32Array, d: number, nullRows: number[] = []) {
  const n = values.length / d;
  const type = new FixedSizeList(d, new Field("item", new Float32(), true));
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  if (!nullRows.length) return makeVector(makeData({ type, length: n, child }));
  const bitmap = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  for (const r of nullRows) bitmap[r >> 3] &= ~(1 << (r & 7));
  return makeVector(makeData({ type, length: n, child, nullCount: nullRows.length, nullBitmap: bitmap }));
}
function sourceIpc(ids: bigint[], values: Float32Array, d: number, nullRows: number[] = []): Uint8Array {
  return tableToIPC(
    new Table({ id: makeVector(BigInt64Array.from(ids)), vector: vectorColumn(values, d, nullRows) }),
    "stream",
  );
}
function queryIpc(values: Float32Array, d: number, name = "vector"): Uint8Array {
  return tableToIPC(new Table({ [name]: vectorColumn(values, d) }), "stream");
}
interface Hit {
  query: number;
  id: bigint;
  distance: number;
}
function hits(ipc: Uint8Array): Hit[] {
  const t = tableFromIPC(ipc);
  expect(t.schema.fields.map(String)).toEqual(["query: Int32", "id: Int64", "distance: Float32"]);
  return t.toArray().map((r) => ({ query: r.query as number, id: r.id as bigint, distance: r.distance as number }));
}

// ---- the reference: the documented summation order, in f32 via Math.fround ----
const f = Math.fround;
function lanes(a: Float32Array, b: Float32Array, term: (x: number, y: number) => number): number {
  const l = [0, 0, 0, 0];
  for (let i = 0; i < a.length; i++) l[i % 4] = f(l[i % 4] + term(a[i], b[i]));
  return f(f(l[0] + l[1]) + f(l[2] + l[3]));
}
const l2 = (a: Float32Array, b: Float32Array) => lanes(a, b, (x, y) => f(f(x - y) * f(x - y)));
function cosine(a: Float32Array, b: Float32Array): number {
  const dot = lanes(a, b, (x, y) => f(x * y));
  const na = lanes(a, a, (x, y) => f(x * y));
  const nb = lanes(b, b, (x, y) => f(x * y));
  if (na === 0 || nb === 0) return 1;
  return f(1 - f(dot / f(f(Math.sqrt(na)) * f(Math.sqrt(nb)))));
}
function bruteForce(
  ids: bigint[],
  values: Float32Array,
  queries: Float32Array,
  d: number,
  k: number,
  metric: (a: Float32Array, b: Float32Array) => number,
  keep: (row: number) => boolean = () => true,
): Hit[] {
  const out: Hit[] = [];
  for (let q = 0; q < queries.length / d; q++) {
    const qv = queries.subarray(q * d, (q + 1) * d);
    const scored = ids
      .map((id, r) => ({ query: q, id, distance: metric(qv, values.subarray(r * d, (r + 1) * d)), r }))
      .filter((h) => keep(h.r))
      .sort((x, y) => x.distance - y.distance || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    out.push(...scored.slice(0, k).map(({ query, id, distance }) => ({ query, id, distance })));
  }
  return out;
}
function expectSameHits(actual: Hit[], expected: Hit[]) {
  expect(actual.map((h) => [h.query, h.id])).toEqual(expected.map((h) => [h.query, h.id]));
  for (const [i, h] of actual.entries()) expect(h.distance).toBeCloseTo(expected[i].distance, 5);
}

// A data set with duplicate vectors (distance ties broken by id) and a dim
// that is not a multiple of 4 (the tail lanes).
const d = 13;
const n = 400;
const values = randomVectors(n, d, 7);
values.copyWithin(10 * d, 3 * d, 4 * d); // row 10 duplicates row 3
values.copyWithin(11 * d, 3 * d, 4 * d); // and so does row 11
const ids = Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 1000) - 500n); // distinct, unordered, negative too
const queries = randomVectors(6, d, 99);
queries.set(values.subarray(3 * d, 4 * d), 0); // query 0 hits the three-way tie at distance 0

let v1: IndexPlugin;
let v2: IndexPlugin;
let v2i: IndexPlugin;
beforeAll(async () => {
  [v1, v2, v2i] = await Promise.all([
    load("vector-flat-v1.wasm"),
    load("vector-flat-v2.wasm"),
    load("vector-flat-v2-incompatible.wasm"),
  ]);
});

describe("vector.flat manifest", () => {
  it("declares id, version, world surface and capabilities", () => {
    for (const [plugin, version] of [
      [v1, "1.0.0"],
      [v2, "2.0.0"],
      [v2i, "2.0.0"],
    ] as const) {
      const m = JSON.parse(plugin.manifest());
      expect(m).toMatchObject({ id: "dev.uni.vector-flat", version, abi: "^1.0", capabilities: ["index"] });
      expect(m.provides.index_kinds).toEqual(["vector.flat"]);
      expect(plugin.index.kinds()).toEqual(["vector.flat"]);
    }
  });
});

describe("vector.flat build + probe", () => {
  it("L2 matches the brute force, ties broken by id (v1 and v2)", () => {
    const expected = bruteForce(ids, values, queries, d, 10, l2);
    expect(expected.slice(0, 3).map((h) => h.distance)).toEqual([0, 0, 0]);
    for (const plugin of [v1, v2]) {
      const index = plugin.index.build("vector.flat", sourceIpc(ids, values, d), '{"metric":"l2"}');
      expectSameHits(hits(index.probe(queryIpc(queries, d), 10)), expected);
    }
  });

  it("cosine matches the brute force; a zero vector is at distance 1", () => {
    const withZero = values.slice();
    withZero.fill(0, 5 * d, 6 * d);
    const expected = bruteForce(ids, withZero, queries, d, 7, cosine);
    for (const plugin of [v1, v2]) {
      const index = plugin.index.build("vector.flat", sourceIpc(ids, withZero, d), '{"metric":"cosine"}');
      expectSameHits(hits(index.probe(queryIpc(queries, d), 7)), expected);
      const all = hits(index.probe(queryIpc(queries.subarray(0, d), d), n));
      expect(all.find((h) => h.id === ids[5])?.distance).toBe(1);
    }
  });

  it("defaults to L2 and accepts an empty options string", () => {
    const a = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const b = v1.index.build("vector.flat", sourceIpc(ids, values, d), "");
    const expected = bruteForce(ids, values, queries, d, 5, l2);
    expectSameHits(hits(a.probe(queryIpc(queries, d), 5)), expected);
    expect(b.probe(queryIpc(queries, d), 5)).toEqual(a.probe(queryIpc(queries, d), 5));
  });

  it("v1 and v2 distances are bit-identical", () => {
    for (const metric of ["l2", "cosine"]) {
      const options = JSON.stringify({ metric });
      const a = v1.index.build("vector.flat", sourceIpc(ids, values, d), options).probe(queryIpc(queries, d), n);
      const b = v2.index.build("vector.flat", sourceIpc(ids, values, d), options).probe(queryIpc(queries, d), n);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    }
    // Also with a dimension that has no tail and a row count that leaves a remainder.
    const [d8, n8] = [8, 37];
    const v8 = randomVectors(n8, d8, 21).map((x) => x * 1000);
    const ids8 = Array.from({ length: n8 }, (_, i) => BigInt(i));
    const q8 = queryIpc(randomVectors(3, d8, 22), d8);
    for (const metric of ["l2", "cosine"]) {
      const options = JSON.stringify({ metric });
      const a = v1.index.build("vector.flat", sourceIpc(ids8, v8, d8), options).probe(q8, n8);
      const b = v2.index.build("vector.flat", sourceIpc(ids8, v8, d8), options).probe(q8, n8);
      expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    }
  });

  it("returns min(k, n) rows per query; k = 0 returns none", () => {
    const small = v1.index.build("vector.flat", sourceIpc([1n, 2n, 3n], values.subarray(0, 3 * d), d), "{}");
    const out = hits(small.probe(queryIpc(queries, d), 50));
    expect(out).toHaveLength(3 * (queries.length / d));
    expect(hits(small.probe(queryIpc(queries, d), 0))).toEqual([]);
  });

  it("reads sources and queries split over several record batches", () => {
    const half = (n / 2) * d;
    const t1 = new Table({
      id: makeVector(BigInt64Array.from(ids.slice(0, n / 2))),
      vector: vectorColumn(values.slice(0, half), d),
    });
    const t2 = new Table({
      id: makeVector(BigInt64Array.from(ids.slice(n / 2))),
      vector: vectorColumn(values.slice(half), d),
    });
    const source = tableToIPC(new Table([...t1.batches, ...t2.batches]), "stream");
    const q1 = new Table({ vector: vectorColumn(queries.slice(0, 2 * d), d) });
    const q2 = new Table({ vector: vectorColumn(queries.slice(2 * d), d) });
    const query = tableToIPC(new Table([...q1.batches, ...q2.batches]), "stream");
    const index = v2.index.build("vector.flat", source, "{}");
    expectSameHits(hits(index.probe(query, 4)), bruteForce(ids, values, queries, d, 4, l2));
  });

  it("finds the query column by name `vector`, else the first FixedSizeList<Float32>", () => {
    const index = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const expected = bruteForce(ids, values, queries, d, 3, l2);
    expectSameHits(hits(index.probe(queryIpc(queries, d, "embedding"), 3)), expected);
    const other = randomVectors(queries.length / d, d, 5);
    const twoColumns = new Table({ other: vectorColumn(other, d), vector: vectorColumn(queries, d) });
    expectSameHits(hits(index.probe(tableToIPC(twoColumns, "stream"), 3)), expected);
  });

  it("schema() is the probe output schema with no batches", () => {
    const index = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const bytes = index.schema();
    expect(tableFromIPC(bytes).schema.fields.map(String)).toEqual(["query: Int32", "id: Int64", "distance: Float32"]);
    // (apache-arrow stands in one empty placeholder batch for a stream without any)
    expect([...RecordBatchReader.from(bytes)].reduce((rows, b) => rows + b.numRows, 0)).toBe(0);
    // One framed schema message, then the end-of-stream marker: nothing else.
    const metaLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
    expect(bytes.length).toBe(8 + metaLength + 8);
    expect([...bytes.subarray(-8)]).toEqual([255, 255, 255, 255, 0, 0, 0, 0]);
  });
});

describe("vector.flat filtered probe", () => {
  const keep = (r: number) => r % 3 === 0 || r === 10;
  const mask = new Uint8Array(Math.ceil(n / 8));
  for (let r = 0; r < n; r++) if (keep(r)) mask[r >> 3] |= 1 << (r & 7);

  it("supports filters and only returns rows whose bit is set", () => {
    for (const plugin of [v1, v2]) {
      const index = plugin.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
      expect(index.supportsFilter()).toBe(true);
      expectSameHits(
        hits(index.probeFiltered(queryIpc(queries, d), 8, mask)),
        bruteForce(ids, values, queries, d, 8, l2, keep),
      );
    }
  });

  it("an all-zero mask returns nothing; a short mask is an error", () => {
    const index = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    expect(hits(index.probeFiltered(queryIpc(queries, d), 8, new Uint8Array(n / 8)))).toEqual([]);
    const err = fnErrorOf(() => index.probeFiltered(queryIpc(queries, d), 8, mask.subarray(0, 10)));
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/mask has 10 bytes; 400 rows need at least 50/);
  });
});

describe("vector.flat errors are fn-errors, never traps", () => {
  it("wrong query dimension is code 0x101 naming both dimensions", () => {
    const index = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const err = fnErrorOf(() => index.probe(queryIpc(randomVectors(2, 5, 1), 5), 3));
    expect(err).toMatchObject({ code: 0x101, retryable: false });
    expect(err.message).toMatch(/query dimension 5 does not match the index dimension 13/);
  });

  it("refuses bad options", () => {
    const src = sourceIpc(ids, values, d);
    const cases: [string, RegExp][] = [
      ['{"metric":"manhattan"}', /metric' must be "l2" or "cosine", got "manhattan"/],
      ['{"metric":3}', /metric' must be "l2" or "cosine", got a number/],
      ['{"metrc":"l2"}', /unknown option 'metrc'/],
      ["[1]", /must be a JSON object/],
      ['{"metric":', /invalid JSON/],
      ['{"metric":"l2"} x', /trailing/],
    ];
    for (const [options, message] of cases) {
      const err = fnErrorOf(() => v1.index.build("vector.flat", src, options));
      expect(err.code).toBe(2);
      expect(err.message).toMatch(message);
    }
  });

  it("refuses sources with missing or mistyped columns, nulls, non-finite values", () => {
    const vec = vectorColumn(values.subarray(0, 4 * d), d);
    const cases: [Uint8Array, number, RegExp][] = [
      [tableToIPC(new Table({ vector: vec }), "stream"), 2, /no column 'id'/],
      [
        tableToIPC(new Table({ id: makeVector(Int32Array.of(1, 2, 3, 4)), vector: vec }), "stream"),
        2,
        /column 'id' is Int32; vector\.flat needs Int64/,
      ],
      [tableToIPC(new Table({ id: makeVector(BigInt64Array.of(1n, 2n, 3n, 4n)) }), "stream"), 2, /no column 'vector'/],
      [
        tableToIPC(
          new Table({ id: makeVector(BigInt64Array.of(1n)), vector: vectorFromArray(["x"], new Utf8()) }),
          "stream",
        ),
        2,
        /column 'vector' is Utf8; vector\.flat needs FixedSizeList\[d\]<Float32>, or List<Float32> \/ LargeList<Float32>/,
      ],
      [sourceIpc([1n, 2n, 3n, 4n], values.subarray(0, 4 * d), d, [2]), 3, /column 'vector' row 2 is null/],
      [
        sourceIpc([1n, 2n], Float32Array.of(...new Array(d).fill(0), NaN, ...new Array(d - 1).fill(0)), d),
        2,
        /row 1 holds a non-finite value/,
      ],
    ];
    for (const [source, code, message] of cases) {
      const err = fnErrorOf(() => v1.index.build("vector.flat", source, "{}"));
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
    const nullIds = tableToIPC(
      new Table({ id: vectorFromArray([1n, null], new Int64()), vector: vectorColumn(values.subarray(0, 2 * d), d) }),
      "stream",
    );
    expect(fnErrorOf(() => v1.index.build("vector.flat", nullIds, "{}"))).toMatchObject({
      code: 3,
      message: "column 'id' holds nulls",
    });
  });

  it("refuses unknown kinds", () => {
    const err = fnErrorOf(() => v1.index.build("vector.hnsw", sourceIpc(ids, values, d), "{}"));
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/unknown index kind 'vector.hnsw'; this plugin provides: vector.flat/);
    expect(
      fnErrorOf(() =>
        v1.index.open("vector.hnsw", v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}").persist()),
      ).code,
    ).toBe(2);
  });

  it("every truncation and random garbage of source and query IPC is a code-2 error", () => {
    const source = sourceIpc(ids.slice(0, 20), values.subarray(0, 20 * d), d);
    const query = queryIpc(queries, d);
    const index = v2.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    // Every strict prefix that still lacks the record batch must fail; the
    // schema-only prefix is a valid empty source, so accept that one.
    for (let len = 0; len < source.length - 8; len++) {
      const prefix = source.subarray(0, len);
      try {
        const built = v2.index.build("vector.flat", prefix, "{}");
        expect(hits(built.probe(queryIpc(queries, d), 3))).toEqual([]); // the schema-only prefix: an empty index
      } catch {
        expect(fnErrorOf(() => v2.index.build("vector.flat", prefix, "{}")).code).toBe(2);
      }
    }
    for (let len = 0; len < query.length - 8; len += 3) {
      const prefix = query.subarray(0, len);
      try {
        expect(hits(index.probe(prefix, 3))).toEqual([]);
      } catch {
        expect(fnErrorOf(() => index.probe(prefix, 3)).code).toBe(2);
      }
    }
    const next = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const garbage = Uint8Array.from({ length: 8 + Math.floor(next() * 300) }, () => Math.floor(next() * 256));
      if (i % 2) garbage.set([0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0]); // plausible framing, garbage metadata
      expect(fnErrorOf(() => v2.index.build("vector.flat", garbage, "{}")).code).toBe(2);
      expect(fnErrorOf(() => index.probe(garbage, 3)).code).toBe(2);
    }
    // Flipping bytes of a valid stream never traps.
    for (let i = 0; i < source.length; i++) {
      const flipped = source.slice();
      flipped[i] ^= 0xa5;
      try {
        v2.index.build("vector.flat", flipped, "{}");
      } catch {
        expect(fnErrorOf(() => v2.index.build("vector.flat", flipped, "{}")).code).toBeGreaterThan(0);
      }
    }
    // Still serving after all that.
    expectSameHits(hits(index.probe(query, 2)), bruteForce(ids, values, queries, d, 2, l2));
  });
});

/** The format 3 checksum as format.rs documents it: FNV-1a 64 over 64-bit LE words, word i into lane i % 4
 * (lane j starts at the offset basis xor j), then the four lanes and the byte length folded by FNV-1a 64. */
function wordFnv(body: Uint8Array): bigint {
  const [basis, prime, mask] = [0xcbf29ce484222325n, 0x100000001b3n, (1n << 64n) - 1n];
  const step = (h: bigint, v: bigint) => ((h ^ v) * prime) & mask;
  const lanes = [0n, 1n, 2n, 3n].map((j) => basis ^ j);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i * 8 < body.length; i++) lanes[i % 4] = step(lanes[i % 4], view.getBigUint64(i * 8, true));
  return [...lanes, BigInt(body.length)].reduce(step, basis);
}

describe("vector.flat persist / open across versions", () => {
  it("v1 persist → v2 open gives identical probes (L2 and cosine)", () => {
    for (const metric of ["l2", "cosine"]) {
      const old = v1.index.build("vector.flat", sourceIpc(ids, values, d), JSON.stringify({ metric }));
      const reopened = v2.index.open("vector.flat", old.persist());
      const q = queryIpc(queries, d);
      expect(Buffer.from(reopened.probe(q, 12)).equals(Buffer.from(old.probe(q, 12)))).toBe(true);
      const mask = new Uint8Array(n / 8).fill(0x0f);
      expect(Buffer.from(reopened.probeFiltered(q, 5, mask)).equals(Buffer.from(old.probeFiltered(q, 5, mask)))).toBe(
        true,
      );
      // v2 keeps writing format 1, so a rollback to v1 opens it too.
      const back = v1.index.open("vector.flat", reopened.persist());
      expect(Buffer.from(back.probe(q, 12)).equals(Buffer.from(old.probe(q, 12)))).toBe(true);
    }
  });

  it("the persisted bytes follow the documented format 1 layout (ids 8-aligned, vectors 16-aligned)", () => {
    // n = 2: ids end at 48, already a multiple of 16, so no padding.
    const bytes = v1.index
      .build("vector.flat", sourceIpc([5n, -6n], values.subarray(0, 2 * d), d), '{"metric":"cosine"}')
      .persist();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("UNIVFLAT");
    expect([view.getUint32(8, true), bytes[12], view.getUint32(16, true), view.getBigUint64(24, true)]).toEqual([
      1,
      1,
      d,
      2n,
    ]);
    expect([...bytes.subarray(13, 16), ...bytes.subarray(20, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([view.getBigInt64(32, true), view.getBigInt64(40, true)]).toEqual([5n, -6n]);
    expect(view.getFloat32(48, true)).toBe(values[0]);
    expect(view.getFloat32(48 + (2 * d - 1) * 4, true)).toBe(values[2 * d - 1]);
    expect(bytes.length).toBe(48 + 2 * d * 4);

    // n = 3: ids end at 56, so 8 zero bytes pad the vectors to offset 64.
    const odd = v2.index.build("vector.flat", sourceIpc([1n, 2n, 3n], values.subarray(0, 3 * d), d), "{}").persist();
    const oddView = new DataView(odd.buffer, odd.byteOffset, odd.byteLength);
    expect([odd[12], oddView.getBigUint64(24, true), oddView.getBigInt64(48, true)]).toEqual([0, 3n, 3n]);
    expect([...odd.subarray(56, 64)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(oddView.getFloat32(64, true)).toBe(values[0]);
    expect(odd.length).toBe(64 + 3 * d * 4);
  });

  it("an empty index persists as the bare header and reopens", () => {
    const empty = v1.index.build("vector.flat", sourceIpc([], new Float32Array(0), d), "{}");
    const bytes = empty.persist();
    expect(bytes.length).toBe(32);
    const reopened = v2.index.open("vector.flat", bytes);
    expect(hits(reopened.probe(queryIpc(queries, d), 3))).toEqual([]);
    expect([...reopened.persist()]).toEqual([...bytes]);
  });

  it("persist lends the live storage: repeated persists and probes around them agree", () => {
    for (const plugin of [v1, v2, v2i]) {
      const index = plugin.index.build("vector.flat", sourceIpc(ids, values, d), '{"metric":"cosine"}');
      const q = queryIpc(queries, d);
      const before = index.probe(q, 9);
      const first = index.persist();
      const second = index.persist();
      expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
      expect(Buffer.from(index.probe(q, 9)).equals(Buffer.from(before))).toBe(true);
      // Reopened in the same instance (the adopted buffer lives next to the original).
      const again = plugin.index.open("vector.flat", first);
      expect(Buffer.from(again.probe(q, 9)).equals(Buffer.from(before))).toBe(true);
      expect(Buffer.from(again.persist()).equals(Buffer.from(first))).toBe(true);
    }
  });

  it("open does not rescan floats: a NaN planted in persisted bytes gives NaN distances, not a trap", () => {
    const bytes = v1.index.build("vector.flat", sourceIpc([1n, 2n], values.subarray(0, 2 * d), d), "{}").persist();
    const planted = bytes.slice();
    new DataView(planted.buffer).setFloat32(48, Number.NaN, true); // row 0, element 0
    for (const plugin of [v1, v2]) {
      const got = hits(plugin.index.open("vector.flat", planted).probe(queryIpc(queries.subarray(0, d), d), 2));
      // Where NaN sorts depends on its sign, which wasm leaves open; both rows come back either way.
      expect(got.map((h) => h.id).sort()).toEqual([1n, 2n]);
      expect(Number.isNaN(got.find((h) => h.id === 1n)?.distance)).toBe(true);
      expect(got.find((h) => h.id === 2n)?.distance).toBe(l2(queries.subarray(0, d), values.subarray(d, 2 * d)));
    }
  });

  it("v2-incompatible refuses v1 bytes with a clear error, and opens its own format", () => {
    const old = v1.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const err = fnErrorOf(() => v2i.index.open("vector.flat", old.persist()));
    expect(err).toMatchObject({ code: 0x100, retryable: false });
    expect(err.message).toMatch(/persisted format 1 is not supported by this version/);
    const own = v2i.index.build("vector.flat", sourceIpc(ids, values, d), "{}");
    const bytes = own.persist();
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)).toBe(3);
    const q = queryIpc(queries, d);
    expect(Buffer.from(v2i.index.open("vector.flat", bytes).probe(q, 4)).equals(Buffer.from(own.probe(q, 4)))).toBe(
      true,
    );
    expect(fnErrorOf(() => v1.index.open("vector.flat", bytes)).message).toMatch(/persisted format 3 is not supported/);
    // Layout: 400 ids end at 3232 (a multiple of 16); 400 x 13 floats end at 24032, padded to 8 (no
    // padding needed), then the 8-byte checksum.
    expect(bytes.length).toBe(3232 + n * d * 4 + 8);
    const trailer = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(bytes.length - 8, true);
    expect(trailer).toBe(wordFnv(bytes.subarray(0, bytes.length - 8)));
    const corrupted = bytes.slice();
    corrupted[40] ^= 1;
    expect(fnErrorOf(() => v2i.index.open("vector.flat", corrupted)).message).toMatch(/checksum mismatch/);
  });

  it("truncated, extended, random and foreign bytes are code-2 errors", () => {
    const good = v1.index
      .build("vector.flat", sourceIpc(ids.slice(0, 9), values.subarray(0, 9 * d), d), "{}")
      .persist();
    for (let len = 0; len < good.length; len++) {
      expect(fnErrorOf(() => v1.index.open("vector.flat", good.subarray(0, len))).code).toBe(2);
      expect(fnErrorOf(() => v2.index.open("vector.flat", good.subarray(0, len))).code).toBe(2);
    }
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(fnErrorOf(() => v1.index.open("vector.flat", longer)).message).toMatch(
      /does not match 9 rows of dimension 13/,
    );
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(24, 0xffffffffffffn, true); // n that would overflow
    expect(fnErrorOf(() => v1.index.open("vector.flat", huge)).code).toBe(2);
    const badMetric = good.slice();
    badMetric[12] = 9;
    expect(fnErrorOf(() => v1.index.open("vector.flat", badMetric)).message).toMatch(/unknown metric code 9/);
    const reserved = good.slice();
    reserved[21] = 1;
    expect(fnErrorOf(() => v1.index.open("vector.flat", reserved)).message).toMatch(/reserved header bytes/);
    const padded = good.slice(); // 9 rows: ids end at 104, 8 padding bytes before the vectors at 112
    padded[107] = 1;
    expect(fnErrorOf(() => v2.index.open("vector.flat", padded)).message).toMatch(/padding bytes are not zero/);
    const fewerRows = good.slice(); // a header that claims fewer rows than the bytes hold
    new DataView(fewerRows.buffer).setBigUint64(24, 8n, true);
    expect(fnErrorOf(() => v1.index.open("vector.flat", fewerRows)).message).toMatch(
      /does not match 8 rows of dimension 13/,
    );
    const zeroDim = good.slice();
    new DataView(zeroDim.buffer).setUint32(16, 0, true);
    expect(fnErrorOf(() => v1.index.open("vector.flat", zeroDim)).message).toMatch(/dimension 0/);
    const ipc = sourceIpc(ids, values, d); // an Arrow stream is not an index
    expect(fnErrorOf(() => v1.index.open("vector.flat", ipc)).message).toMatch(/wrong magic/);
    const next = mulberry32(11);
    for (let i = 0; i < 100; i++) {
      const garbage = Uint8Array.from({ length: Math.floor(next() * 200) }, () => Math.floor(next() * 256));
      expect(fnErrorOf(() => v2.index.open("vector.flat", garbage)).code).toBe(2);
    }
  });
});
