// kill -9 in the middle of concurrent ingest: after the restart, the CDC log in KV is contiguous from LSN 0
// with no duplicate, holds every batch whose ingest was acknowledged, and new ingest continues right after it.
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { join } from "node:path";
import { type EdgeServer, repoRoot, startEdge, tempKvDir } from "./edge-process.ts";

interface Batch {
  lsnStart: number;
  lsnEnd: number;
  rows: number;
}

describe("deno edge server: crash during ingest", () => {
  let kv: Awaited<ReturnType<typeof tempKvDir>>;
  let server: EdgeServer;

  beforeAll(async () => {
    kv = await tempKvDir();
    server = await startEdge(kv.dir, join(repoRoot, "plugins-wasm/dist/changelog-v1.wasm"));
  });
  afterAll(async () => {
    await server?.kill();
    await kv?.remove();
  });

  it("keeps every acknowledged batch and leaves no gap or duplicate", async () => {
    const acked: Batch[] = [];
    const ingest = async (i: number) => {
      const rows = Array.from({ length: 1 + (i % 5) }, (_, j) => ({ id: i * 10 + j }));
      try {
        const res = await fetch(`${server.url}/cdc/changes/ingest`, { method: "POST", body: JSON.stringify({ rows }) });
        const body = (await res.json()) as Batch & { code?: number };
        if (res.status === 200) acked.push({ lsnStart: body.lsnStart, lsnEnd: body.lsnEnd, rows: rows.length });
      } catch {
        // The connection died with the server: this batch was never acknowledged.
      }
    };
    // 400 ingests at once; kill -9 as soon as 10 are acknowledged, with the rest queued or on the wire.
    const inFlight = Array.from({ length: 400 }, (_, i) => ingest(i));
    const deadline = Date.now() + 20_000;
    while (acked.length < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    await server.kill();
    await Promise.all(inFlight);
    expect(acked.length).to.be.greaterThan(0);

    server = await startEdge(kv.dir, "none");
    const res = await fetch(`${server.url}/cdc/changes`);
    const log = (await res.json()) as { checkpoint: number; batches: Batch[] };
    let expected = 0;
    for (const b of log.batches) {
      expect(b.lsnStart, JSON.stringify(log.batches)).to.equal(expected); // no gap, no duplicate
      expect(b.lsnEnd - b.lsnStart).to.equal(b.rows);
      expected = b.lsnEnd;
    }
    expect(log.checkpoint).to.equal(expected);
    const stored = new Set(log.batches.map((b) => `${b.lsnStart}-${b.lsnEnd}`));
    for (const a of acked)
      expect(stored.has(`${a.lsnStart}-${a.lsnEnd}`), `acknowledged ${JSON.stringify(a)}`).to.equal(true);

    const next = await fetch(`${server.url}/cdc/changes/ingest`, {
      method: "POST",
      body: JSON.stringify({ rows: [{ id: -1 }, { id: -2 }] }),
    });
    expect(await next.json()).to.deep.include({ lsnStart: expected, lsnEnd: expected + 2 });
    // The plugin came back from KV too.
    expect(server.restored).to.include("plugin dev.uni.changelog v1.0.0 (from KV)");
  });
});
