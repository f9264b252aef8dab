// Index surface end to end through the host, against the real vector.flat sample (plugins-wasm/dist/vector-flat-v1):
// Arrow in, Arrow out, checked against a brute force computed here.
import { Table } from "apache-arrow";
import { beforeAll, describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects, type Hit, hitsOf, seededFloats, vectorColumn, vectorTable } from "./host-util.ts";

const DIM = 8;
const ROWS = 200;
/** Ids that are not row numbers, so a result of row numbers would not pass. */
const IDS = Array.from({ length: ROWS }, (_, r) => BigInt(1000 + 7 * r));
const DATA = seededFloats(42, ROWS * DIM);
const QUERIES = seededFloats(7, 5 * DIM);
const K = 6;

const rowOf = (values: Float32Array, r: number) => values.subarray(r * DIM, (r + 1) * DIM);
const squaredL2 = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + (x - (b[i] as number)) ** 2, 0);
function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/** Exact k nearest rows per query among the rows `keep` allows: the expected answer. */
function bruteForce(
  distance: (a: Float32Array, b: Float32Array) => number,
  k: number,
  keep: (row: number) => boolean = () => true,
): Hit[] {
  const hits: Hit[] = [];
  for (let q = 0; q < QUERIES.length / DIM; q++) {
    const scored = IDS.map((id, r) => ({ query: q, id, distance: distance(rowOf(QUERIES, q), rowOf(DATA, r)), r }))
      .filter((h) => keep(h.r))
      .sort((a, b) => a.distance - b.distance);
    hits.push(...scored.slice(0, k).map(({ query, id, distance }) => ({ query, id, distance })));
  }
  return hits;
}

function expectSameHits(actual: Hit[], expected: Hit[]): void {
  expect(actual.map((h) => [h.query, h.id])).to.deep.equal(expected.map((h) => [h.query, h.id]));
  actual.forEach((h, i) => {
    expect(h.distance).to.be.closeTo((expected[i] as Hit).distance, 1e-4);
  });
}

const queryTable = () => new Table({ vector: vectorColumn(QUERIES, DIM) });

describe("index surface through the host (vector-flat-v1)", () => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost();
    await host.load(await loadPlugin("vector-flat-v1"));
  });

  it("builds from Arrow and probes the exact L2 neighbours, in the documented schema", async () => {
    const idx = await host.createIndex("l2", "vector.flat", vectorTable(IDS, DATA, DIM), { metric: "l2" });
    const result = await idx.probe(queryTable(), K);
    expect(result.schema.fields.map((f) => `${f.name}:${f.type}`)).to.deep.equal([
      "query:Int32",
      "id:Int64",
      "distance:Float32",
    ]);
    expect(result.numRows).to.equal(5 * K);
    expectSameHits(hitsOf(result), bruteForce(squaredL2, K));
    const schema = await idx.schema();
    expect(schema.numRows).to.equal(0);
    expect(schema.schema.fields.map((f) => f.name)).to.deep.equal(["query", "id", "distance"]);
  });

  it("probes the exact cosine neighbours", async () => {
    const idx = await host.createIndex("cos", "vector.flat", vectorTable(IDS, DATA, DIM), { metric: "cosine" });
    expectSameHits(hitsOf(await idx.probe(queryTable(), K)), bruteForce(cosineDistance, K));
  });

  it("caps k at the number of rows", async () => {
    const few = IDS.slice(0, 3);
    const idx = await host.createIndex("few", "vector.flat", vectorTable(few, DATA.slice(0, 3 * DIM), DIM));
    const hits = hitsOf(await idx.probe(queryTable(), 50));
    expect(hits).to.have.length(5 * 3);
    for (const h of hits) expect(few).to.include(h.id);
  });

  it("probes with a filter: only rows whose bit is set, still exact", async () => {
    const idx = await host.createIndex("filtered", "vector.flat", vectorTable(IDS, DATA, DIM));
    expect(await idx.supportsFilter()).to.equal(true);
    const keep = (row: number) => row % 3 === 1;
    const mask = new Uint8Array(Math.ceil(ROWS / 8));
    for (let r = 0; r < ROWS; r++) if (keep(r)) mask[r >> 3] = (mask[r >> 3] as number) | (1 << (r & 7));
    const hits = hitsOf(await idx.probeFiltered(queryTable(), K, mask));
    expectSameHits(hits, bruteForce(squaredL2, K, keep));
  });

  it("persists and reopens an equal index, on this host and on a fresh one", async () => {
    const idx = await host.createIndex("to-persist", "vector.flat", vectorTable(IDS, DATA, DIM), { metric: "cosine" });
    const bytes = await idx.persist();
    expect(bytes).to.be.instanceOf(Uint8Array);
    expect(bytes.length).to.be.greaterThan(ROWS * DIM * 4);
    const expected = bruteForce(cosineDistance, K);

    const reopened = await host.openIndex("reopened", "vector.flat", bytes);
    expectSameHits(hitsOf(await reopened.probe(queryTable(), K)), expected);

    const restarted = new PluginHost();
    await restarted.load(await loadPlugin("vector-flat-v1"));
    const again = await restarted.openIndex("reopened", "vector.flat", bytes);
    expectSameHits(hitsOf(await again.probe(queryTable(), K)), expected);
    expect(restarted.index("reopened")).to.equal(again);
  });

  it("refuses a query of the wrong dimension as the plugin's own error, and keeps serving", async () => {
    const idx = await host.createIndex("dims", "vector.flat", vectorTable(IDS, DATA, DIM));
    const wrong = new Table({ vector: vectorColumn(seededFloats(1, 2 * 3), 3) });
    const err = await expectRejects(idx.probe(wrong, 1), {
      code: 0x101,
      message: ["3", "8"],
      pluginId: "dev.uni.vector-flat",
    });
    expect(err).to.be.instanceOf(PluginCallError);
    expect(hitsOf(await idx.probe(queryTable(), 1))).to.have.length(5);
  });

  it("refuses an unknown build option and malformed persisted bytes as typed errors", async () => {
    await expectRejects(host.createIndex("opts", "vector.flat", vectorTable(IDS, DATA, DIM), { metrc: "l2" }), {
      code: ErrorCode.TypeCoercion,
      message: "metrc",
    });
    expect(host.index("opts")).to.equal(undefined);
    await expectRejects(host.openIndex("junk", "vector.flat", new Uint8Array([1, 2, 3, 4])), {
      pluginId: "dev.uni.vector-flat",
    });
    expect(host.index("junk")).to.equal(undefined);
  });

  it("refuses an unknown kind and a taken name", async () => {
    await expectRejects(host.createIndex("x", "vector.hnsw", vectorTable(IDS, DATA, DIM)), {
      code: ErrorCode.NotFound,
      message: ["vector.hnsw", "vector.flat"],
    });
    await host.createIndex("taken", "vector.flat", vectorTable(IDS, DATA, DIM));
    await expectRejects(host.createIndex("taken", "vector.flat", vectorTable(IDS, DATA, DIM)), {
      code: ErrorCode.DuplicateKey,
      message: '"taken"',
    });
  });
});
