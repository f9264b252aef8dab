// CDC surface end to end through the host, against the real changelog sample (plugins-wasm/dist/changelog-v1|v2):
// the host assigns LSNs (max(1, rows) per batch), the output hands batches to cdc-sink, listeners get them.
// v1 emits on every delivery; v2 buffers up to four batches and emits on a full buffer, checkpoint and shutdown.
import { makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, fromIPC, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { expectRejects } from "./host-util.ts";

/** A change batch: one row per mutation. */
function mutations(keys: number[]): Table {
  return new Table({
    key: makeVector(Int32Array.from(keys)),
    op: vectorFromArray(
      keys.map((k) => (k % 2 ? "update" : "insert")),
      new Utf8(),
    ),
  });
}

async function hostWith(plugin: "changelog-v1" | "changelog-v2"): Promise<PluginHost> {
  const host = new PluginHost();
  await host.load(await loadPlugin(plugin));
  return host;
}

const range = (e: CdcEmit) => [e.lsnStart, e.lsnEnd];

describe("cdc surface through the host (changelog)", () => {
  it("assigns LSNs per row, delivers in order and forwards every emit with its payload", async () => {
    const host = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("changes", "changelog");
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => emits.push(e));

    expect(await cdc.publish(mutations([1, 2, 3]))).to.deep.equal({ lsnStart: 0n, lsnEnd: 3n });
    expect(await cdc.publish(mutations([4]))).to.deep.equal({ lsnStart: 3n, lsnEnd: 4n });
    // An empty batch still takes one LSN: every batch has a non-empty range.
    expect(await cdc.publish(mutations([]))).to.deep.equal({ lsnStart: 4n, lsnEnd: 5n });
    expect(cdc.nextLsn).to.equal(5n);

    expect(emits.map(range)).to.deep.equal([
      [0n, 3n],
      [3n, 4n],
      [4n, 5n],
    ]);
    for (const e of emits) {
      expect(e.stream).to.equal("changes");
      expect(e.output).to.equal("changelog");
      expect(e.version).to.equal("1.0.0");
    }
    const first = fromIPC((emits[0] as CdcEmit).payload);
    expect(first.getChild("key")?.toArray()).to.deep.equal(Int32Array.from([1, 2, 3]));
    expect(first.getChild("op")?.toArray()).to.deep.equal(["update", "insert", "update"]);
    expect(fromIPC((emits[2] as CdcEmit).payload).numRows).to.equal(0);

    expect(await cdc.checkpoint()).to.equal(5n);
    expect(cdc.checkpointed).to.equal(5n);
    expect(cdc.emittedEnd).to.equal(5n);
    expect(cdc.retainedBatches).to.equal(0);
    expect(cdc.halted).to.equal(null);
  });

  it("resumes at fromLsn, inclusive", async () => {
    const host = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("resumed", "changelog", { fromLsn: 100n });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => emits.push(e));
    expect(await cdc.publish(mutations([7, 8]))).to.deep.equal({ lsnStart: 100n, lsnEnd: 102n });
    expect(emits.map(range)).to.deep.equal([[100n, 102n]]);
    expect(await cdc.checkpoint()).to.equal(102n);
  });

  it("retains batches until the output checkpoints past them (buffering output, v2)", async () => {
    const host = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("buffered", "changelog", { checkpointEvery: 100 });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => emits.push(e));
    await cdc.publish(mutations([1]));
    await cdc.publish(mutations([2, 3]));
    expect(emits).to.have.length(0);
    expect(cdc.retainedBatches).to.equal(2);
    expect(cdc.checkpointed).to.equal(0n);

    expect(await cdc.checkpoint()).to.equal(3n);
    expect(emits.map(range)).to.deep.equal([
      [0n, 1n],
      [1n, 3n],
    ]);
    expect(emits.every((e) => e.version === "2.0.0")).to.equal(true);
    expect(cdc.retainedBatches).to.equal(0);
  });

  it("checkpoints by itself every checkpointEvery publishes", async () => {
    const host = await hostWith("changelog-v2");
    const cdc = await host.attachCdc("auto", "changelog", { checkpointEvery: 2 });
    const emits: CdcEmit[] = [];
    cdc.onEmit((e) => emits.push(e));
    await cdc.publish(mutations([1]));
    expect(emits).to.have.length(0);
    await cdc.publish(mutations([2]));
    expect(emits.map(range)).to.deep.equal([
      [0n, 1n],
      [1n, 2n],
    ]);
    expect(cdc.checkpointed).to.equal(2n);
  });

  // This case used to say the opposite: a listener that threw was ignored and its data counted as delivered.
  it("a sink that throws halts delivery with a typed error, keeps every batch, and resume() delivers each once", async () => {
    const host = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("listeners", "changelog", { retry: false });
    const seen: bigint[] = [];
    let broken = true;
    cdc.onEmit((e) => {
      if (broken) throw new Error("sink bug");
      seen.push(e.lsnStart);
    });
    await cdc.publish(mutations([1]));
    await cdc.publish(mutations([2]));
    const err = await expectRejects(cdc.delivered(), { code: ErrorCode.Io, retryable: true, name: "CdcSinkError" });
    expect(err.message).to.contain("sink bug");
    expect(cdc.sinkError).to.equal(err);
    expect(cdc.emittedEnd).to.equal(2n); // the output handed both on; the host holds them
    expect(cdc.acknowledged).to.equal(0n);
    expect(await cdc.checkpoint()).to.equal(0n); // never past what the sink acknowledged
    expect(cdc.retainedBatches).to.equal(2);

    broken = false;
    expect(await cdc.resume()).to.equal(2n);
    expect(seen).to.deep.equal([0n, 1n]);
    expect(cdc.sinkError).to.equal(null);
    expect(await cdc.checkpoint()).to.equal(2n);
    expect(cdc.retainedBatches).to.equal(0);
    host.dispose();
  });

  it("stops calling an unsubscribed sink", async () => {
    const host = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("unsubscribe", "changelog");
    const seen: bigint[] = [];
    const all: bigint[] = [];
    cdc.onEmit((e) => all.push(e.lsnStart));
    const off = cdc.onEmit((e) => seen.push(e.lsnStart));
    await cdc.publish(mutations([1]));
    off();
    await cdc.publish(mutations([2]));
    expect(seen).to.deep.equal([0n]);
    expect(all).to.deep.equal([0n, 1n]);
    expect(cdc.acknowledged).to.equal(2n);
    host.dispose();
  });

  it("refuses bytes that are not Arrow IPC without using up an LSN", async () => {
    const host = await hostWith("changelog-v1");
    const cdc = await host.attachCdc("strict", "changelog");
    await expectRejects(cdc.publish(new Uint8Array([1, 2, 3, 4, 5])), {
      code: ErrorCode.TypeCoercion,
      message: "Arrow",
    });
    expect(cdc.nextLsn).to.equal(0n);
    expect(await cdc.publish(mutations([1]))).to.deep.equal({ lsnStart: 0n, lsnEnd: 1n });
  });

  it("refuses an unknown output and a taken stream name", async () => {
    const host = await hostWith("changelog-v1");
    await expectRejects(host.attachCdc("x", "audit-log"), {
      code: ErrorCode.NotFound,
      message: ["audit-log", "changelog"],
    });
    await host.attachCdc("taken", "changelog");
    await expectRejects(host.attachCdc("taken", "changelog"), { code: ErrorCode.DuplicateKey, message: '"taken"' });
    expect(host.cdc("taken")?.output).to.equal("changelog");
  });
});
