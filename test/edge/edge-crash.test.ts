// kill -9 in the middle of concurrent ingest: after the restart the sink log is contiguous from LSN 0 with no
// duplicate, covers every batch whose ingest was acknowledged, and new ingest continues right after it — with an
// output that emits each batch as it comes (changelog v1) and one that buffers and regroups them (v2), whose
// redelivered emits after the restart need not line up with what the sink log held.
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ApiClient } from "./api-client.ts";
import { component } from "./data.ts";
import { type EdgeServer, startEdge, tempDir } from "./edge-process.ts";

interface Range {
  lsnStart: number;
  lsnEnd: number;
}

describe("edge server: kill -9 during ingest", () => {
  let kv: Awaited<ReturnType<typeof tempDir>>;
  let server: EdgeServer;
  let api: ApiClient;

  beforeAll(async () => {
    kv = await tempDir();
    server = await startEdge(kv.dir, "plugins-wasm/dist/changelog-v1.wasm");
    api = await ApiClient.open(server.url);
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  /** Fires `count` ingests at once into `stream`; kill -9 the moment `killAfter` are acknowledged. */
  async function crashDuringIngest(stream: string, count: number, killAfter: number): Promise<Range[]> {
    const acked: Range[] = [];
    const url = server.url;
    let killed: Promise<void> | undefined;
    const ingest = async (i: number) => {
      const rows = Array.from({ length: 1 + (i % 5) }, (_, j) => ({ id: i * 10 + j }));
      try {
        const res = await fetch(`${url}/cdc/${stream}/ingest`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ rows }),
        });
        const body = await res.json();
        if (res.status === 200) acked.push({ lsnStart: body.lsnStart, lsnEnd: body.lsnEnd });
        if (acked.length === killAfter) killed ??= server.kill();
      } catch {
        // The connection died with the server: this batch was never acknowledged.
      }
    };
    await Promise.all(Array.from({ length: count }, (_, i) => ingest(i)));
    await (killed ?? server.kill());
    expect(acked.length).to.be.greaterThan(0);
    return acked;
  }

  /** After a restart: the sink log is [0, end) without gap or overlap, covers every acknowledged range, continues. */
  async function expectIntact(stream: string, acked: Range[]): Promise<void> {
    server = await startEdge(kv.dir, "none");
    api = api.at(server.url);
    expect(server.quarantined).to.equal(0);
    // One more ingest: answered once everything before it is in the sink log too (redelivered after the restart).
    const next = await api.call("POST", `/cdc/${stream}/ingest`, { json: { rows: [{ id: -1 }, { id: -2 }] } });
    expect(next.status).to.equal(200);
    const batches: (Range & { rows: number })[] = [];
    for (let url = `/cdc/${stream}?limit=1000`; url; ) {
      const page = await api.call("GET", url);
      batches.push(...page.json.batches);
      url = page.json.next;
    }
    let end = 0;
    for (const b of batches) {
      expect(b.lsnStart, JSON.stringify(batches)).to.equal(end); // no gap, no duplicate
      expect(b.rows).to.equal(b.lsnEnd - b.lsnStart); // one LSN per row
      end = b.lsnEnd;
    }
    expect(next.json).to.deep.include({ lsnEnd: end, acknowledged: end });
    for (const a of acked) expect(a.lsnEnd, `acknowledged ${JSON.stringify(a)}`).to.be.at.most(end);
  }

  it("an output that emits every batch as it comes (changelog v1)", async () => {
    expect((await api.call("POST", "/cdc/v1", { json: { output: "changelog" } })).status).to.equal(201);
    const acked = await crashDuringIngest("v1", 1000, 3);
    await expectIntact("v1", acked);
  });

  it("an output that buffers and regroups batches (changelog v2)", async () => {
    const res = await api.call("POST", "/plugins/dev.uni.changelog/reload", {
      body: await component("changelog-v2"),
      headers: { "content-type": "application/wasm" },
    });
    expect(res.status).to.equal(200);
    expect(
      (await api.call("POST", "/cdc/v2", { json: { output: "changelog", checkpointEvery: 1000 } })).status,
    ).to.equal(201);
    const acked = await crashDuringIngest("v2", 1000, 3);
    await expectIntact("v2", acked);
  });
});
