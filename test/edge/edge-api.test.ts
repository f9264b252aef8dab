// Every route of the edge server, over HTTP, held to the server's own OpenAPI document (api-client.ts checks each
// answer: documented status, content type and schema; 405 with Allow for an undocumented method). The last tests
// check the other direction: every status and content type the document promises was answered here.
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ApiClient, ARROW } from "./api-client.ts";
import { makeVector, Table } from "apache-arrow";
import { vectorColumn } from "../shared/reload-util.ts";
import { ARROW_ECHO, component, ipc, table, vectors } from "./data.ts";
import { type EdgeServer, startEdge, tempDir } from "./edge-process.ts";
import { damageRecord } from "./kv-damage.ts";

const WASM = { "content-type": "application/wasm" };
const OVER_LIMIT = 64 * 1024 * 1024 + 1;
type Doc = { id: number; vector: number[] };
const DOCS: Doc[] = vectors(50, 8).map((vector, id) => ({ id, vector }));

/** Rows as the Arrow stream vector.flat builds from (id: Int64, vector: FixedSizeList<Float32>), or queries with. */
function arrowOf(rows: Doc[], withIds = true): Uint8Array {
  const vector = vectorColumn(Float32Array.from(rows.flatMap((r) => r.vector)), 8);
  const ids = makeVector(BigInt64Array.from(rows, (r) => BigInt(r.id)));
  return ipc(withIds ? new Table({ id: ids, vector }) : new Table({ vector }));
}

describe("edge API: every route, held to GET /openapi.json", () => {
  let kv: Awaited<ReturnType<typeof tempDir>>;
  let server: EdgeServer;
  let api: ApiClient;

  beforeAll(async () => {
    kv = await tempDir();
    server = await startEdge(kv.dir);
    api = await ApiClient.open(server.url);
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  it("serves a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(api.doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.valid, JSON.stringify(result.errors)).to.equal(true);
    expect((api.doc as unknown as { openapi: string }).openapi).to.equal("3.1.0");
  });

  it("system routes: health, metrics, the document, quarantine notes", async () => {
    const health = await api.call("GET", "/health");
    expect(health.status).to.equal(200);
    expect(health.json).to.deep.include({ ok: true, status: "ok", plugins: [], quarantined: [], problems: [] });
    const metrics = await api.call("GET", "/metrics");
    expect(metrics.type).to.equal("text/plain");
    expect(new TextDecoder().decode(metrics.bytes)).to.contain("# TYPE edge_http_requests_total counter");
    expect((await api.call("GET", "/openapi.json")).status).to.equal(200);
    expect((await api.call("GET", "/quarantine")).json).to.deep.equal({ quarantined: [] });
    expect((await api.call("DELETE", "/quarantine")).status).to.equal(204);
  });

  it("plugins: upload answers 201 with Location; bad uploads are typed 4xx and change nothing", async () => {
    for (const [name, type] of [
      ["vector-flat-v1", "application/wasm"],
      ["crdt-v1", "application/octet-stream"],
      ["changelog-v1", "application/wasm"],
      [ARROW_ECHO, "application/octet-stream"],
    ] as const) {
      const res = await api.call("POST", "/plugins", {
        body: await component(name),
        headers: { "content-type": type },
      });
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.headers.get("location")).to.equal(`/plugins/${res.json.id}`);
      expect(res.json.generation).to.equal(1);
    }
    const empty = await api.call("POST", "/plugins", { body: new Uint8Array(0), headers: WASM });
    expect(empty.status).to.equal(400);
    const junk = await api.call("POST", "/plugins", {
      body: new TextEncoder().encode("not a component"),
      headers: WASM,
    });
    expect(junk.status).to.equal(422);
    expect(junk.json.code).to.equal("0x40");
    const twice = await api.call("POST", "/plugins", { body: await component("crdt-v1"), headers: WASM });
    expect(twice.status).to.equal(409);
    expect(twice.json).to.deep.include({ code: "0x45", codeName: "DuplicateKey" });
    expect(twice.json.message).to.contain("POST the new component to /plugins/dev.uni.crdt/reload");
    const text = await api.call("POST", "/plugins", { body: "hello", headers: { "content-type": "text/plain" } });
    expect(text.status).to.equal(415);
    expect((await api.raw("POST", "/plugins", OVER_LIMIT, "application/wasm")).status).to.equal(413);

    const list = await api.call("GET", "/plugins");
    expect(list.json.plugins.map((p: { id: string }) => p.id).sort()).to.deep.equal([
      "dev.uni.changelog",
      "dev.uni.crdt",
      "dev.uni.test.arrow-echo",
      "dev.uni.vector-flat",
    ]);
    const one = await api.call("GET", "/plugins/dev.uni.crdt");
    expect(one.json.registered.crdt).to.include("pn-counter");
    expect((await api.call("GET", "/plugins/dev.uni.nope")).status).to.equal(404);
  });

  it("indexes: build (201), list, describe, search as JSON or Arrow; refusals leave nothing behind", async () => {
    const built = await api.call("POST", "/indexes/docs", { json: { rows: DOCS, options: { metric: "l2" } } });
    expect(built.status, JSON.stringify(built.json)).to.equal(201);
    expect(built.headers.get("location")).to.equal("/indexes/docs");
    expect(built.json).to.deep.include({ name: "docs", kind: "vector.flat", rows: 50 });

    const again = await api.call("POST", "/indexes/docs", { json: { rows: DOCS } });
    expect(again.status).to.equal(409);
    const kind = await api.call("POST", "/indexes/other", { json: { kind: "hnsw", rows: DOCS } });
    expect(kind.status).to.equal(422);
    expect(kind.json.message).to.contain("POST /plugins");
    const bad = await api.call("POST", "/indexes/other", { json: { rows: [{ id: 1, vector: [1, "x"] }] } });
    expect(bad.status).to.equal(400);
    const text = await api.call("POST", "/indexes/other", { body: "{}", headers: { "content-type": "text/plain" } });
    expect(text.status).to.equal(415);
    expect((await api.raw("POST", "/indexes/other", OVER_LIMIT, "application/json")).status).to.equal(413);
    expect((await api.call("GET", "/indexes/other")).status).to.equal(404); // none of them created it

    const list = await api.call("GET", "/indexes");
    expect(list.json.indexes.map((i: { name: string }) => i.name)).to.deep.equal(["docs"]);
    const detail = await api.call("GET", "/indexes/docs");
    expect(detail.json.probeSchema.map((f: { name: string }) => f.name)).to.deep.equal(["query", "id", "distance"]);
    expect((await api.call("GET", "/indexes/nope")).status).to.equal(404);
    expect((await api.call("POST", "/indexes/scratch", { json: { rows: DOCS.slice(0, 3) } })).status).to.equal(201);
    expect((await api.call("DELETE", "/indexes/scratch")).status).to.equal(204);
    expect((await api.call("DELETE", "/indexes/scratch")).status).to.equal(404);
    expect((await api.call("POST", "/indexes/scratch", { json: { rows: DOCS.slice(0, 3) } })).status).to.equal(201); // the name is free again
    expect((await api.call("DELETE", "/indexes/scratch")).status).to.equal(204);

    const query = { vectors: [DOCS[3]?.vector, DOCS[40]?.vector], k: 3 };
    const asJson = await api.call("POST", "/indexes/docs/search", { json: query });
    expect(asJson.status).to.equal(200);
    expect(asJson.json.results).to.have.length(6);
    expect(asJson.json.results[0]).to.deep.include({ query: 0, id: 3, distance: 0 });
    const asArrow = await api.call("POST", "/indexes/docs/search", { json: query, headers: { accept: ARROW } });
    expect(asArrow.type).to.equal(ARROW);
    const rows = table(asArrow.bytes)
      .toArray()
      .map((r) => ({ ...r.toJSON(), id: Number(r.id) }));
    expect(rows).to.deep.equal(asJson.json.results);
    expect(asArrow.headers.get("x-served-by")).to.equal("dev.uni.vector-flat@1.0.0#1");
    const arrowQuery = await api.call("POST", "/indexes/docs/search?k=3", {
      body: arrowOf([DOCS[3], DOCS[40]] as Doc[], false),
      headers: { "content-type": ARROW },
    });
    expect(arrowQuery.json.results).to.deep.equal(asJson.json.results);
    const fromArrow = await api.call("POST", "/indexes/copy", {
      body: arrowOf(DOCS),
      headers: { "content-type": ARROW },
    });
    expect(fromArrow.status).to.equal(201);
    expect((await api.call("DELETE", "/indexes/copy")).status).to.equal(204);
    const html = await api.call("POST", "/indexes/docs/search", { json: query, headers: { accept: "text/html" } });
    expect(html.status).to.equal(406);
    expect((await api.call("POST", "/indexes/docs/search", { json: { vector: [1, 2] } })).status).to.equal(400);
    expect((await api.call("POST", "/indexes/docs/search", { json: { ...query, k: 0 } })).status).to.equal(400);
    expect((await api.call("POST", "/indexes/nope/search", { json: query })).status).to.equal(404);
    const text2 = await api.call("POST", "/indexes/docs/search", {
      body: "x",
      headers: { "content-type": "text/csv" },
    });
    expect(text2.status).to.equal(415);
    expect((await api.raw("POST", "/indexes/docs/search", OVER_LIMIT, ARROW)).status).to.equal(413);
  });

  it("CRDT states: create (201) with a first op, apply ops, read, list, delete; a refused first op creates nothing", async () => {
    const likes = await api.call("POST", "/crdts/likes", { json: { kind: "pn-counter", op: ["replica-a", 5] } });
    expect(likes.status, JSON.stringify(likes.json)).to.equal(201);
    expect(likes.headers.get("location")).to.equal("/crdts/likes");
    expect(likes.json.value).to.equal(5);
    const again = await api.call("POST", "/crdts/likes", { json: { kind: "pn-counter" } });
    expect(again.status).to.equal(409);
    expect(again.json.message).to.contain("POST /crdts/likes/ops");
    expect((await api.call("POST", "/crdts/x", { json: { kind: "max-register" } })).status).to.equal(422);
    const refused = await api.call("POST", "/crdts/x", { json: { kind: "pn-counter", op: "nonsense" } });
    expect(refused.status).to.equal(400);
    expect(refused.json.pluginId).to.equal("dev.uni.crdt");
    expect((await api.call("GET", "/crdts/x")).status).to.equal(404);
    expect((await api.call("POST", "/crdts/x", { json: { op: 1 } })).status).to.equal(400); // no kind
    expect(
      (await api.call("POST", "/crdts/x", { body: "{}", headers: { "content-type": "text/plain" } })).status,
    ).to.equal(415);
    expect((await api.raw("POST", "/crdts/x", OVER_LIMIT, "application/json")).status).to.equal(413);

    const applied = await api.call("POST", "/crdts/likes/ops", { json: { op: ["replica-b", -2] } });
    expect(applied.status).to.equal(200);
    expect(applied.json.value).to.equal(3);
    expect((await api.call("POST", "/crdts/likes/ops", { json: { op: "nonsense" } })).status).to.equal(400);
    expect((await api.call("POST", "/crdts/likes/ops", { json: {} })).status).to.equal(400);
    expect((await api.call("POST", "/crdts/nope/ops", { json: { op: ["a", 1] } })).status).to.equal(404);
    expect(
      (await api.call("POST", "/crdts/likes/ops", { body: "x", headers: { "content-type": "text/plain" } })).status,
    ).to.equal(415);
    expect((await api.raw("POST", "/crdts/likes/ops", OVER_LIMIT, "application/json")).status).to.equal(413);
    expect((await api.call("GET", "/crdts/likes")).json.value).to.equal(3);

    await api.call("POST", "/crdts/tags", { json: { kind: "or-set" } });
    expect((await api.call("GET", "/crdts")).json.crdts.map((c: { name: string }) => c.name)).to.deep.equal([
      "likes",
      "tags",
    ]);
    expect((await api.call("DELETE", "/crdts/tags")).status).to.equal(204);
    expect((await api.call("DELETE", "/crdts/tags")).status).to.equal(404);
    expect((await api.call("GET", "/crdts/nope")).status).to.equal(404);
  });

  it("CDC streams: create (201), ingest JSON or Arrow, read positions and batches back, delete", async () => {
    const made = await api.call("POST", "/cdc/changes", { json: { output: "changelog" } });
    expect(made.status, JSON.stringify(made.json)).to.equal(201);
    expect(made.headers.get("location")).to.equal("/cdc/changes");
    expect((await api.call("POST", "/cdc/changes", { json: { output: "changelog" } })).status).to.equal(409);
    expect((await api.call("POST", "/cdc/s2", { json: { output: "kafka" } })).status).to.equal(422);
    expect((await api.call("POST", "/cdc/s2", { json: {} })).status).to.equal(400);
    expect(
      (await api.call("POST", "/cdc/s2", { body: "x", headers: { "content-type": "text/plain" } })).status,
    ).to.equal(415);
    expect((await api.raw("POST", "/cdc/s2", OVER_LIMIT, "application/json")).status).to.equal(413);
    expect((await api.call("GET", "/cdc/s2")).status).to.equal(404); // none of them created it

    const first = await api.call("POST", "/cdc/changes/ingest", {
      json: { rows: [{ id: 1 }, { id: 2 }], source: "0/A" },
    });
    expect(first.json).to.deep.include({ lsnStart: 0, lsnEnd: 2, rows: 2, acknowledged: 2, delivered: true });
    const arrowBatch = await api.call("POST", "/cdc/changes/ingest?source=0/B", {
      body: (await api.call("GET", "/cdc/changes/batches/0", { headers: { accept: ARROW } })).bytes,
      headers: { "content-type": ARROW },
    });
    expect(arrowBatch.json).to.deep.include({ lsnStart: 2, lsnEnd: 4, rows: 2 });
    expect((await api.call("POST", "/cdc/changes/ingest", { json: { rows: [] } })).status).to.equal(400);
    expect((await api.call("POST", "/cdc/nope/ingest", { json: { rows: [{ id: 1 }] } })).status).to.equal(404);
    const text = await api.call("POST", "/cdc/changes/ingest", {
      body: "id\n1",
      headers: { "content-type": "text/csv" },
    });
    expect(text.status).to.equal(415);
    expect((await api.raw("POST", "/cdc/changes/ingest", OVER_LIMIT, ARROW)).status).to.equal(413);

    expect((await api.call("GET", "/cdc")).json.streams.map((s: { stream: string }) => s.stream)).to.deep.equal([
      "changes",
    ]);
    const log = await api.call("GET", "/cdc/changes");
    expect(log.json).to.deep.include({ nextLsn: 4, acknowledged: 4 });
    expect(log.json.confirmed).to.deep.include({ lsn: 4, source: "0/B" });
    expect(log.json.batches.map((b: { lsnStart: number; lsnEnd: number }) => [b.lsnStart, b.lsnEnd])).to.deep.equal([
      [0, 2],
      [2, 4],
    ]);
    const page = await api.call("GET", "/cdc/changes?from=1&limit=1");
    expect(page.json.batches.map((b: { lsnStart: number }) => b.lsnStart)).to.deep.equal([2]);
    expect((await api.call("GET", "/cdc/changes?from=x")).status).to.equal(400);
    expect((await api.call("GET", "/cdc/nope")).status).to.equal(404);

    const asJson = await api.call("GET", "/cdc/changes/batches/2");
    expect(asJson.json.records).to.deep.equal([{ id: 1 }, { id: 2 }]);
    const asArrow = await api.call("GET", "/cdc/changes/batches/2", { headers: { accept: ARROW } });
    expect(table(asArrow.bytes).numRows).to.equal(2);
    expect((await api.call("GET", "/cdc/changes/batches/2", { headers: { accept: "text/csv" } })).status).to.equal(406);
    expect((await api.call("GET", "/cdc/changes/batches/x")).status).to.equal(400);
    expect((await api.call("GET", "/cdc/changes/batches/1")).status).to.equal(404);

    await api.call("POST", "/cdc/gone", { json: { output: "changelog" } });
    expect((await api.call("DELETE", "/cdc/gone")).status).to.equal(204);
    expect((await api.call("DELETE", "/cdc/gone")).status).to.equal(404);
  });

  it("reload: dry run changes nothing, a reload answers the new generation, refusals keep the old version", async () => {
    const dry = await api.call("POST", "/plugins/dev.uni.crdt/reload?dryRun=true", {
      body: await component("crdt-v2"),
      headers: WASM,
    });
    expect(dry.status, JSON.stringify(dry.json)).to.equal(200);
    expect(dry.json.dryRun).to.equal(true);
    expect(dry.json.plugin).to.deep.include({ version: "1.0.0", generation: 1 });
    const ok = await api.call("POST", "/plugins/dev.uni.crdt/reload", {
      body: await component("crdt-v2"),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(ok.json.plugin).to.deep.include({ version: "2.0.0", generation: 2 });
    expect((await api.call("GET", "/crdts/likes")).json.value).to.equal(3);

    const refused = await api.call("POST", "/plugins/dev.uni.vector-flat/reload", {
      body: await component("vector-flat-v2-incompatible"),
      headers: WASM,
    });
    expect(refused.status).to.equal(409);
    expect(refused.json).to.deep.include({ error: "ReloadError", code: "0x4a", step: "check-compat" });
    expect((await api.call("GET", "/plugins/dev.uni.vector-flat")).json.version).to.equal("1.0.0");
    const junk = await api.call("POST", "/plugins/dev.uni.vector-flat/reload", {
      body: new Uint8Array([0, 97, 115, 109]),
      headers: WASM,
    });
    expect(junk.status).to.equal(422);
    expect(
      (await api.call("POST", "/plugins/dev.uni.vector-flat/reload", { body: new Uint8Array(0), headers: WASM }))
        .status,
    ).to.equal(400);
    expect(
      (
        await api.call("POST", "/plugins/dev.uni.vector-flat/reload?force=maybe", {
          body: await component("vector-flat-v2"),
          headers: WASM,
        })
      ).status,
    ).to.equal(400);
    expect(
      (await api.call("POST", "/plugins/dev.uni.nope/reload", { body: await component("crdt-v2"), headers: WASM }))
        .status,
    ).to.equal(404);
    const text = await api.call("POST", "/plugins/dev.uni.crdt/reload", {
      body: "x",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).to.equal(415);
    expect((await api.raw("POST", "/plugins/dev.uni.crdt/reload", OVER_LIMIT, "application/wasm")).status).to.equal(
      413,
    );
  });

  it("unload: 409 naming the routes that free the plugin, then 204; force drops what it serves", async () => {
    const busy = await api.call("DELETE", "/plugins/dev.uni.vector-flat");
    expect(busy.status).to.equal(409);
    expect(busy.json.message).to.contain("DELETE /indexes/docs");
    expect((await api.call("DELETE", "/plugins/dev.uni.vector-flat?force=perhaps")).status).to.equal(400);
    expect((await api.call("DELETE", "/plugins/dev.uni.vector-flat?force=true")).status).to.equal(204);
    expect((await api.call("GET", "/indexes/docs")).status).to.equal(404);
    expect((await api.call("DELETE", "/plugins/dev.uni.vector-flat")).status).to.equal(404);
    expect((await api.call("DELETE", "/plugins/dev.uni.test.arrow-echo")).status).to.equal(204);
    // Loaded again, it continues its generations (never 1 again).
    const back = await api.call("POST", "/plugins", { body: await component("vector-flat-v1"), headers: WASM });
    expect(back.json.generation).to.equal(2);
  });

  it("a wrong method on every documented path is a 405 with Allow; an unknown path is a 404", async () => {
    const sample: Record<string, string> = { id: "dev.uni.crdt", name: "likes", stream: "changes", lsnStart: "0" };
    for (const path of Object.keys(api.doc.paths)) {
      const concrete = path.replace(/\{(\w+)\}/g, (_, p: string) => sample[p] as string);
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
        if (method.toLowerCase() in (api.doc.paths[path] as object)) continue;
        const res = await api.call(method, concrete); // the client checks 405 and Allow
        expect(res.status, `${method} ${concrete}`).to.equal(405);
      }
    }
    expect((await api.call("GET", "/nope")).status).to.equal(404);
    expect((await api.call("GET", "/indexes/docs/search/more")).status).to.equal(404);
  });

  it("health is 503 with what to do when a stream cannot deliver (its sink log damaged across a restart)", async () => {
    await server.kill();
    await damageRecord(`${kv.dir}/edge.kv`, ["edge", "sink", "changes", "head"]);
    server = await startEdge(kv.dir);
    api = api.at(server.url);
    const health = await api.call("GET", "/health");
    expect(health.status).to.equal(503);
    expect(health.json.status).to.equal("failing");
    expect(health.json.problems[0].what).to.contain('CDC stream "changes" has no sink');
    expect(health.json.problems[0].action).to.contain("DELETE /cdc/changes");
    const refused = await api.call("POST", "/cdc/changes/ingest", { json: { rows: [{ id: 9 }] } });
    expect(refused.status).to.equal(503);
    expect(refused.json.message).to.contain("DELETE /cdc/changes");
    expect((await api.call("GET", "/cdc/changes")).json.sink).to.have.property("problem");
    expect((await api.call("DELETE", "/cdc/changes")).status).to.equal(204);
    expect((await api.call("GET", "/health")).status).to.equal(200);
  });

  it("answered every status and content type the document promises, and took every request type it lists", () => {
    const missing = api.promised().filter((p) => !api.seen.has(p));
    expect(missing, `documented but never answered:\n${missing.join("\n")}`).to.deep.equal([]);
    const refused = api.promisedBodies().filter((p) => !api.accepted.has(p));
    expect(refused, `documented request types never accepted:\n${refused.join("\n")}`).to.deep.equal([]);
  });
});
