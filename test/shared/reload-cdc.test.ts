// Reload of a CDC output while changes keep being published: the sink sees every LSN exactly once —
// no gap, no duplicate — across v1 → v2, v2 → v1, and across refused or failed reloads (v2-incompatible cannot
// resume a stream 1.x started, and is refused at handoff naming the output).
import { makeVector, Table } from "apache-arrow";
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, type LiveCdc, type PluginHost } from "../../src/mod.ts";
import { expectContiguous, hostWith, plugin, refused } from "./reload-util.ts";

let rowId = 0n;
function changes(rows: number): Table {
  const ids = BigInt64Array.from({ length: rows }, () => rowId++);
  return new Table({ row: makeVector(ids) });
}

/** Records emits and checks contiguity as they arrive. */
function recorder(live: LiveCdc) {
  const emits: CdcEmit[] = [];
  live.onEmit((e) => emits.push(e));
  return {
    emits,
    /** Every LSN in [from, to) exactly once, in order. */
    expectContiguous: (from: bigint, to: bigint) => expectContiguous(emits, from, to),
  };
}

/** Publishes `count` batches of 1-3 rows, yielding between them so reloads interleave. */
async function publishLoop(live: LiveCdc, count: number, failures: unknown[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    try {
      await live.publish(changes(1 + (i % 3)));
    } catch (err) {
      failures.push(err);
    }
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function attached(host: PluginHost) {
  const live = await host.attachCdc("changes", "changelog", { checkpointEvery: 3 });
  return { live, rec: recorder(live) };
}

describe("reload: CDC output changelog", () => {
  it("v1 → v2 while publishing: every LSN reaches the sink exactly once", async () => {
    const { host, handle } = await hostWith("changelog-v1");
    const { live, rec } = await attached(host);
    const failures: unknown[] = [];
    const loop = publishLoop(live, 60, failures);
    await new Promise((r) => setTimeout(r, 5));
    const report = await host.reload(handle, await plugin("changelog-v2"));
    await loop;
    await live.checkpoint(); // v2 buffers: its checkpoint flushes

    expect(failures).to.deep.equal([]);
    expect(report.moved.cdcStreams).to.equal(1);
    expect(live.servedBy.version).to.equal("2.0.0");
    rec.expectContiguous(0n, live.nextLsn);
    expect(new Set(rec.emits.map((e) => e.version))).to.deep.equal(new Set(["1.0.0", "2.0.0"]));
    expect(live.retainedBatches).to.equal(0);
    host.dispose();
  });

  it("v2 → v1 hands over batches v2 had buffered but not yet emitted", async () => {
    const { host, handle } = await hostWith("changelog-v2");
    const live = await host.attachCdc("changes", "changelog", { checkpointEvery: 1000 });
    const rec = recorder(live);
    for (let i = 0; i < 6; i++) await live.publish(changes(2));
    const emittedBefore = live.emittedEnd;
    expect(emittedBefore < live.nextLsn).to.equal(true); // v2 is holding some back

    await host.reload(handle, await plugin("changelog-v1"));
    await live.publish(changes(1));

    rec.expectContiguous(0n, live.nextLsn);
    host.dispose();
  });

  it("a reload refused at check-manifest (different plugin) leaves the stream exactly as it was", async () => {
    const { host, handle } = await hostWith("changelog-v1");
    const { live, rec } = await attached(host);
    await live.publish(changes(2));
    await host.reload(handle, await plugin("crdt-v1")).catch((e: Error) => {
      expect(e.message).to.contain("dev.uni.crdt, not dev.uni.changelog");
    });
    await live.publish(changes(2));
    rec.expectContiguous(0n, live.nextLsn);
    expect(live.servedBy.version).to.equal("1.0.0");
    host.dispose();
  });

  it("v1 → v2-incompatible is refused at handoff naming the output; v1 keeps serving, every LSN once", async () => {
    const { host, handle } = await hostWith("changelog-v1");
    const { live, rec } = await attached(host);
    for (let i = 0; i < 4; i++) await live.publish(changes(2));
    await live.checkpoint(); // the handoff checkpoints the serving stream first: compare from there
    const before = live.state;
    const err = await refused(host.reload(handle, await plugin("changelog-v2-incompatible")), "handoff");
    expect(err.code).to.equal(ErrorCode.Reload);
    expect(err.message).to.contain('cdc output "changelog" is incompatible');
    expect(err.message).to.contain("refused to resume at LSN 8");
    expect(err.message).to.contain("the old version keeps serving");
    expect(live.servedBy.version).to.equal("1.0.0");
    expect(live.state).to.deep.equal(before);
    await live.publish(changes(1));
    rec.expectContiguous(0n, live.nextLsn);
    expect(rec.emits.every((e) => e.version === "1.0.0")).to.equal(true);
    host.dispose();
  });

  it("a stream resumed from a checkpoint continues at that LSN", async () => {
    const { host } = await hostWith("changelog-v1");
    const first = await host.attachCdc("a", "changelog", { checkpointEvery: 1 });
    recorder(first); // a checkpoint never passes what no sink acknowledged
    for (let i = 0; i < 4; i++) await first.publish(changes(1));
    const checkpoint = await first.checkpoint();
    expect(checkpoint).to.equal(first.nextLsn);
    await first.drop();
    const resumed = await host.attachCdc("a", "changelog", { fromLsn: checkpoint });
    const rec = recorder(resumed);
    await resumed.publish(changes(3));
    rec.expectContiguous(checkpoint, checkpoint + 3n);
    host.dispose();
  });
});
