// Rollouts in one process: several FleetNodes, each with its own PluginHost in its own namespace of one shared
// memory store, driven by a FleetControl. Real components (plugins-wasm/dist), real reloads; the fleet's
// decisions travel only through the store.
import { afterEach, describe, expect, it } from "vitest";
import { FleetControl, readFleetStatus, storeQueue, storeSink } from "../../src/fleet/mod.ts";
import { toIPC } from "../../src/mod.ts";
import { memoryStore } from "../../src/store/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { plugin, rows, startNode, type TestNode, until } from "./util.ts";

let nodes: TestNode[] = [];
afterEach(async () => {
  for (const n of nodes) {
    n.node.halt();
    n.host.dispose();
  }
  nodes = [];
});

async function fleetOf(store: StateStore, ids: string[]): Promise<TestNode[]> {
  const started = await Promise.all(ids.map((id) => startNode(store, id)));
  nodes.push(...started);
  return started;
}

const serving = (n: TestNode, id: string) => n.host.plugins().find((p) => p.id === id);

describe("fleet rollouts", () => {
  it("installs a plugin's first version directly; nodes joining load it", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    const res = await control.rollout(await plugin("crdt-v1"));
    expect(res).to.deep.equal({ pluginId: "dev.uni.crdt", version: "1.0.0", installed: true });
    const fleet = await fleetOf(store, ["a", "b"]);
    for (const n of fleet) expect(serving(n, "dev.uni.crdt")?.version).to.equal("1.0.0");
    expect(await control.rollout(await plugin("crdt-v1"))).to.deep.equal({
      pluginId: "dev.uni.crdt",
      version: "1.0.0",
      unchanged: true,
    });
  });

  it("rolls a version out canary first, then to every node, recording each node's ReloadReport", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    const fleet = await fleetOf(store, ["a", "b", "c"]);
    for (const [i, n] of fleet.entries()) {
      const likes = await n.node.crdt("likes", "pn-counter");
      await likes.apply([n.id, i + 1]);
    }
    const generations = fleet.map((n) => serving(n, "dev.uni.crdt")?.generation ?? 0);
    const { rollout } = await control.rollout(await plugin("crdt-v2"), { canary: "b" });
    const outcome = await control.wait("dev.uni.crdt", rollout as string);
    expect(outcome.phase).to.equal("done");
    await Promise.all(fleet.map((n) => n.node.settled()));
    for (const [i, n] of fleet.entries()) {
      const s = serving(n, "dev.uni.crdt");
      expect(s?.version).to.equal("2.0.0");
      expect(s?.generation).to.be.greaterThan(generations[i] as number);
    }
    // The canary prepared before anyone else started; every node prepared before any committed.
    expect(outcome.prepared.map((p) => p.node)[0]).to.equal("b");
    expect(outcome.prepared.map((p) => p.node).sort()).to.deep.equal(["a", "b", "c"]);
    expect(outcome.committed.sort()).to.deep.equal(["a", "b", "c"]);
    const reports = await control.reports("dev.uni.crdt", rollout as string);
    expect(reports.map((r) => [r.node, r.stage, r.ok]).sort()).to.deep.equal([
      ["a", "committed", true],
      ["b", "committed", true],
      ["c", "committed", true],
    ]);
    for (const r of reports) {
      const report = r.report as { ok: boolean; to: { version: string }; moved: { crdtStates: number } };
      expect(report.ok).to.equal(true);
      expect(report.to.version).to.equal("2.0.0");
      expect(report.moved.crdtStates).to.equal(1);
    }
    const record = await control.plugin("dev.uni.crdt");
    expect(record?.stable.version).to.equal("2.0.0");
    expect(record?.stable.readsFrom).to.deep.equal(["1.0.0"]);
    expect(record?.rollout?.canary).to.equal("b");
    // Each node's heartbeat says what it serves (within a heartbeat of the change).
    const p = await until("the heartbeats show 2.0.0 everywhere", async () => {
      const x = (await readFleetStatus(store, { nodeTtlMs: 5000 })).plugins.find((y) => y.id === "dev.uni.crdt");
      return JSON.stringify(x?.serving) === JSON.stringify({ "2.0.0": ["a", "b", "c"] }) && x;
    });
    expect(p?.rollout?.phase).to.equal("done");
    expect(p?.rollout?.reports.every((x) => x.stage === "committed" && typeof x.totalMs === "number")).to.equal(true);
  });

  it("a version the nodes refuse at check-compat reverts: every node still serves the old one", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    const fleet = await fleetOf(store, ["a", "b", "c"]);
    for (const n of fleet) await (await n.node.crdt("likes", "pn-counter")).apply([n.id, 2]);
    const before = fleet.map((n) => serving(n, "dev.uni.crdt")?.generation);
    const { rollout } = await control.rollout(await plugin("crdt-v2-incompatible"), { canary: "a" });
    const outcome = await control.wait("dev.uni.crdt", rollout as string);
    expect(outcome.phase).to.equal("reverted");
    // The canary refuses in its reload; the others in the dry run they make while the canary prepares. Whoever
    // refuses first reverts the rollout.
    expect(["a", "b", "c"]).to.include(outcome.refusedBy);
    expect(outcome.reason).to.match(/refused dev\.uni\.crdt 2\.0\.0 at check-compat/);
    expect(outcome.prepared).to.deep.equal([]);
    const record = await control.plugin("dev.uni.crdt");
    expect(record?.desired.version).to.equal("1.0.0");
    expect(record?.stable.version).to.equal("1.0.0");
    await Promise.all(fleet.map((n) => n.node.settled()));
    const reports = await control.reports("dev.uni.crdt", rollout as string);
    expect(reports.length).to.be.greaterThan(0);
    for (const r of reports) expect([r.stage, r.error?.step]).to.deep.equal(["refused", "check-compat"]);
    const dryRuns = reports.filter((r) => (r.report as { dryRun?: boolean }).dryRun === true).map((r) => r.node);
    expect(dryRuns).to.not.include("a");
    expect(fleet.map((n) => serving(n, "dev.uni.crdt")?.generation)).to.deep.equal(before);
    // Replication went on: each node's value holds every node's ops.
    for (const n of fleet) await until(`${n.id} merged`, async () => (await n.host.crdt("likes")?.value()) === 6);
  });

  it("a refusal after the canary prepared reverts the canary too: all or nothing across nodes", async () => {
    // changelog-v2-incompatible passes check-compat everywhere but refuses to resume a live stream at handoff,
    // so only the node delivering the stream refuses. The canary is another node: it prepares, waits at the
    // commit barrier, and must roll back when the owner refuses.
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("changelog-v1"));
    const fleet = await fleetOf(store, ["a", "b", "c"]);
    const source = storeQueue(store, ["src"]);
    const sink = storeSink(store, ["sink"]);
    for (const n of fleet) await n.node.stream("changes", { output: "changelog", source, sink, leaseTtlMs: 2000 });
    for (let i = 0; i < 5; i++) await source.append(new Uint8Array(toIpc(rows(i * 3, 3))));
    await until("the stream delivers", async () => (await sink.position()) === 15n);
    const owner = await until("an owner", () => fleet.find((n) => n.node.status().streams[0]?.role === "owner"));
    const canary = fleet.find((n) => n !== owner) as TestNode;
    const before = fleet.map((n) => serving(n, "dev.uni.changelog")?.generation);
    const { rollout } = await control.rollout(await plugin("changelog-v2-incompatible"), { canary: canary.id });
    const outcome = await control.wait("dev.uni.changelog", rollout as string);
    expect(outcome.phase).to.equal("reverted");
    expect(outcome.refusedBy).to.equal(owner.id);
    expect(outcome.reason).to.match(/at handoff: .*incompatible/);
    expect(outcome.prepared.map((p) => p.node)).to.include(canary.id);
    await Promise.all(fleet.map((n) => n.node.settled()));
    const reports = await control.reports("dev.uni.changelog", rollout as string);
    const byNode = new Map(reports.map((r) => [r.node, r]));
    expect(byNode.get(owner.id)?.stage).to.equal("refused");
    expect(byNode.get(owner.id)?.error?.step).to.equal("handoff");
    expect(byNode.get(canary.id)?.stage).to.equal("aborted");
    expect(fleet.map((n) => serving(n, "dev.uni.changelog")?.version)).to.deep.equal(["1.0.0", "1.0.0", "1.0.0"]);
    expect(fleet.map((n) => serving(n, "dev.uni.changelog")?.generation)).to.deep.equal(before);
    // The stream went on through it all.
    for (let i = 5; i < 8; i++) await source.append(new Uint8Array(toIpc(rows(i * 3, 3))));
    await until("the stream delivers the rest", async () => (await sink.position()) === 24n);
  });

  it("a member that dies mid-rollout is left out; when it restarts it converges to the new version", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    const fleet = await fleetOf(store, ["a", "b", "c"]);
    for (const n of fleet) await (await n.node.crdt("likes", "pn-counter")).apply([n.id, 3]);
    for (const n of fleet) await until(`${n.id} merged`, async () => (await n.host.crdt("likes")?.value()) === 9);
    const c = fleet[2] as TestNode;
    const { rollout } = await control.rollout(await plugin("crdt-v2"), { canary: "a" });
    // c dies as the rollout starts: a member that will never prepare.
    c.node.halt();
    c.host.dispose();
    const outcome = await control.wait("dev.uni.crdt", rollout as string);
    expect(outcome.phase).to.equal("done");
    expect(outcome.members).to.deep.equal(["a", "b", "c"]);
    expect(outcome.committed.sort()).to.deep.equal(["a", "b"]);
    await fleet[0]?.host.crdt("likes")?.apply(["a", 1]);
    // c comes back (same id, same namespace): its host restores 1.0.0 and its state; the node converges to 2.0.0.
    const back = await startNode(store, "c");
    nodes.push(back);
    expect(serving(back, "dev.uni.crdt")?.version).to.equal("2.0.0");
    // Outside rollouts each node's last load or reload is its "converge" report.
    const converge = (await control.reports("dev.uni.crdt", "converge")).filter((r) => r.node === "c");
    expect(converge.map((r) => [r.node, r.stage, r.ok])).to.deep.equal([["c", "converged", true]]);
    const report = converge[0]?.report as { from: { version: string }; to: { version: string } };
    expect([report.from.version, report.to.version]).to.deep.equal(["1.0.0", "2.0.0"]);
    for (const n of [fleet[0], fleet[1], back] as TestNode[]) {
      await until(`${n.id} has every op`, async () => (await n.host.crdt("likes")?.value()) === 10);
    }
  });

  it("a node leaving while it waits at the commit barrier rolls back and the rollout goes on without it", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    const [a, b, c] = (await fleetOf(store, ["a", "b", "c"])) as [TestNode, TestNode, TestNode];
    const { rollout } = await control.rollout(await plugin("crdt-v2"), { canary: "a" });
    c.node.halt(); // c never prepares: the others wait for it at the barrier until its heartbeat goes stale
    await until("b prepared", async () =>
      (await control.plugin("dev.uni.crdt"))?.rollout?.prepared.some((p) => p.node === "b"),
    );
    await b.node.stop();
    const outcome = await control.wait("dev.uni.crdt", rollout as string);
    expect(outcome.phase).to.equal("done");
    expect(outcome.committed).to.deep.equal(["a"]);
    const reports = new Map((await control.reports("dev.uni.crdt", rollout as string)).map((r) => [r.node, r]));
    expect(reports.get("b")?.stage).to.equal("aborted");
    expect(reports.get("b")?.error?.message).to.match(/b is leaving the fleet/);
    expect(serving(b, "dev.uni.crdt")?.version).to.equal("1.0.0"); // rolled back, not half-moved
    expect(serving(a, "dev.uni.crdt")?.version).to.equal("2.0.0");
  });

  it("a rollout is refused while another of the same plugin is active, and when no node is up", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    await expect(control.rollout(await plugin("crdt-v2"))).rejects.toThrow(/no node that is up serves/);
    const fleet = await fleetOf(store, ["a"]);
    fleet[0]?.node.halt(); // a node that never takes part keeps the rollout in its canary phase
    const first = await control.rollout(await plugin("crdt-v2"));
    expect(first.rollout).to.be.a("string");
    await expect(control.rollout(await plugin("crdt-v2-incompatible"))).rejects.toMatchObject({
      code: 0x05,
      retryable: true,
    });
  });
});

const toIpc = (t: ReturnType<typeof rows>) => toIPC(t);
