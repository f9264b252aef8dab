// Source positions and commit times, against the real changelog outputs: they are logged with each published
// batch, come out with every emit, survive reloads and restores, and checkpointPosition() reports the highest
// source position that is safe to confirm upstream (never past what the sink acknowledged). The stream's whole
// host-side state is one plain record that structuredClone carries, and a stream continues from it.
import { describe, expect, it } from "#test";
import { type CdcEmit, type CdcStreamState, ErrorCode } from "../../src/mod.ts";
import { changes, expectExactlyOnce, manualSink, rowIds, settled } from "./cdc-util.ts";
import { expectRejects } from "./host-util.ts";
import { hostWith, plugin } from "./reload-util.ts";

const T0 = 1_700_000_000_000_000n;

describe("cdc source positions and commit times", () => {
  it("every emit carries the source position and commit time of the batch it covers", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("pg", "changelog");
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => {
      emits.push(e);
    });
    await cdc.publish(changes(0, 3), { source: "0/16B3748", commitMicros: T0 });
    await cdc.publish(changes(3, 1), T0 + 5n); // the commit time alone, as before
    const before = BigInt(Date.now()) * 1000n;
    await cdc.publish(changes(4, 2), { source: "0/16B9000" }); // commit time defaults to now
    expect(emits.map((e) => [e.source, e.commitMicros])).to.deep.equal([
      ["0/16B3748", T0],
      [undefined, T0 + 5n],
      ["0/16B9000", emits[2]?.commitMicros],
    ]);
    expect((emits[2] as CdcEmit).commitMicros >= before).to.equal(true);
    expect((emits[0] as CdcEmit).origins).to.deep.equal([
      { lsnStart: 0n, lsnEnd: 3n, commitMicros: T0, source: "0/16B3748" },
    ]);
    expect(await cdc.checkpointPosition()).to.deep.equal({
      lsn: 6n,
      source: "0/16B9000",
      commitMicros: (emits[2] as CdcEmit).commitMicros,
    });
    host.dispose();
  });

  it("checkpointPosition never passes what the sink acknowledged", async () => {
    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("acked", "changelog");
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    await cdc.publish(changes(0, 2), { source: "A", commitMicros: T0 });
    await cdc.publish(changes(2, 2), { source: "B", commitMicros: T0 + 1n });
    await cdc.publish(changes(4, 1), { commitMicros: T0 + 2n }); // no source: part of a transaction, say
    expect(await cdc.checkpointPosition()).to.deep.equal({ lsn: 0n });
    await sink.ackNext();
    expect(await cdc.checkpointPosition()).to.deep.equal({ lsn: 2n, source: "A", commitMicros: T0 });
    await sink.ackNext();
    await sink.ackNext();
    // The last batch had no source: the highest source safe to confirm is still B's.
    expect(await cdc.checkpointPosition()).to.deep.equal({ lsn: 5n, source: "B", commitMicros: T0 + 2n });
    host.dispose();
  });

  it("a buffering output's emits (v2) carry the positions of the batches they flush", async () => {
    const { host } = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("buffered", "changelog", { checkpointEvery: 100 });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => {
      emits.push(e);
    });
    for (let i = 0; i < 3; i++) await cdc.publish(changes(i, 1), { source: `s${i}`, commitMicros: T0 + BigInt(i) });
    expect(emits).to.have.length(0);
    await cdc.checkpoint();
    expect(emits.map((e) => [e.lsnStart, e.source, e.commitMicros])).to.deep.equal([
      [0n, "s0", T0],
      [1n, "s1", T0 + 1n],
      [2n, "s2", T0 + 2n],
    ]);
    host.dispose();
  });

  it("positions survive a reload: batches v2 buffered come out of v1 with their sources", async () => {
    const { host, handle } = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("reloaded", "changelog", { checkpointEvery: 100 });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => {
      emits.push(e);
    });
    for (let i = 0; i < 6; i++) await cdc.publish(changes(i, 1), { source: `s${i}`, commitMicros: T0 + BigInt(i) });
    await host.reload(handle, await plugin("changelog-v1"));
    await cdc.publish(changes(6, 1), { source: "s6", commitMicros: T0 + 6n });
    await settled();
    expectExactlyOnce(emits, 0n, 7n);
    expect(emits.map((e) => e.source)).to.deep.equal(["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
    expect(emits.map((e) => e.commitMicros)).to.deep.equal(Array.from({ length: 7 }, (_, i) => T0 + BigInt(i)));
    expect((await cdc.checkpointPosition()).source).to.equal("s6");
    host.dispose();
  });
});

describe("cdc stream state record", () => {
  /** A stream with every kind of state: confirmed, acknowledged, emitted-but-unacknowledged, and unemitted. */
  async function busyStream() {
    const { host } = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("busy", "changelog", { checkpointEvery: 100 });
    const sink = manualSink();
    cdc.onEmit(sink.sink);
    for (let i = 0; i < 6; i++) await cdc.publish(changes(i * 2, 2), { source: `s${i}`, commitMicros: T0 + BigInt(i) });
    await sink.ackNext(); // [0, 2)
    await cdc.checkpoint(); // v2 flushes everything; the sink has acknowledged only the first
    await sink.ackNext(); // [2, 4)
    await cdc.publish(changes(12, 1), { source: "s6", commitMicros: T0 + 6n }); // buffered in v2: not emitted
    return { host, cdc, sink };
  }

  it("is one plain record that structuredClone carries, with every position in order", async () => {
    const { host, cdc } = await busyStream();
    const state = cdc.state;
    expect(structuredClone(state)).to.deep.equal(state);
    expect(state).to.deep.include({ format: 1, output: "changelog", nextLsn: 13n, emittedEnd: 12n, acknowledged: 4n });
    expect(state.confirmed).to.deep.equal({ lsn: 4n, source: "s1", commitMicros: T0 + 1n });
    expect(state.log.map((e) => [e.lsnStart, e.source, e.mutations === null])).to.deep.equal([
      [4n, "s2", true],
      [6n, "s3", true],
      [8n, "s4", true],
      [10n, "s5", true],
      [12n, "s6", false], // not emitted yet: its bytes stay for redelivery
    ]);
    expect(state.outbox.map((e) => [e.lsnStart, e.lsnEnd])).to.deep.equal([
      [4n, 6n],
      [6n, 8n],
      [8n, 10n],
      [10n, 12n],
    ]);
    // A copy: changing it changes nothing in the stream.
    state.log.length = 0;
    expect(cdc.retainedBatches).to.equal(5);
    host.dispose();
  });

  it("a stream restored from the record on a fresh host delivers everything after the acknowledgement once", async () => {
    const first = await busyStream();
    const record: CdcStreamState = structuredClone(first.cdc.state);
    first.host.dispose(); // gone, as after a crash; the sink acknowledged up to 4

    const { host } = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("busy", "changelog", { restore: record, fromLsn: record.emittedEnd });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => {
      emits.push(e);
    });
    await cdc.publish(changes(13, 1), { source: "s7", commitMicros: T0 + 7n });
    expect(await cdc.delivered()).to.equal(14n);
    expectExactlyOnce(emits, 4n, 14n);
    expect(rowIds(emits)).to.deep.equal(Array.from({ length: 10 }, (_, i) => BigInt(i + 4)));
    expect(emits.map((e) => e.source)).to.deep.equal(["s2", "s3", "s4", "s5", "s6", "s7"]);
    expect(emits.map((e) => e.version)).to.deep.equal(["2.0.0", "2.0.0", "2.0.0", "2.0.0", "1.0.0", "1.0.0"]);
    expect(await cdc.checkpointPosition()).to.deep.equal({ lsn: 14n, source: "s7", commitMicros: T0 + 7n });
    host.dispose();
  });

  it("a restore that does not fit is refused with a typed error and leaves no stream behind", async () => {
    const first = await busyStream();
    const record = first.cdc.state;
    first.host.dispose();
    const { host } = await hostWith("changelog-v1");
    await expectRejects(host.attachCdc("busy", "changelog", { restore: record }), {
      code: ErrorCode.TypeCoercion,
      message: "attach with fromLsn 12",
    });
    const tampered = { ...record, acknowledged: record.emittedEnd + 1n };
    await expectRejects(host.attachCdc("busy", "changelog", { restore: tampered, fromLsn: record.emittedEnd }), {
      code: ErrorCode.TypeCoercion,
      message: "out of order",
    });
    await expectRejects(
      host.attachCdc("busy", "changelog", { restore: { ...record, output: "audit" }, fromLsn: 12n }),
      {
        code: ErrorCode.TypeCoercion,
        message: '"audit"',
      },
    );
    expect(host.cdc("busy")).to.equal(undefined);
    expect(host.plugins()[0]?.resources).to.deep.equal([]);
    const cdc = await host.attachCdc("busy", "changelog", { restore: record, fromLsn: 12n });
    expect(cdc.nextLsn).to.equal(13n);
    host.dispose();
  });
});
