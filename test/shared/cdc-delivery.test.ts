// Acknowledged delivery, against the real changelog outputs (v1 emits per delivery, v2 buffers four batches):
// a sink may be async and counts only when it acknowledges; the checkpoint never passes an unacknowledged row;
// a sink failure halts delivery with a typed error, the host keeps everything and redelivers from its own copy;
// the retained log is bounded (publish waits, or refuses with a retryable error).
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, type LiveCdc } from "../../src/mod.ts";
import { changes, expectExactlyOnce, manualSink, rowIds, settled } from "./cdc-util.ts";
import { expectRejects } from "./host-util.ts";
import { hostWith, plugin } from "./reload-util.ts";

/** Retries `fn` until it resolves (a sink that is still failing makes `delivered()` reject). */
async function eventually<T>(fn: () => Promise<T>, tries = 200): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

describe("cdc acknowledged delivery", () => {
  it("an async sink acknowledges by resolving; the checkpoint waits for it", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("acks", "changelog");
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    await cdc.publish(changes(0, 2));
    await cdc.publish(changes(2, 3));
    expect(cdc.emittedEnd).to.equal(5n);
    expect(await cdc.checkpoint()).to.equal(0n);
    expect(sink.received).to.have.length(1); // one emit at a time: the second waits for the first's acknowledgement
    await sink.ackNext();
    expect(cdc.acknowledged).to.equal(2n);
    expect(await cdc.checkpoint()).to.equal(2n);
    expect(cdc.retainedBatches).to.equal(1);
    await sink.ackNext();
    expect(await cdc.checkpoint()).to.equal(5n);
    expect(cdc.retainedBatches).to.equal(0);
    expect(cdc.retainedBytes).to.equal(0);
    expectExactlyOnce(sink.acked, 0n, 5n);
    host.dispose();
  });

  it("with no sink nothing is acknowledged: emits wait in the outbox for the first sink", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("late", "changelog");
    await cdc.publish(changes(0, 2));
    await cdc.publish(changes(2, 1));
    expect(await cdc.checkpoint()).to.equal(0n);
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => {
      emits.push(e);
    });
    expectExactlyOnce(emits, 0n, 3n);
    expect(await cdc.checkpoint()).to.equal(3n);
    host.dispose();
  });

  it("a rejecting sink halts delivery; retries with backoff redeliver the host's copy, and the sink gets each once", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("retry", "changelog", { retry: { initialMs: 5, maxMs: 20 } });
    const attempts: CdcEmit[] = [];
    const acked: CdcEmit[] = [];
    let failures = 3;
    cdc.onEmit(async (e) => {
      attempts.push(e);
      await Promise.resolve();
      if (failures > 0) {
        failures--;
        throw new Error(`downstream unavailable (${failures} more)`);
      }
      acked.push(e);
    });
    await cdc.publish(changes(0, 2));
    await settled();
    const err = cdc.sinkError;
    expect(err?.name).to.equal("CdcSinkError");
    expect(err?.retryable).to.equal(true);
    expect(err?.message).to.contain("downstream unavailable");
    expect(err?.message).to.contain("retried in");
    await cdc.publish(changes(2, 2)); // intake goes on while delivery is halted
    expect(await cdc.checkpoint()).to.equal(0n);
    expect(await eventually(() => cdc.delivered())).to.equal(4n); // the backoff retries get there by themselves
    expectExactlyOnce(acked, 0n, 4n);
    // Every attempt at the first emit got the very same host-held emit: the output was not asked again.
    expect(new Set(attempts.filter((e) => e.lsnStart === 0n)).size).to.equal(1);
    expect(attempts.filter((e) => e.lsnStart === 0n).length).to.be.greaterThan(1);
    expect(cdc.sinkError).to.equal(null);
    expect(await cdc.checkpoint()).to.equal(4n);
    host.dispose();
  });

  it("two sinks each acknowledge each emit once, even while one of them fails and is retried", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("two", "changelog", { retry: false });
    const steady: CdcEmit[] = [];
    const flaky = manualSink();
    cdc.onEmit((e) => {
      steady.push(e);
    });
    cdc.onEmit(flaky.sink);
    await cdc.publish(changes(0, 1));
    await flaky.failNext();
    expect(cdc.sinkError?.message).to.contain("until resume()");
    await cdc.publish(changes(1, 1));
    expect(steady).to.have.length(1); // lockstep: the steady sink waits for the flaky one to catch up
    const resumed = cdc.resume();
    await settled();
    await flaky.ackNext();
    await flaky.ackNext();
    expect(await resumed).to.equal(2n);
    expectExactlyOnce(steady, 0n, 2n);
    expectExactlyOnce(flaky.acked, 0n, 2n);
    expect(flaky.received).to.have.length(3); // the failed attempt, then the two acknowledged ones
    host.dispose();
  });

  it("a reload while delivery is halted carries the outbox over; resume delivers every LSN once", async () => {
    const { host, handle } = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("halted", "changelog", { retry: false, checkpointEvery: 100 });
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    for (let i = 0; i < 6; i++) await cdc.publish(changes(i * 2, 2));
    await sink.failNext(); // the first emit of v2's flush of four
    expect(cdc.emittedEnd).to.equal(8n); // two batches still buffered in v2
    await host.reload(handle, await plugin("changelog-v1"));
    expect(cdc.emittedEnd).to.equal(12n); // v2 flushed its buffer at handoff, into the outbox
    await cdc.publish(changes(12, 1));
    const done = cdc.resume();
    while (sink.acked.length < 7) {
      await settled();
      if (sink.waiting) await sink.ackNext();
    }
    expect(await done).to.equal(13n);
    expectExactlyOnce(sink.acked, 0n, 13n);
    expect(rowIds(sink.acked)).to.deep.equal(Array.from({ length: 13 }, (_, i) => BigInt(i)));
    expect(sink.acked.map((e) => e.version)).to.deep.equal([...Array(6).fill("2.0.0"), "1.0.0"]);
    host.dispose();
  });

  it("a sink that has not answered holds the checkpoint back but not a reload", async () => {
    const { host, handle } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("slow", "changelog");
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    await cdc.publish(changes(0, 1));
    const report = await host.reload(handle, await plugin("changelog-v2"));
    expect(report.ok).to.equal(true);
    expect(await cdc.checkpoint()).to.equal(0n);
    await sink.ackNext();
    expect(await cdc.checkpoint()).to.equal(1n);
    host.dispose();
  });
});

describe("cdc back-pressure", () => {
  async function bounded(
    retain: object,
  ): Promise<{ cdc: LiveCdc; sink: ReturnType<typeof manualSink>; dispose(): void }> {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("bounded", "changelog", { retain, checkpointEvery: 1 });
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    return { cdc, sink, dispose: () => host.dispose() };
  }

  it("publish waits while the stream is full, and waiting publishes keep their order", async () => {
    const { cdc, sink, dispose } = await bounded({ maxBatches: 2 });
    const order: bigint[] = [];
    const publishes = [0, 1, 2, 3].map((i) => cdc.publish(changes(i, 1)).then((r) => order.push(r.lsnStart)));
    await settled();
    expect(order).to.deep.equal([0n, 1n]);
    expect(cdc.retainedBatches).to.equal(2);
    await sink.ackNext();
    expect(order).to.deep.equal([0n, 1n, 2n]);
    expect(cdc.retainedBatches).to.equal(2);
    await sink.ackNext();
    await sink.ackNext();
    await sink.ackNext();
    await Promise.all(publishes);
    expect(order).to.deep.equal([0n, 1n, 2n, 3n]);
    expect(rowIds(sink.acked)).to.deep.equal([0n, 1n, 2n, 3n]);
    dispose();
  });

  it('whenFull: "refuse" rejects with a retryable ResourceLimit and logs nothing', async () => {
    const { cdc, sink, dispose } = await bounded({ maxBatches: 1, whenFull: "refuse" });
    await cdc.publish(changes(0, 1));
    await expectRejects(cdc.publish(changes(1, 1)), {
      code: ErrorCode.ResourceLimit,
      retryable: true,
      message: ["is full", "retry"],
    });
    expect(cdc.nextLsn).to.equal(1n);
    await sink.ackNext();
    expect(await cdc.publish(changes(1, 1))).to.deep.equal({ lsnStart: 1n, lsnEnd: 2n });
    dispose();
  });

  it("the byte bound holds too, and a single batch larger than it still enters an empty stream", async () => {
    const big = changes(0, 2000);
    const { cdc, sink, dispose } = await bounded({ maxBytes: 1024, whenFull: "refuse" });
    await cdc.publish(big);
    expect(cdc.retainedBytes).to.be.greaterThan(1024);
    await expectRejects(cdc.publish(changes(2000, 1)), { code: ErrorCode.ResourceLimit });
    await sink.ackNext();
    expect(cdc.retainedBytes).to.equal(0);
    await cdc.publish(changes(2000, 1));
    dispose();
  });

  it("dropping a stream rejects waiting publishes and delivered() with Disposed", async () => {
    const { cdc, dispose } = await bounded({ maxBatches: 1 });
    await cdc.publish(changes(0, 1));
    const waiting = cdc.publish(changes(1, 1));
    const delivered = cdc.delivered();
    await settled();
    await cdc.drop();
    await expectRejects(waiting, { code: ErrorCode.Disposed });
    await expectRejects(delivered, { code: ErrorCode.Disposed });
    dispose();
  });
});
