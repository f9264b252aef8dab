// The edge server's life over HTTP: the preloaded samples on a first start, uploads and hot reloads, and restarts
// — kill -9 and SIGTERM — that bring back every plugin at its generation (monotonic across restarts), the index
// with identical probe results, CRDT values, and CDC streams continuing with no LSN gap and no duplicate.
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ApiClient } from "./api-client.ts";
import { component, vectors } from "./data.ts";
import { type EdgeServer, startEdge, tempDir } from "./edge-process.ts";

const WASM = { "content-type": "application/wasm" };
const DIM = 16;
const DATA = vectors(300, DIM);
const QUERY = { vectors: [0, 17, 123, 299].map((r) => DATA[r]), k: 5 };
const BATCHES_BEFORE = [3, 1, 4, 1, 5];
const BATCHES_AFTER = [2, 6];

interface Batch {
  lsnStart: number;
  lsnEnd: number;
  rows: number;
  emittedBy: string;
}

describe("edge server: preload, reload, restart", () => {
  let kv: Awaited<ReturnType<typeof tempDir>>;
  let server: EdgeServer;
  let api: ApiClient;
  let searchBefore: unknown;
  const generations = () =>
    api
      .call("GET", "/plugins")
      .then((r) =>
        Object.fromEntries(
          r.json.plugins.map((p: { id: string; version: string; generation: number }) => [
            p.id,
            `${p.version}#${p.generation}`,
          ]),
        ),
      );
  const restart = async (how: "kill" | "stop") => {
    if (how === "kill") await server.kill();
    else expect(await server.stop()).to.equal(0);
    server = await startEdge(kv.dir, "none");
    api = api.at(server.url);
  };

  beforeAll(async () => {
    kv = await tempDir();
    server = await startEdge(kv.dir, { preload: "default" }); // the v1 samples
    api = await ApiClient.open(server.url);
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  it("loads the v1 samples on the first start, and only then", async () => {
    expect(server.restored.map((l) => l.replace(/ \(.*/, ""))).to.deep.equal([
      "plugin dev.uni.vector-flat 1.0.0",
      "plugin dev.uni.crdt 1.0.0",
      "plugin dev.uni.changelog 1.0.0",
      "plugin dev.uni.types 1.0.0",
    ]);
    expect(server.restored.every((l) => l.includes("generation 1, preloaded from"))).to.equal(true);
    // Unloaded, a sample stays unloaded: the preload does not run again on later starts.
    expect((await api.call("DELETE", "/plugins/dev.uni.types")).status).to.equal(204);
    await server.kill();
    server = await startEdge(kv.dir, { preload: "default" });
    api = api.at(server.url);
    expect(server.restored.some((l) => l.includes("preloaded"))).to.equal(false);
    expect(await generations()).to.deep.equal({
      "dev.uni.changelog": "1.0.0#1",
      "dev.uni.crdt": "1.0.0#1",
      "dev.uni.vector-flat": "1.0.0#1",
    });
  });

  it("builds, applies, ingests", async () => {
    const rows = DATA.map((vector, id) => ({ id, vector }));
    expect((await api.call("POST", "/indexes/docs", { json: { rows, options: { metric: "l2" } } })).status).to.equal(
      201,
    );
    const search = await api.call("POST", "/indexes/docs/search", { json: QUERY });
    searchBefore = search.json.results;
    await api.call("POST", "/crdts/likes", { json: { kind: "pn-counter", op: ["replica-a", 5] } });
    expect((await api.call("POST", "/crdts/likes/ops", { json: { op: ["replica-b", -2] } })).json.value).to.equal(3);
    await api.call("POST", "/cdc/changes", { json: { output: "changelog" } });
    let lsn = 0;
    for (const [i, n] of BATCHES_BEFORE.entries()) {
      const res = await api.call("POST", "/cdc/changes/ingest", {
        json: { rows: Array.from({ length: n }, (_, j) => ({ id: i * 100 + j, note: `batch ${i}` })) },
      });
      expect([res.json.lsnStart, res.json.lsnEnd]).to.deep.equal([lsn, lsn + n]);
      lsn += n;
    }
  });

  it("reloads the changelog; a refused reload keeps the old version serving", async () => {
    const changelog = await api.call("POST", "/plugins/dev.uni.changelog/reload", {
      body: await component("changelog-v2"),
      headers: WASM,
    });
    expect(changelog.json.plugin).to.deep.include({ version: "2.0.0", generation: 2 });
    const refused = await api.call("POST", "/plugins/dev.uni.vector-flat/reload", {
      body: await component("vector-flat-v2-incompatible"),
      headers: WASM,
    });
    expect(refused.status).to.equal(409);
    expect((await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results).to.deep.equal(searchBefore);
  });

  it("after kill -9: same versions at the same generations, identical probes, same likes, CDC continues", async () => {
    const before = await generations();
    await restart("kill");
    expect(server.restored).to.include("cdc changes (from KV)");
    expect(await generations()).to.deep.equal(before);
    expect((await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results).to.deep.equal(searchBefore);
    expect((await api.call("GET", "/crdts/likes")).json.value).to.equal(3);

    let lsn = BATCHES_BEFORE.reduce((a, b) => a + b, 0);
    for (const n of BATCHES_AFTER) {
      const res = await api.call("POST", "/cdc/changes/ingest", {
        json: { rows: Array.from({ length: n }, (_, j) => ({ id: j })) },
      });
      expect([res.json.lsnStart, res.json.lsnEnd]).to.deep.equal([lsn, lsn + n]);
      lsn += n;
    }
    const log = await api.call("GET", "/cdc/changes");
    const batches = log.json.batches as Batch[];
    const sizes = [...BATCHES_BEFORE, ...BATCHES_AFTER];
    const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const end = ends[ends.length - 1] as number;
    expect(batches.map((b) => [b.lsnStart, b.lsnEnd])).to.deep.equal(ends.map((e, i) => [e - (sizes[i] as number), e]));
    expect(batches.map((b) => b.rows)).to.deep.equal(sizes);
    expect(log.json).to.deep.include({ nextLsn: end, acknowledged: end });
    expect(batches.slice(0, 5).every((b) => b.emittedBy === "dev.uni.changelog@1.0.0")).to.equal(true);
    expect(batches.slice(5).every((b) => b.emittedBy === "dev.uni.changelog@2.0.0")).to.equal(true);
  });

  it("generations keep rising across restarts: a reload after a restart, and an unload + load", async () => {
    const reload = await api.call("POST", "/plugins/dev.uni.crdt/reload", {
      body: await component("crdt-v2"),
      headers: WASM,
    });
    expect(reload.json.plugin.generation).to.equal(2);
    await restart("kill");
    expect((await api.call("GET", "/plugins/dev.uni.crdt")).json.generation).to.equal(2);
    expect((await api.call("DELETE", "/plugins/dev.uni.crdt?force=true")).status).to.equal(204);
    await restart("kill");
    const back = await api.call("POST", "/plugins", { body: await component("crdt-v1"), headers: WASM });
    expect(back.json.generation).to.equal(3); // never 1 again, though the plugin was gone across a restart
  });

  it("SIGTERM shuts down cleanly (exit 0) and a restart has everything", async () => {
    const before = await generations();
    await restart("stop");
    expect(await generations()).to.deep.equal(before);
    expect((await api.call("POST", "/indexes/docs/search", { json: QUERY })).json.results).to.deep.equal(searchBefore);
  });

  it("serves metrics in the Prometheus text format", async () => {
    const text = new TextDecoder().decode((await api.call("GET", "/metrics")).bytes);
    expect(text).to.match(/^edge_plugin_info\{id="dev\.uni\.changelog",version="2\.0\.0",generation="2"\} 1$/m);
    expect(text).to.match(/^edge_cdc_next_lsn\{stream="changes"\} 22$/m);
    expect(text).to.match(/^edge_cdc_acknowledged_lsn\{stream="changes"\} 22$/m);
    // Counted per route template since this start: the one search the SIGTERM test made.
    expect(text).to.match(/^edge_http_requests_total\{route="POST \/indexes\/\{name\}\/search",status="200"\} 1$/m);
  });
});
