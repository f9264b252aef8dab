// Restarts after failed requests: whatever sequence of refused requests (seeded fast-check sequences drawn from a
// catalogue of every refusal class, interleaved with successful writes) a client sends, a kill -9 and restart
// brings back exactly the state the successful requests made, with nothing set aside and every name still
// usable. And a record damaged in KV while the server is down is set aside, reported at /health with what to do,
// while everything else serves.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ApiClient, ARROW, type CallOptions } from "./api-client.ts";
import { component, vectors } from "./data.ts";
import { type EdgeServer, startEdge, tempDir } from "./edge-process.ts";
import { damageRecord, storeKeys } from "./kv-damage.ts";

const WASM = { "content-type": "application/wasm" };
const DOCS = vectors(40, 4, 7).map((vector, id) => ({ id, vector }));
const QUERY = { vectors: [DOCS[5]?.vector, DOCS[33]?.vector], k: 4 };

type Request = [method: string, path: string, options: CallOptions, status: number];

/** One refused request of each class the API has; each must change nothing. */
async function refusals(): Promise<Request[]> {
  const wasm = async (name: string) => ({ body: await component(name), headers: WASM });
  const arrow = (bytes: Uint8Array) => ({ body: bytes, headers: { "content-type": ARROW } });
  return [
    ["POST", "/cdc/s2/ingest", { json: { output: "kafka", rows: [{ id: 1 }] } }, 404],
    ["POST", "/cdc/s2", { json: { output: "kafka" } }, 422],
    ["POST", "/cdc/s3", { json: {} }, 400],
    ["POST", "/cdc/s4", { json: { output: "changelog", checkpointEvery: 0 } }, 400],
    ["POST", "/cdc/changes", { json: { output: "changelog" } }, 409],
    ["POST", "/cdc/changes/ingest", { json: { rows: [] } }, 400],
    ["POST", "/cdc/changes/ingest", arrow(new TextEncoder().encode("garbage")), 400],
    ["POST", "/cdc/changes/ingest", { body: "id\n1", headers: { "content-type": "text/csv" } }, 415],
    ["POST", "/indexes/docs2", { json: { kind: "nope", rows: DOCS } }, 422],
    ["POST", "/indexes/docs2", { json: { rows: [{ id: 1, vector: [1, "x"] }] } }, 400],
    ["POST", "/indexes/docs2", { body: "{not json", headers: { "content-type": "application/json" } }, 400],
    ["POST", "/indexes/docs", { json: { rows: DOCS } }, 409],
    ["POST", `/indexes/${"n".repeat(201)}`, { json: { rows: DOCS } }, 400],
    ["POST", "/indexes/docs/search", { json: { vector: [1, 2, 3] } }, 400],
    ["POST", "/crdts/c2", { json: { kind: "nope" } }, 422],
    ["POST", "/crdts/c2", { json: { kind: "pn-counter", op: "bad" } }, 400],
    ["POST", "/crdts/likes/ops", { json: { op: "bad" } }, 400],
    ["POST", "/crdts/likes", { json: { kind: "pn-counter" } }, 409],
    ["POST", "/plugins", { body: new TextEncoder().encode("junk"), headers: WASM }, 422],
    ["POST", "/plugins", await wasm("crdt-v1"), 409],
    ["POST", "/plugins/dev.uni.vector-flat/reload", await wasm("vector-flat-v2-incompatible"), 409],
    ["POST", "/plugins/dev.uni.crdt/reload", await wasm("crdt-v2-incompatible"), 409],
    ["POST", "/plugins/dev.uni.changelog/reload", await wasm("changelog-v2-incompatible"), 409],
    ["POST", "/plugins/dev.uni.crdt/reload?dryRun=true", await wasm("crdt-v2"), 200], // changes nothing either
    ["DELETE", "/plugins/dev.uni.crdt", {}, 409],
    ["DELETE", "/indexes/nope", {}, 404],
    ["PUT", "/indexes/docs", {}, 405],
    ["GET", "/nope", {}, 404],
  ];
}

/** Everything a client can observe of the server's state (what a restart must bring back unchanged). */
async function snapshot(api: ApiClient): Promise<unknown> {
  const plugins = (await api.call("GET", "/plugins")).json.plugins.map(
    (p: { id: string; version: string; generation: number; hash: string; resources: unknown[] }) => ({
      id: p.id,
      version: p.version,
      generation: p.generation,
      hash: p.hash,
      resources: p.resources,
    }),
  );
  const search = (await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results;
  const crdts = (await api.call("GET", "/crdts")).json.crdts;
  const likes = (await api.call("GET", "/crdts/likes")).json.value;
  const stream = (await api.call("GET", "/cdc/changes?limit=1000")).json;
  const names = {
    indexes: (await api.call("GET", "/indexes")).json.indexes.map((i: { name: string }) => i.name),
    streams: (await api.call("GET", "/cdc")).json.streams.map((s: { stream: string }) => s.stream),
  };
  return { plugins, search, crdts, likes, stream: { ...stream, servedBy: undefined }, names };
}

describe("edge server: restart after failed requests", () => {
  let kv: Awaited<ReturnType<typeof tempDir>>;
  let server: EdgeServer;
  let api: ApiClient;

  beforeAll(async () => {
    kv = await tempDir();
    server = await startEdge(kv.dir);
    api = await ApiClient.open(server.url);
    for (const name of ["vector-flat-v1", "crdt-v1", "changelog-v1"]) {
      expect((await api.call("POST", "/plugins", { body: await component(name), headers: WASM })).status).to.equal(201);
    }
    expect((await api.call("POST", "/indexes/docs", { json: { rows: DOCS } })).status).to.equal(201);
    expect((await api.call("POST", "/crdts/likes", { json: { kind: "pn-counter", op: ["a", 1] } })).status).to.equal(
      201,
    );
    expect((await api.call("POST", "/cdc/changes", { json: { output: "changelog" } })).status).to.equal(201);
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  const restart = async () => {
    await server.kill();
    server = await startEdge(kv.dir);
    api = api.at(server.url);
  };

  it("the issue's sequence: an ingest naming an unknown output, then a create with it, leave the name usable", async () => {
    const ingest = await api.call("POST", "/cdc/s2/ingest", { json: { output: "kafka", rows: [{ a: 1 }] } });
    expect(ingest.status).to.equal(404);
    expect(ingest.json.message).to.contain("POST /cdc/s2");
    const create = await api.call("POST", "/cdc/s2", { json: { output: "kafka" } });
    expect(create.status).to.equal(422);
    expect(create.json.message).to.contain('no loaded plugin provides CDC output "kafka"');
    await restart();
    expect(server.quarantined).to.equal(0);
    expect((await api.call("GET", "/cdc/s2")).status).to.equal(404);
    expect((await api.call("POST", "/cdc/s2", { json: { output: "changelog" } })).status).to.equal(201);
    expect((await api.call("POST", "/cdc/s2/ingest", { json: { rows: [{ a: 1 }] } })).json.lsnEnd).to.equal(1);
    await restart();
    expect(server.quarantined).to.equal(0);
    expect((await api.call("GET", "/cdc/s2")).json.nextLsn).to.equal(1);
    expect((await api.call("DELETE", "/cdc/s2")).status).to.equal(204);
  });

  it("any sequence of refused requests, with successful writes between them, survives kill -9 exactly", async () => {
    const catalogue = await refusals();
    let likes = (await api.call("GET", "/crdts/likes")).json.value as number;
    let lsn = (await api.call("GET", "/cdc/changes")).json.nextLsn as number;
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: catalogue.length - 1 }).map((i) => ({ refuse: i })) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: -5, max: 5 })
          .filter((d) => d !== 0)
          .map((d) => ({ like: d })),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => ({ ingest: n })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), async (steps) => {
        for (const s of steps) {
          if ("refuse" in s) {
            const [method, path, options, status] = catalogue[s.refuse] as Request;
            const res = await api.call(method, path, options);
            expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).to.equal(status);
          } else if ("like" in s) {
            expect((await api.call("POST", "/crdts/likes/ops", { json: { op: ["b", s.like] } })).status).to.equal(200);
            likes += s.like;
          } else {
            const rows = Array.from({ length: s.ingest }, (_, i) => ({ id: lsn + i }));
            const res = await api.call("POST", "/cdc/changes/ingest", { json: { rows } });
            expect([res.json.lsnStart, res.json.lsnEnd]).to.deep.equal([lsn, lsn + s.ingest]);
            lsn += s.ingest;
          }
        }
        const before = await snapshot(api);
        await restart();
        expect(server.quarantined, server.restored.join("\n")).to.equal(0);
        const health = await api.call("GET", "/health");
        expect(health.json).to.deep.include({ ok: true, status: "ok", quarantined: [], problems: [] });
        expect(await snapshot(api)).to.deep.equal(before);
        expect((await api.call("GET", "/crdts/likes")).json.value).to.equal(likes);
        expect((await api.call("GET", "/cdc/changes")).json.nextLsn).to.equal(lsn);
        // Every name a refused create named is still free.
        for (const path of ["/cdc/s2", "/cdc/s3", "/cdc/s4", "/indexes/docs2", "/crdts/c2"]) {
          expect((await api.call("GET", path)).status, path).to.equal(404);
        }
      }),
      { seed: 20251117, numRuns: 8 },
    );
  });

  it("a damaged record is set aside and reported at /health with what to do; everything else serves", async () => {
    const before = (await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results;
    const lsn = (await api.call("GET", "/cdc/changes")).json.nextLsn;
    await server.kill();
    await damageRecord(`${kv.dir}/edge.kv`, ["uni", "host", "res", "crdt", "likes"]);
    server = await startEdge(kv.dir);
    api = api.at(server.url);
    expect(server.quarantined).to.equal(1);
    expect(server.stderr()).to.contain("GET /health says what to do");

    const health = await api.call("GET", "/health");
    expect(health.status).to.equal(200);
    expect(health.json).to.deep.include({ ok: false, status: "degraded" });
    expect(health.json.restored.quarantined).to.equal(1);
    const [note] = health.json.quarantined;
    expect(note.record).to.deep.equal(["uni", "host", "res", "crdt", "likes"]);
    expect(note.what).to.equal('CRDT state "likes"');
    expect(note.reason).to.match(/CRC|checksum|damaged/i);
    expect(note.action).to.contain("POST /crdts/likes");
    expect(health.json.advice).to.contain("DELETE /quarantine");

    // The rest serves, unchanged; the set-aside name is free to use again.
    expect((await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results).to.deep.equal(before);
    expect((await api.call("GET", "/cdc/changes")).json.nextLsn).to.equal(lsn);
    expect((await api.call("GET", "/crdts/likes")).status).to.equal(404);
    expect((await api.call("POST", "/crdts/likes", { json: { kind: "pn-counter", op: ["a", 2] } })).status).to.equal(
      201,
    );

    // The next restart is clean; the note stays until someone clears it.
    await restart();
    expect(server.quarantined).to.equal(0);
    expect((await api.call("GET", "/crdts/likes")).json.value).to.equal(2);
    expect((await api.call("GET", "/quarantine")).json.quarantined).to.have.length(1);
    expect((await api.call("DELETE", "/quarantine")).status).to.equal(204);
    expect((await api.call("GET", "/health")).json).to.deep.include({ ok: true, status: "ok" });
  });

  it("a damaged plugin record takes its plugin out until it is uploaded again; the others serve", async () => {
    await server.kill();
    await damageRecord(`${kv.dir}/edge.kv`, ["uni", "host", "plugin", "dev.uni.crdt"]);
    server = await startEdge(kv.dir);
    api = api.at(server.url);
    const health = (await api.call("GET", "/health")).json;
    const whats = health.quarantined.map((n: { what: string }) => n.what);
    expect(whats).to.include("plugin dev.uni.crdt");
    expect(whats).to.include('CRDT state "likes"'); // nothing provides pn-counter without it
    const plugin = health.quarantined.find((n: { what: string }) => n.what === "plugin dev.uni.crdt");
    expect(plugin.action).to.contain("POST /plugins");
    expect(health.plugins).to.deep.equal(["dev.uni.changelog@1.0.0", "dev.uni.vector-flat@1.0.0"]);
    expect((await api.call("POST", "/indexes/docs/search", { json: QUERY })).status).to.equal(200);
    const back = await api.call("POST", "/plugins", { body: await component("crdt-v1"), headers: WASM });
    expect(back.status).to.equal(201);
    expect(back.json.generation).to.be.greaterThan(1); // its generation counter survived: never 1 again
  });

  it("the server's own damaged records (preload marker, a quarantine note, a sink batch) never stop it either", async () => {
    await server.kill();
    const kvPath = `${kv.dir}/edge.kv`;
    const [note] = await storeKeys(kvPath, ["edge", "quarantine"]);
    expect(note, "a note from the test before").not.to.equal(undefined);
    await damageRecord(kvPath, note as readonly (string | number | bigint)[]);
    await damageRecord(kvPath, ["edge", "preloaded"]);
    await damageRecord(kvPath, ["edge", "sink", "changes", "b", 0n]);
    server = await startEdge(kv.dir, { preload: "default" });
    api = api.at(server.url);
    expect(server.restored.some((l) => l.includes("preloaded"))).to.equal(false); // a damaged marker still says it ran
    const notes = (await api.call("GET", "/quarantine")).json.quarantined;
    expect(notes.map((n: { what: string }) => n.what)).to.include("a quarantine note of this server");
    const stream = (await api.call("GET", "/cdc/changes?limit=1000")).json;
    expect(stream.sink.damaged).to.deep.equal(["0"]);
    expect(stream.batches[0].lsnStart).to.be.greaterThan(0);
    expect((await api.call("DELETE", "/quarantine")).status).to.equal(204);
    expect((await api.call("GET", "/health")).json).to.deep.include({ ok: true, status: "ok" });
  });
});
