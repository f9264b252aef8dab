// CRDT replication by anti-entropy, in one process: FleetNodes sharing a memory store, real crdt components.
// Values must end equal on every node and equal to a plain model of every op applied anywhere; under version
// skew a v2 replica merges v1 states, and a v1 replica waits for v2 states until it runs v2 itself.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { FleetControl, FleetKeys, FleetNode, nodeNamespace, pollNotifier } from "../../src/fleet/mod.ts";
import { Replication } from "../../src/fleet/replication.ts";
import { PluginHost } from "../../src/mod.ts";
import { memoryStore } from "../../src/store/mod.ts";
import { FAST, freezable, plugin, startNode, type TestNode, until } from "./util.ts";

let nodes: TestNode[] = [];
afterEach(() => {
  for (const n of nodes) {
    n.node.halt();
    n.host.dispose();
  }
  nodes = [];
});

type Op = { node: number; counter: number } | { node: number; add: string };

describe("CRDT replication", () => {
  it("every node ends with the value of all ops, whichever node applied each (seeded property)", async () => {
    const crdtV1 = await plugin("crdt-v1");
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ node: fc.integer({ min: 0, max: 2 }), counter: fc.integer({ min: -50, max: 50 }) }),
            fc.record({ node: fc.integer({ min: 0, max: 2 }), add: fc.string({ minLength: 1, maxLength: 6 }) }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        async (ops: Op[]) => {
          const store = memoryStore();
          await new FleetControl(store).rollout(crdtV1);
          const fleet = await Promise.all(["a", "b", "c"].map((id) => startNode(store, id)));
          nodes.push(...fleet);
          const counters = await Promise.all(fleet.map((n) => n.node.crdt("score", "pn-counter")));
          const sets = await Promise.all(fleet.map((n) => n.node.crdt("tags", "or-set")));
          let sum = 0;
          const added = new Set<string>();
          for (const [i, op] of ops.entries()) {
            if ("counter" in op) {
              if (op.counter === 0) continue;
              await counters[op.node]?.apply([fleet[op.node]?.id, op.counter]);
              sum += op.counter;
            } else {
              await sets[op.node]?.apply(["add", op.add, `t${i}`]);
              added.add(op.add);
            }
          }
          const want = [...added].sort();
          for (const n of fleet) {
            await until(`${n.id} converged`, async () => {
              const score = await n.host.crdt("score")?.value();
              const tags = ((await n.host.crdt("tags")?.value()) as string[] | undefined)?.slice().sort();
              return score === sum && JSON.stringify(tags) === JSON.stringify(want);
            });
          }
          for (const n of fleet) {
            n.node.halt();
            n.host.dispose();
          }
          nodes = [];
        },
      ),
      { seed: 18_2026, numRuns: 12 },
    );
  }, 120_000);

  it("a node joining later creates the replicated states it finds and merges them", async () => {
    const store = memoryStore();
    await new FleetControl(store).rollout(await plugin("crdt-v1"));
    const a = await startNode(store, "a");
    nodes.push(a);
    await (await a.node.crdt("likes", "g-counter")).apply(["a", 7]);
    const late = await startNode(store, "late");
    nodes.push(late);
    await until("late has likes = 7", async () => (await late.host.crdt("likes")?.value()) === 7);
    expect(late.node.status().crdts.map((c) => [c.name, c.kind])).to.deep.equal([["likes", "g-counter"]]);
  });

  it("under version skew, v2 merges v1 replicas at once and v1 defers v2 replicas until it runs v2", async () => {
    const store = memoryStore();
    const keys = new FleetKeys("skew");
    const event = () => {};
    const oldHost = new PluginHost({ onLog: () => {} });
    const newHost = new PluginHost({ onLog: () => {} });
    const oldHandle = await oldHost.load(await plugin("crdt-v1"));
    await newHost.load(await plugin("crdt-v2"));
    // What each serving version reads: v2 was proven (by its rollout's check-compat) to read v1; v1 reads v1.
    let oldReads = ["1.0.0"];
    const old = new Replication({ host: oldHost, store, keys, nodeId: "old", readable: () => oldReads, event });
    const fresh = new Replication({
      host: newHost,
      store,
      keys,
      nodeId: "new",
      readable: () => ["2.0.0", "1.0.0"],
      event,
    });
    old.track("votes", "pn-counter");
    fresh.track("votes", "pn-counter");
    await (await oldHost.createCrdt("votes", "pn-counter")).apply(["old", 5]);
    await (await newHost.createCrdt("votes", "pn-counter")).apply(["new", -2]);
    await old.pass();
    await fresh.pass(); // merges old's v1 record, publishes its v2 state
    await old.pass(); // sees new's v2 record: defers it
    expect(await newHost.crdt("votes")?.value()).to.equal(3);
    expect(await oldHost.crdt("votes")?.value()).to.equal(5);
    const deferred = old.status()[0]?.deferred.new;
    expect(deferred).to.match(/written by dev\.uni\.crdt 2\.0\.0; dev\.uni\.crdt 1\.0\.0 here merges it once/);
    // Feeding v1 the v2 bytes anyway is what the rule prevents: crdt-v1 refuses them (it cannot read format 2).
    const v2Bytes = await newHost.crdt("votes")?.persist();
    await expect(oldHost.crdt("votes")?.merge(v2Bytes as Uint8Array)).rejects.toThrow(/cannot read/);
    // More writes on both sides while skewed, then the old node is reloaded to v2 (as its rollout would).
    await oldHost.crdt("votes")?.apply(["old", 10]);
    await newHost.crdt("votes")?.apply(["new", 1]);
    await oldHost.reload(oldHandle, await plugin("crdt-v2"));
    oldReads = ["2.0.0", "1.0.0"];
    for (let i = 0; i < 2; i++) {
      await old.pass();
      await fresh.pass();
    }
    expect(await oldHost.crdt("votes")?.value()).to.equal(14);
    expect(await newHost.crdt("votes")?.value()).to.equal(14);
    expect(old.status()[0]?.deferred).to.deep.equal({});
    expect(Object.keys(old.status()[0]?.merged ?? {})).to.deep.equal(["new"]);
    oldHost.dispose();
    newHost.dispose();
  });

  it("during a rollout's skew, v2 nodes merge a v1 node's writes and the v1 node defers theirs until it runs v2", async () => {
    const store = memoryStore();
    const control = new FleetControl(store);
    await control.rollout(await plugin("crdt-v1"));
    const a = await startNode(store, "a");
    const b = await startNode(store, "b");
    nodes.push(a, b);
    // c's fleet side reaches the store through a view the test can pause; its host (and so its ops) does not.
    // Its convergence loop polls every 5 s, so once it wakes it stays on 1.0.0 for a while: the skew window.
    const view = freezable(store);
    const host = new PluginHost({ onLog: () => {}, store, namespace: nodeNamespace("c") });
    const node = new FleetNode({
      host,
      store: view.store,
      nodeId: "c",
      ...FAST,
      notify: pollNotifier({ minMs: 5000, maxMs: 5000, jitter: 0 }),
    });
    await node.start();
    const c: TestNode = { id: "c", host, node, events: [] };
    nodes.push(c);
    for (const n of [a, b, c]) await (await n.node.crdt("votes", "pn-counter")).apply([n.id, 1]);
    for (const n of [a, b, c]) await until(`${n.id} merged`, async () => (await n.host.crdt("votes")?.value()) === 3);
    view.freeze(); // c stops heartbeating: the rollout goes on without it
    const { rollout } = await control.rollout(await plugin("crdt-v2"), { canary: "a" });
    expect((await control.wait("dev.uni.crdt", rollout as string)).committed.sort()).to.deep.equal(["a", "b"]);
    await a.host.crdt("votes")?.apply(["a", 10]); // written in 2.0.0's format
    await c.host.crdt("votes")?.apply(["c", 100]); // written by 1.0.0
    view.thaw();
    // The skew window: c serves 1.0.0 and publishes in its format; a and b (2.0.0) merge it at once...
    for (const n of [a, b])
      await until(`${n.id} merged c's 1.0.0 state`, async () => (await n.host.crdt("votes")?.value()) === 113);
    expect(c.host.plugins()[0]?.version).to.equal("1.0.0");
    // ...while c leaves their 2.0.0 states for later, saying why.
    const deferred = await until("c defers the 2.0.0 states", () => {
      const d = c.node.status().crdts[0]?.deferred ?? {};
      return Object.keys(d).length === 2 && d;
    });
    expect(deferred.a).to.match(/written by dev\.uni\.crdt 2\.0\.0/);
    expect(await c.host.crdt("votes")?.value()).to.equal(103);
    // c converges to 2.0.0, then merges what it deferred: everyone holds every op.
    await until("c on 2.0.0", () => c.host.plugins()[0]?.version === "2.0.0", 20_000);
    for (const n of [a, b, c]) await until(`${n.id} = 113`, async () => (await n.host.crdt("votes")?.value()) === 113);
    expect(c.node.status().crdts[0]?.deferred).to.deep.equal({});
  });
});
