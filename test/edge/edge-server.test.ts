// The Deno edge server over HTTP: plugins uploaded and reloaded, bad uploads refused with a typed JSON
// error, and a kill -9 + restart that reopens the index with identical results, keeps CRDT values, and
// resumes CDC at the checkpoint with no LSN gap and no duplicate.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { type EdgeServer, repoRoot, startEdge, tempKvDir } from "./edge-process.ts";

const component = (name: string) => readFile(join(repoRoot, "plugins-wasm/dist", `${name}.wasm`));

/** The fields the API answers with, across routes (each response has some of them). */
interface Json {
  ok?: boolean;
  plugins?: string[];
  code?: number;
  message?: string;
  retryable?: boolean;
  step?: string;
  version?: string;
  plugin?: { version: string };
  results?: { query: number; id: number; distance: number }[];
  value?: unknown;
  lsnStart?: number;
  lsnEnd?: number;
  checkpoint?: number;
  batches?: { lsnStart: number; lsnEnd: number; rows: number; emittedBy: string }[];
}

async function call(
  server: EdgeServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const raw = body instanceof Uint8Array ? body : body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(server.url + path, { method, body: raw as BodyInit | undefined });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    throw new Error(`${method} ${path}: ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json };
}

/** A typed error body: numeric code, readable message, retryable flag — and nothing like "[object Object]". */
function expectTypedError(json: Json): void {
  expect(json.code).to.be.a("number");
  expect(json.message).to.be.a("string").and.not.equal("");
  expect(json.message).not.to.contain("[object Object]");
  expect(json.retryable).to.be.a("boolean");
}

/** Deterministic vectors (no Math.random: a failure reproduces). */
function vectors(rows: number, dim: number): number[][] {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: rows }, () => Array.from({ length: dim }, next));
}

const DIM = 16;
const DATA = vectors(300, DIM);
const QUERY_ROWS = [0, 17, 123, 299];
const BATCHES_BEFORE = [3, 1, 4, 1, 5];
const BATCHES_AFTER = [2, 6];

describe("deno edge server", () => {
  let kv: Awaited<ReturnType<typeof tempKvDir>>;
  let server: EdgeServer;
  let searchBefore: Json;

  beforeAll(async () => {
    kv = await tempKvDir();
    server = await startEdge(kv.dir, "none");
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  it("starts empty and reports health", async () => {
    const health = await call(server, "GET", "/health");
    expect(health.status).to.equal(200);
    expect(health.json.ok).to.equal(true);
    expect(health.json.plugins).to.deep.equal([]);
  });

  it("refuses bad uploads with a 4xx typed error and changes nothing", async () => {
    const junk = await call(server, "POST", "/plugins", new TextEncoder().encode("not a component"));
    expect(junk.status).to.be.within(400, 499);
    expectTypedError(junk.json);
    const core = await call(
      server,
      "POST",
      "/plugins",
      await readFile(join(repoRoot, "test/fixtures/wasm/core-module.wasm")),
    );
    expect(core.status).to.be.within(400, 499);
    expectTypedError(core.json);
    const empty = await call(server, "POST", "/plugins", new Uint8Array(0));
    expect(empty.status).to.equal(400);
    expectTypedError(empty.json);
    expect((await call(server, "GET", "/plugins")).json).to.deep.equal([]);
  });

  it("loads plugins, builds an index, applies CRDT ops, ingests CDC batches", async () => {
    for (const name of ["vector-flat-v1", "crdt-v1", "changelog-v1"]) {
      const res = await call(server, "POST", "/plugins", await component(name));
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json.version).to.equal("1.0.0");
    }
    const again = await call(server, "POST", "/plugins", await component("crdt-v1"));
    expect(again.status).to.equal(409);
    expectTypedError(again.json);

    const rows = DATA.map((vector, id) => ({ id, vector }));
    const built = await call(server, "POST", "/indexes/docs", { rows, options: { metric: "l2" } });
    expect(built.status, JSON.stringify(built.json)).to.equal(201);
    const search = await call(server, "POST", "/indexes/docs/search", {
      vectors: QUERY_ROWS.map((r) => DATA[r]),
      k: 5,
    });
    expect(search.status).to.equal(200);
    const results = search.json.results ?? [];
    expect(results).to.have.length(QUERY_ROWS.length * 5);
    QUERY_ROWS.forEach((row, q) => {
      const hits = results.filter((r) => r.query === q);
      expect(hits[0]).to.deep.include({ id: row, distance: 0 }); // a stored vector is its own nearest neighbour
      expect(hits.slice(1).every((h) => h.distance > 0)).to.equal(true);
    });
    searchBefore = search.json;

    await call(server, "POST", "/crdts/likes", { kind: "pn-counter", op: ["replica-a", 5] });
    const likes = await call(server, "POST", "/crdts/likes", { op: ["replica-b", -2] });
    expect(likes.json.value).to.equal(3);

    let lsn = 0;
    for (const [i, n] of BATCHES_BEFORE.entries()) {
      const res = await call(server, "POST", "/cdc/changes/ingest", {
        rows: Array.from({ length: n }, (_, j) => ({ id: i * 100 + j, note: `batch ${i}` })),
      });
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect([res.json.lsnStart, res.json.lsnEnd]).to.deep.equal([lsn, lsn + n]);
      lsn += n;
    }
  });

  it("reloads the changelog to v2 and refuses the incompatible index, old version serving", async () => {
    const ok = await call(server, "POST", "/plugins/dev.uni.changelog/reload", await component("changelog-v2"));
    expect(ok.status, JSON.stringify(ok.json)).to.equal(200);
    expect(ok.json.plugin?.version).to.equal("2.0.0");

    const refused = await call(
      server,
      "POST",
      "/plugins/dev.uni.vector-flat/reload",
      await component("vector-flat-v2-incompatible"),
    );
    expect(refused.status).to.equal(409);
    expectTypedError(refused.json);
    expect(refused.json.step).to.equal("check-compat");
    const junk = await call(server, "POST", "/plugins/dev.uni.vector-flat/reload", new TextEncoder().encode("junk"));
    expect(junk.status).to.be.within(400, 499);
    expectTypedError(junk.json);

    const plugins = (await call(server, "GET", "/plugins")).json as unknown as { id: string; version: string }[];
    expect(plugins.find((p) => p.id === "dev.uni.vector-flat")?.version).to.equal("1.0.0");
    const search = await call(server, "POST", "/indexes/docs/search", {
      vectors: QUERY_ROWS.map((r) => DATA[r]),
      k: 5,
    });
    expect(search.json.results).to.deep.equal(searchBefore.results);
  });

  it("after kill -9 and restart: same plugins, identical probe results, same likes, CDC resumes with no gap or duplicate", async () => {
    await server.kill();
    server = await startEdge(kv.dir, "none");
    expect(server.restored.join("\n")).to.contain("cdc changes (changelog) resumed at LSN 14");

    const plugins = (await call(server, "GET", "/plugins")).json as unknown as { id: string; version: string }[];
    expect(Object.fromEntries(plugins.map((p) => [p.id, p.version]))).to.deep.equal({
      "dev.uni.changelog": "2.0.0",
      "dev.uni.crdt": "1.0.0",
      "dev.uni.vector-flat": "1.0.0",
    });
    const search = await call(server, "POST", "/indexes/docs/search", {
      vectors: QUERY_ROWS.map((r) => DATA[r]),
      k: 5,
    });
    expect(search.status).to.equal(200);
    expect(search.json.results).to.deep.equal(searchBefore.results);
    expect((await call(server, "GET", "/crdts/likes")).json.value).to.equal(3);

    let lsn = BATCHES_BEFORE.reduce((a, b) => a + b, 0);
    for (const n of BATCHES_AFTER) {
      const res = await call(server, "POST", "/cdc/changes/ingest", {
        rows: Array.from({ length: n }, (_, j) => ({ id: j })),
      });
      expect([res.json.lsnStart, res.json.lsnEnd]).to.deep.equal([lsn, lsn + n]);
      lsn += n;
    }
    const log = await call(server, "GET", "/cdc/changes");
    const batches = log.json.batches ?? [];
    const sizes = [...BATCHES_BEFORE, ...BATCHES_AFTER];
    let expected = 0;
    expect(batches.map((b) => [b.lsnStart, b.lsnEnd])).to.deep.equal(
      sizes.map((n) => {
        expected += n;
        return [expected - n, expected];
      }),
    );
    expect(batches.map((b) => b.rows)).to.deep.equal(sizes);
    expect(log.json.checkpoint).to.equal(expected);
    expect(batches.slice(0, 5).every((b) => b.emittedBy === "dev.uni.changelog@1.0.0")).to.equal(true);
    expect(batches.slice(5).every((b) => b.emittedBy === "dev.uni.changelog@2.0.0")).to.equal(true);
  });

  it("serves metrics in the Prometheus text format", async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    expect(text).to.match(/^edge_plugin_info\{id="dev\.uni\.changelog",version="2\.0\.0",generation="1"\} 1$/m);
    expect(text).to.match(/^edge_cdc_next_lsn\{stream="changes"\} 22$/m);
    const unknown = await call(server, "GET", "/nope");
    expect(unknown.status).to.equal(404);
    expectTypedError(unknown.json);
  });
});
