// CDC ownership in one process: FleetNodes sharing a memory store, the real changelog component, a store queue as
// the source and a store sink that records its position with each batch. Whatever happens to owners — a crash, a
// pause past the lease, a clean stop — every source row reaches the sink exactly once, in order.
import { afterEach, describe, expect, it } from "vitest";
import { FleetControl, type SinkBatch, storeQueue, storeSink } from "../../src/fleet/mod.ts";
import { fromIPC, toIPC } from "../../src/mod.ts";
import { memoryStore } from "../../src/store/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { freezable, plugin, rows, startNode, type TestNode, until } from "./util.ts";

let nodes: TestNode[] = [];
afterEach(() => {
  for (const n of nodes) {
    n.node.halt();
    n.host.dispose();
  }
  nodes = [];
});

const TTL = 400;

/** Every LSN from 0 to `end` exactly once over the batches, and the rows in them exactly `0..rowCount`. */
function expectExactlyOnce(batches: SinkBatch[], rowCount: number): void {
  let at = 0n;
  for (const b of batches) {
    expect(b.lsnStart, `batch [${b.lsnStart}, ${b.lsnEnd})`).to.equal(at);
    at = b.lsnEnd;
  }
  const ids = batches.flatMap((b) => [...(fromIPC(b.payload).getChild("row")?.toArray() ?? [])].map(Number));
  expect(ids).to.deep.equal(Array.from({ length: rowCount }, (_, i) => i));
}

async function setup(nodeIds: string[], storeFor: (id: string) => StateStore = () => base) {
  const control = new FleetControl(base);
  await control.rollout(await plugin("changelog-v1"));
  const source = storeQueue(base, ["src", "changes"]);
  const sink = storeSink(base, ["sink", "changes"]);
  const fleet: TestNode[] = [];
  for (const id of nodeIds) {
    const n = await startNode(storeFor(id), id);
    nodes.push(n);
    // Each node reaches the source and sink through its own view of the store (a paused node is paused there too).
    const store = storeFor(id);
    await n.node.stream("changes", {
      output: "changelog",
      source: storeQueue(store, ["src", "changes"]),
      sink: storeSink(store, ["sink", "changes"]),
      leaseTtlMs: TTL,
      checkpointMs: 50,
    });
    fleet.push(n);
  }
  let appended = 0;
  const append = async (batches: number) => {
    for (let i = 0; i < batches; i++) {
      await source.append(toIPC(rows(appended, 3)));
      appended += 3;
    }
  };
  const owner = () => fleet.find((n) => n.node.status().streams[0]?.role === "owner");
  return { control, source, sink, fleet, append, owner, appended: () => appended };
}

let base: StateStore;

describe("CDC ownership", () => {
  it("one node delivers; when it crashes another takes over and every row reaches the sink exactly once", async () => {
    base = memoryStore();
    const f = await setup(["a", "b", "c"]);
    await f.append(10);
    const first = await until("an owner", f.owner);
    await until("30 rows delivered", async () => (await f.sink.position()) === 30n);
    expect(f.fleet.filter((n) => n.node.status().streams[0]?.role === "owner")).to.have.length(1);
    // Crash the owner while batches keep coming.
    const producing = f.append(20);
    await until("some of them delivered", async () => (await f.sink.position()) > 36n);
    first.node.halt();
    first.host.dispose();
    await producing;
    const second = await until("another owner", () =>
      f.fleet.find((n) => n !== first && n.node.status().streams[0]?.role === "owner"),
    );
    await f.append(10);
    await until("every row delivered", async () => (await f.sink.position()) === BigInt(f.appended()));
    const batches = await f.sink.batches();
    expectExactlyOnce(batches, f.appended());
    const tokens = [...new Set(batches.map((b) => `${b.node}:${b.token}`))];
    expect(tokens[0]).to.equal(`${first.id}:1`);
    expect(tokens.at(-1)).to.equal(`${second.id}:2`);
    expect(second.node.status().streams[0]?.takeovers).to.equal(1);
    // The source was confirmed up to what the sink holds, and trimmed behind it.
    await until("the source confirmed", async () => Number(await f.source.confirmed()) >= f.appended() / 3 - 5);
  });

  it("an owner paused past its lease delivers nothing twice when it wakes", async () => {
    base = memoryStore();
    const views = new Map<string, ReturnType<typeof freezable>>();
    const f = await setup(["a", "b"], (id) => {
      const v = views.get(id) ?? freezable(base);
      views.set(id, v);
      return v.store;
    });
    await f.append(5);
    const first = await until("an owner", f.owner);
    await until("15 rows delivered", async () => (await f.sink.position()) === 15n);
    views.get(first.id)?.freeze(); // its renewals, publications and sink writes now hang
    const producing = f.append(10);
    const other = f.fleet.find((n) => n !== first) as TestNode;
    await until("the other node took over", () => other.node.status().streams[0]?.role === "owner");
    await producing;
    await until("every row delivered", async () => (await f.sink.position()) === BigInt(f.appended()));
    views.get(first.id)?.thaw(); // the paused owner wakes up holding a stale lease and a stale state
    await until("it stepped down", () => first.node.status().streams[0]?.role === "candidate");
    expect(first.events.some((e) => e.type === "lost")).to.equal(true);
    await f.append(5);
    await until("every row delivered", async () => (await f.sink.position()) === BigInt(f.appended()));
    expectExactlyOnce(await f.sink.batches(), f.appended());
  });

  it("a publication checked against a state record someone else rewrote fails: the owner steps down first", async () => {
    base = memoryStore();
    const f = await setup(["a"]);
    await f.append(3);
    const owner = await until("an owner", f.owner);
    await until("9 rows delivered", async () => (await f.sink.position()) === 9n);
    // What a node taking over does first: rewrite the stream's state record (here with the same state).
    const key = owner.node.keys.stream("changes");
    const e = await base.get(key);
    await base.commit({ mutations: [{ type: "set", key, value: e?.value as Uint8Array, blobs: e?.blobs ?? [] }] });
    await f.append(3);
    await until("every row delivered", async () => (await f.sink.position()) === 18n);
    const lost = owner.events.filter((x) => x.type === "lost");
    expect(lost.map((x) => (x as { reason: string }).reason)).to.deep.equal([
      "another node published the stream's state",
    ]);
    // The lease still named this node, so it took the stream over again, from the published state.
    expect(owner.node.status().streams[0]?.takeovers).to.equal(2);
    expectExactlyOnce(await f.sink.batches(), 18);
  });

  it("a clean stop hands the stream over at once (the lease is freed, not left to expire)", async () => {
    base = memoryStore();
    const f = await setup(["a", "b"]);
    await f.append(4);
    const first = await until("an owner", f.owner);
    await until("12 rows delivered", async () => (await f.sink.position()) === 12n);
    await first.node.stop();
    const other = f.fleet.find((n) => n !== first) as TestNode;
    await until("the other node took over", () => other.node.status().streams[0]?.role === "owner");
    await f.append(4);
    await until("every row delivered", async () => (await f.sink.position()) === 24n);
    expectExactlyOnce(await f.sink.batches(), 24);
  });

  it("a rollout of the output hands the live stream over on its owner, exactly once", async () => {
    base = memoryStore();
    const f = await setup(["a", "b"]);
    await f.append(6);
    await until("18 rows delivered", async () => (await f.sink.position()) === 18n);
    const producing = f.append(12);
    const { rollout } = await f.control.rollout(await plugin("changelog-v2"));
    expect((await f.control.wait("dev.uni.changelog", rollout as string)).phase).to.equal("done");
    await producing;
    await f.append(6); // delivered by 2.0.0
    await until("every row delivered", async () => (await f.sink.position()) === BigInt(f.appended()));
    const batches = await f.sink.batches();
    expectExactlyOnce(batches, f.appended());
    expect(new Set(batches.map((b) => b.version))).to.deep.equal(new Set(["1.0.0", "2.0.0"]));
  });
});
