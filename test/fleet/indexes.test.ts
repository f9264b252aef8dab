// Index replicas in one process: an index built on one node is opened from its published snapshot by every other
// node, including one that joins later, and probes identically everywhere; after a rollout the snapshot is
// written again in the new version's format, and a node joining then opens that one.
import { afterEach, describe, expect, it } from "vitest";
import { FleetControl } from "../../src/fleet/mod.ts";
import { readIndex } from "../../src/fleet/records.ts";
import { memoryStore } from "../../src/store/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { queryTable, rowsOf, vectorTable } from "../shared/reload-util.ts";
import { plugin, startNode, type TestNode, until } from "./util.ts";

let nodes: TestNode[] = [];
afterEach(() => {
  for (const n of nodes) {
    n.node.halt();
    n.host.dispose();
  }
  nodes = [];
});

async function start(store: StateStore, id: string): Promise<TestNode> {
  const n = await startNode(store, id);
  nodes.push(n);
  return n;
}

async function snapshotRecord(store: StateStore, node: TestNode, name: string) {
  const key = node.node.keys.index(name);
  const e = await store.get(key);
  return e ? readIndex(key, e.value) : undefined;
}

describe("index replicas", () => {
  it("every node, and a node joining later, opens the snapshot and probes identically", async () => {
    const store = memoryStore();
    await new FleetControl(store).rollout(await plugin("vector-flat-v1"));
    const a = await start(store, "a");
    const b = await start(store, "b");
    // 400 × 64-d float32 vectors: a 100 KiB snapshot, stored as a blob the record links.
    const docs = await a.node.createIndex("docs", "vector.flat", vectorTable(400, 64, 3), { metric: "l2" });
    const q = queryTable(5, 64, 4);
    const want = rowsOf(await docs.probe(q, 7));
    const record = await snapshotRecord(store, a, "docs");
    expect(record && "blob" in record.snapshot).to.equal(true);
    expect(record?.version).to.equal("1.0.0");
    await until("b opened docs", () => b.host.index("docs"));
    const late = await start(store, "late"); // start() opens the fleet's indexes before it resolves
    for (const n of [b, late]) expect(rowsOf((await n.host.index("docs")?.probe(q, 7)) as never)).to.deep.equal(want);
    expect(late.node.status().indexes).to.deep.equal({ open: ["docs"], waiting: {} });
    await expect(b.node.createIndex("docs", "vector.flat", vectorTable(10, 64, 1))).rejects.toThrow(
      /already has an index/,
    );
  });

  it("after a rollout the snapshot is in the new version's format, and a node joining then opens that", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("vector-flat-v1"));
    const a = await start(store, "a");
    const b = await start(store, "b");
    const docs = await a.node.createIndex("docs", "vector.flat", vectorTable(300, 16, 5), { metric: "cosine" });
    const q = queryTable(3, 16, 6);
    const want = rowsOf(await docs.probe(q, 5));
    await until("b opened docs", () => b.host.index("docs"));
    const { rollout } = await control.rollout(await plugin("vector-flat-v2"));
    expect((await control.wait("dev.uni.vector-flat", rollout as string)).phase).to.equal("done");
    await until(
      "the snapshot republished by 2.0.0",
      async () => (await snapshotRecord(store, a, "docs"))?.version === "2.0.0",
    );
    const late = await start(store, "late");
    expect(late.host.plugins().find((p) => p.id === "dev.uni.vector-flat")?.version).to.equal("2.0.0");
    for (const n of [a, b, late]) {
      expect(n.host.index("docs")?.servedBy.version).to.equal("2.0.0");
      expect(rowsOf((await n.host.index("docs")?.probe(q, 5)) as never)).to.deep.equal(want);
    }
  });
});
