// Arrow IPC bodies both ways: indexes built and probed with Arrow streams (any schema, so an uploaded custom index
// kind works over HTTP: the arrow-echo fixture), answers parsed with apache-arrow, CDC batches in and out as Arrow,
// JSON as the convenience beside it, and bad Arrow bodies refused with typed 4xx errors that leave nothing behind.
import {
  Bool,
  Field,
  Float64,
  Float32,
  Int32,
  Int64,
  List,
  makeVector,
  Table,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { vectorColumn } from "../shared/reload-util.ts";
import { ApiClient, ARROW } from "./api-client.ts";
import { ARROW_ECHO, cells, component, ipc, table, vectors } from "./data.ts";
import { type EdgeServer, startEdge, tempDir } from "./edge-process.ts";

const DIM = 6;
const DATA = vectors(120, DIM, 99);

function vectorTable(rows: number[][], ids: number[]): Table {
  return new Table({
    id: makeVector(BigInt64Array.from(ids, BigInt)),
    vector: vectorColumn(Float32Array.from(rows.flat()), DIM),
  });
}

/** A table of many column types, with nulls: what the arrow.echo kind must carry through HTTP unchanged. */
function mixedTable(): Table {
  return new Table({
    name: vectorFromArray(["a", null, "ccc", "δ"], new Utf8()),
    count: vectorFromArray([1, 2, null, -4], new Int32()),
    big: vectorFromArray([1n, -(2n ** 60n), 3n, null], new Int64()),
    score: vectorFromArray([0.5, null, Number.MAX_VALUE, -0], new Float64()),
    tags: vectorFromArray([[1, 2], [], null, [3]], new List(new Field("item", new Float32(), true))),
  });
}

describe("edge API: Arrow IPC bodies", () => {
  let kv: Awaited<ReturnType<typeof tempDir>>;
  let server: EdgeServer;
  let api: ApiClient;

  beforeAll(async () => {
    kv = await tempDir();
    server = await startEdge(kv.dir);
    api = await ApiClient.open(server.url);
    for (const name of ["vector-flat-v1", "changelog-v1", ARROW_ECHO]) {
      const res = await api.call("POST", "/plugins", { body: await component(name) });
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
    }
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  it("vector.flat: build from an Arrow stream, probe with Arrow or JSON, answers in Arrow or JSON agree", async () => {
    const ids = DATA.map((_, i) => 500 + i);
    const built = await api.call("POST", `/indexes/vec?options=${encodeURIComponent('{"metric":"l2"}')}`, {
      body: ipc(vectorTable(DATA, ids)),
      headers: { "content-type": ARROW },
    });
    expect(built.status, JSON.stringify(built.json)).to.equal(201);
    expect(built.json).to.deep.include({ kind: "vector.flat", rows: DATA.length });

    const picks = [0, 7, 119];
    const query = new Table({
      vector: vectorColumn(Float32Array.from(picks.flatMap((p) => DATA[p] as number[])), DIM),
    });
    const arrowIn = await api.call("POST", "/indexes/vec/search?k=4", {
      body: ipc(query),
      headers: { "content-type": ARROW, accept: ARROW },
    });
    expect(arrowIn.status).to.equal(200);
    expect(arrowIn.type).to.equal(ARROW);
    const result = table(arrowIn.bytes);
    expect(result.schema.fields.map((f) => `${f.name}:${f.type}`)).to.deep.equal([
      "query:Int32",
      "id:Int64",
      "distance:Float32",
    ]);
    expect(result.numRows).to.equal(12);
    picks.forEach((p, q) => {
      const first = result.toArray().find((r) => r.query === q);
      expect(first?.id, `query ${q}`).to.equal(BigInt(500 + p)); // a stored vector is its own nearest
      expect(first?.distance).to.equal(0);
    });
    const jsonIn = await api.call("POST", "/indexes/vec/search", {
      json: { vectors: picks.map((p) => DATA[p]), k: 4 },
      headers: { accept: `${ARROW}, application/json;q=0.5` },
    });
    expect(cells(table(jsonIn.bytes))).to.deep.equal(cells(result));
    const jsonOut = await api.call("POST", "/indexes/vec/search?k=4", {
      body: ipc(query),
      headers: { "content-type": ARROW },
    });
    expect(jsonOut.type).to.equal("application/json");
    expect(jsonOut.json.results).to.deep.equal(
      result.toArray().map((r) => ({ query: r.query, id: Number(r.id), distance: r.distance })),
    );
  });

  it("a custom index kind of any schema over HTTP: arrow.echo built, described and probed with Arrow", async () => {
    const source = mixedTable();
    const built = await api.call("POST", "/indexes/echo?kind=arrow.echo", {
      body: ipc(source),
      headers: { "content-type": ARROW },
    });
    expect(built.status, JSON.stringify(built.json)).to.equal(201);
    expect(built.json).to.deep.include({ name: "echo", kind: "arrow.echo", rows: 4 });
    expect(built.json.servedBy.id).to.equal("dev.uni.test.arrow-echo");
    const detail = await api.call("GET", "/indexes/echo");
    expect(detail.json.probeSchema.map((f: { name: string }) => f.name)).to.deep.equal([
      "name",
      "count",
      "big",
      "score",
      "tags",
    ]);

    // arrow.echo answers a probe with its query (k = 1: the query's batches in one): any schema round-trips.
    const query = new Table({
      word: vectorFromArray(["x", null, "zz"], new Utf8()),
      n: vectorFromArray([7n, null, -1n], new Int64()),
    });
    const echoed = await api.call("POST", "/indexes/echo/search?k=1", {
      body: ipc(query),
      headers: { "content-type": ARROW, accept: ARROW },
    });
    expect(echoed.status, new TextDecoder().decode(echoed.bytes.slice(0, 300))).to.equal(200);
    const back = table(echoed.bytes);
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}`)).to.deep.equal(["word:Utf8", "n:Int64"]);
    expect(cells(back)).to.deep.equal(cells(query));
    const asJson = await api.call("POST", "/indexes/echo/search?k=1", {
      body: ipc(query),
      headers: { "content-type": ARROW },
    });
    expect(asJson.json.results).to.deep.equal([
      { word: "x", n: 7 },
      { word: null, n: null },
      { word: "zz", n: -1 },
    ]);
    // JSON rows are the convenience for other kinds: columns inferred by apache-arrow.
    const fromJson = await api.call("POST", "/indexes/echo/search?k=1", {
      json: { rows: [{ word: "j", n: 2 }] },
      headers: { accept: ARROW },
    });
    expect(table(fromJson.bytes).schema.fields.map((f) => `${f.name}:${f.type}`)).to.deep.equal([
      "word:Utf8",
      "n:Float64",
    ]);

    // After a kill -9 the index comes back from KV with the same bytes (its persist is its source, re-encoded).
    await server.kill();
    server = await startEdge(kv.dir);
    api = api.at(server.url);
    expect(server.restored).to.include("index echo (from KV)");
    const again = await api.call("POST", "/indexes/echo/search?k=1", {
      body: ipc(query),
      headers: { "content-type": ARROW, accept: ARROW },
    });
    expect(cells(table(again.bytes))).to.deep.equal(cells(query));
  });

  it("CDC: an Arrow batch in comes back out as the output emitted it, in Arrow or as JSON records", async () => {
    expect((await api.call("POST", "/cdc/feed", { json: { output: "changelog" } })).status).to.equal(201);
    const batch = new Table({
      id: vectorFromArray([10n, 11n, 12n], new Int64()),
      op: vectorFromArray(["insert", "update", null], new Utf8()),
      price: vectorFromArray([1.25, null, 3], new Float64()),
    });
    const res = await api.call("POST", "/cdc/feed/ingest?source=0/16B3748&commitMicros=1700000000000000", {
      body: ipc(batch),
      headers: { "content-type": ARROW },
    });
    expect(res.json).to.deep.include({ lsnStart: 0, lsnEnd: 3, rows: 3, delivered: true });
    expect(res.json.confirmed).to.deep.equal({ lsn: 3, source: "0/16B3748", commitMicros: 1700000000000000 });
    const out = await api.call("GET", "/cdc/feed/batches/0", { headers: { accept: ARROW } });
    expect(out.headers.get("x-lsn-range")).to.equal("0-3");
    const emitted = table(out.bytes);
    expect(cells(emitted)).to.deep.equal(cells(batch));
    const records = await api.call("GET", "/cdc/feed/batches/0");
    expect(records.json.records).to.deep.equal([
      { id: 10, op: "insert", price: 1.25 },
      { id: 11, op: "update", price: null },
      { id: 12, op: null, price: 3 },
    ]);
    expect(records.json).to.deep.include({ rows: 3, emittedBy: "dev.uni.changelog@1.0.0" });
  });

  it("bad Arrow bodies are typed 4xx errors, and nothing was created or logged", async () => {
    const junk = await api.call("POST", "/indexes/bad", {
      body: new TextEncoder().encode("this is not arrow"),
      headers: { "content-type": ARROW },
    });
    expect(junk.status).to.equal(400);
    expect(junk.json).to.deep.include({ code: "0x02", codeName: "TypeCoercion" });
    expect(junk.json.message).to.contain("not an Arrow IPC stream");
    const file = await api.call("POST", "/indexes/bad", {
      body: new Uint8Array([...new TextEncoder().encode("ARROW1"), 0, 0]),
      headers: { "content-type": ARROW },
    });
    expect(file.status).to.equal(400);
    expect(file.json.message).to.contain("stream format");
    const fileType = await api.call("POST", "/indexes/bad", {
      body: ipc(mixedTable()),
      headers: { "content-type": "application/vnd.apache.arrow.file" },
    });
    expect(fileType.status).to.equal(415);
    const empty = await api.call("POST", "/indexes/bad", {
      body: new Uint8Array(0),
      headers: { "content-type": ARROW },
    });
    expect(empty.status).to.equal(400);
    // A valid stream in a schema vector.flat cannot read: the plugin refuses the build.
    const wrongSchema = await api.call("POST", "/indexes/bad", {
      body: ipc(mixedTable()),
      headers: { "content-type": ARROW },
    });
    expect(wrongSchema.status).to.equal(400);
    expect(wrongSchema.json.pluginId).to.equal("dev.uni.vector-flat");
    // A kind that reads any schema refuses what its plugin cannot keep (the SDK writes no Bool columns).
    const bools = new Table({ flag: vectorFromArray([true, false, null], new Bool()) });
    const echo = await api.call("POST", "/indexes/bad?kind=arrow.echo", {
      body: ipc(bools),
      headers: { "content-type": ARROW },
    });
    expect(echo.status).to.equal(400);
    expect(echo.json.message).to.contain("Bool");
    expect((await api.call("GET", "/indexes/bad")).status).to.equal(404);
    const truncated = ipc(mixedTable()).slice(0, 200);
    const cut = await api.call("POST", "/cdc/feed/ingest", { body: truncated, headers: { "content-type": ARROW } });
    expect(cut.status).to.equal(400);
    const probe = await api.call("POST", "/indexes/vec/search", {
      body: ipc(mixedTable()),
      headers: { "content-type": ARROW },
    });
    expect(probe.status).to.equal(400);
    const log = await api.call("GET", "/cdc/feed");
    expect(log.json.nextLsn).to.equal(3); // nothing was logged by the refused batch
  });
});
