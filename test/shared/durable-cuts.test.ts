// A crash at every commit boundary of the durable-host workload (durable-workload.ts), in every runtime: the
// workload runs once on a memory store that keeps a copy of its storage at each commit (durable-cut-util.ts), and
// a host restored from each copy is held against the acknowledgements made by then (durable-ledger.ts). Then each
// restored host catches downstream up and publishes once more: nothing acknowledged is missing downstream, no row
// arrives twice, and the stream goes on at the next LSN. The sink keeps its records in the same storage, under its
// own keys: a cut is both systems stopping at the same instant, as a process holding both does when it is killed.
// Kill -9 tests of real processes, on the file store, Deno KV and IndexedDB, are in test/durable.
import { describe, expect, it } from "#test";
import { PluginHost } from "../../src/mod.ts";
import { memoryStore } from "../../src/store/mod.ts";
import { CuttingStorage, copyOf } from "./durable-cut-util.ts";
import { Ledger } from "./durable-ledger.ts";
import { type Ack, batchTable, Downstream, runWorkload, view } from "./durable-workload.ts";
import { plugin } from "./reload-util.ts";

const SINK = ["downstream"];

interface CutRun {
  durability: "journal" | "snapshot";
  snapshotEveryOps?: number;
  snapshotIntervalMs?: number;
  steps: number;
}

/** Runs the workload once, then restores from every cut; returns the problems found per cut, and totals. */
async function everyCut(run: CutRun) {
  const cut = new CuttingStorage();
  const acks: { counter: bigint; ack: Ack }[] = [];
  const options = {
    onLog: () => {},
    durability: run.durability,
    ...(run.snapshotEveryOps ? { snapshotEveryOps: run.snapshotEveryOps } : {}),
    ...(run.snapshotIntervalMs ? { snapshotIntervalMs: run.snapshotIntervalMs } : {}),
  };
  const host = new PluginHost({ ...options, store: memoryStore({ storage: cut.storage }) });
  await host.restored;
  const downstream = new Downstream(memoryStore({ storage: cut.storage }), SINK);
  await downstream.open();
  await runWorkload({
    host,
    round: 0,
    component: plugin,
    ack: (a) => acks.push({ counter: cut.counter, ack: a }),
    downstream,
    steps: run.steps,
  });
  await host.cdc("feed")?.checkpoint();
  await host.cdc("feed")?.delivered();
  await host.flush();
  host.dispose();

  const cuts = cut.all();
  const problems: string[] = [];
  const totals = { cuts: cuts.length, indexes: 0, tags: 0, reloaded: 0, redelivered: 0 };
  for (const [n, c] of cuts.entries()) {
    const storage = copyOf(c.storage, c.counter);
    const restored = new PluginHost({ ...options, store: memoryStore({ storage }) });
    const report = await restored.restored;
    const ledger = new Ledger({ lossy: run.durability === "snapshot" });
    ledger.begin(0);
    for (const a of acks) if (a.counter <= c.counter) ledger.ack(a.ack);
    const sink = new Downstream(memoryStore({ storage }), SINK);
    await sink.open();
    const v = await view(
      restored,
      report.quarantined.map((q) => `${q.key.join("/")}: ${q.reason}`),
    );
    const found = ledger.check(v, await sink.records(), sink.position);
    // Catch up: what the host redelivers completes downstream, exactly once.
    const feed = restored.cdc("feed");
    if (feed) {
      feed.onEmit(sink.sink(() => {}));
      await feed.checkpoint(); // a buffering output (changelog v2) emits what it holds
      await feed.delivered();
      found.push(...ledger.checkDownstream(await sink.records(ledger.downstreamTo), sink.position));
      found.push(...ledger.allDelivered());
      if (sink.position !== feed.nextLsn)
        found.push(`downstream at ${sink.position} after catching up, the stream at ${feed.nextLsn}`);
      // The stream goes on at the next LSN, and downstream takes it as new.
      const next = feed.nextLsn;
      const more = await feed.publish(batchTable([-1n - BigInt(n)]));
      await feed.checkpoint();
      await feed.delivered();
      if (more.lsnStart !== next) found.push(`a publish after the restart got LSN ${more.lsnStart}, not ${next}`);
      if (sink.position !== more.lsnEnd) found.push(`downstream at ${sink.position}, not ${more.lsnEnd}`);
      totals.redelivered += sink.redelivered;
    }
    for (const f of found) problems.push(`cut after commit ${c.counter} of ${cuts.length}: ${f}`);
    totals.indexes += Object.keys(v.indexes).length;
    totals.tags += v.tags?.length ?? 0;
    totals.reloaded += Object.values(v.plugins).filter((p) => p.generation > 1).length;
    restored.dispose();
  }
  return { problems, totals };
}

describe("durable host: a crash at every commit boundary", () => {
  it("journal durability: every acknowledged write back, the versions serving, rising generations; each row once downstream", async () => {
    const { problems, totals } = await everyCut({ durability: "journal", snapshotEveryOps: 5, steps: 6 });
    console.log(`commit-boundary crashes, journal: ${JSON.stringify(totals)} (summed over the cuts)`);
    expect(problems).to.deep.equal([]);
    expect(totals.cuts).to.be.greaterThan(50);
    // The cuts saw the workload's state grow: indexes, elements and reloaded plugins restored, redeliveries made.
    for (const [what, n] of Object.entries(totals)) expect(n, what).to.be.greaterThan(0);
  });

  it("journal durability, a fold into a snapshot every 2 ops: the same", async () => {
    const { problems, totals } = await everyCut({ durability: "journal", snapshotEveryOps: 2, steps: 4 });
    expect(problems).to.deep.equal([]);
    expect(totals.cuts).to.be.greaterThan(30);
  });

  it("snapshot durability: consistent at every cut (recent writes may be lost), downstream never ahead of the stream", async () => {
    const { problems, totals } = await everyCut({ durability: "snapshot", snapshotIntervalMs: 2, steps: 6 });
    console.log(`commit-boundary crashes, snapshot: ${JSON.stringify(totals)} (summed over the cuts)`);
    expect(problems).to.deep.equal([]);
    expect(totals.cuts).to.be.greaterThan(20);
  });
});
