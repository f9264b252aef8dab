// Restoring a durable host's CDC stream from positions an output chose: an output may hand a batch on in several
// emits (test/fixtures/wat/cdc-split.wat emits the first LSN of a batch alone), so a sink can have acknowledged up
// to an LSN inside a batch when the process dies. An output resumes only at a batch's start (wit/cdc.wit), so the
// restarted stream goes back to the start of that batch and the sink sees its first part again, recognisable by its
// LSNs — the stream must come back, not be quarantined.
import { describe, expect, it } from "#test";
import { type CdcEmit, PluginHost } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import { loadFixture } from "../support/fixtures.ts";
import { copyOf } from "./durable-cut-util.ts";
import { batchTable } from "./durable-workload.ts";

describe("durable host: restoring a CDC stream", () => {
  it("acknowledged up to an LSN inside a batch: resumes at the batch's start, and redelivers from there", async () => {
    const storage = new MemoryStorage();
    const host = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    await host.load(await loadFixture("cdc-split"));
    const stream = await host.attachCdc("s", "changelog");
    // The sink takes [0, 1) at once and holds on to [1, 4): the process dies with it acknowledged at 1.
    const got: [bigint, bigint][] = [];
    stream.onEmit((e: CdcEmit) => {
      got.push([e.lsnStart, e.lsnEnd]);
      return e.lsnStart === 0n ? undefined : new Promise(() => {});
    });
    await stream.publish(batchTable([10n, 11n, 12n, 13n]));
    await stream.checkpoint(); // the head, with acknowledged 1, is written
    await host.flush();
    expect(stream.acknowledged).to.equal(1n);
    expect(got).to.deep.equal([
      [0n, 1n],
      [1n, 4n],
    ]);
    const crashed = copyOf(storage, storage.counter); // the process dies here, with [1, 4) unacknowledged

    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage: crashed }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    const restored = again.cdc("s");
    expect(restored?.nextLsn).to.equal(4n);
    const redelivered: [bigint, bigint][] = [];
    restored?.onEmit((e: CdcEmit) => {
      redelivered.push([e.lsnStart, e.lsnEnd]);
    });
    await restored?.delivered();
    // From the batch's start: [0, 1) again (the sink holds it: a redelivery it recognises), then [1, 4).
    expect(redelivered).to.deep.equal([
      [0n, 1n],
      [1n, 4n],
    ]);
    expect(await restored?.publish(batchTable([14n]))).to.deep.equal({ lsnStart: 4n, lsnEnd: 5n });
    again.dispose();
    host.dispose();
  });
});
