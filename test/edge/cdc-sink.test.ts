// The edge server's sink log (demo/deno-edge/cdc-sink.ts) on a real store: emits stored in order under a checked
// head, an emit already held acknowledged without a write, a gap refused, and — the restart case a kill -9 can
// leave — a log cut back to the position the host recorded, then continued by redelivered emits grouped
// differently from the first time, with no gap and no duplicate.
import { Int32, Table, tableToIPC, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "#test";
import { SinkLog } from "../../demo/deno-edge/cdc-sink.ts";
import { type CdcEmit, ErrorCode } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import { expectRejects } from "../shared/host-util.ts";

/** An emit of rows [start, end) as the changelog output emits them (one Arrow row per LSN). */
function emit(start: number, end: number, version = "2.0.0"): CdcEmit {
  const rows = Array.from({ length: end - start }, (_, i) => start + i);
  const payload = tableToIPC(new Table({ lsn: vectorFromArray(rows, new Int32()) }), "stream");
  return {
    stream: "s",
    output: "changelog",
    lsnStart: BigInt(start),
    lsnEnd: BigInt(end),
    payload,
    pluginId: "dev.uni.changelog",
    version,
    origins: [],
    commitMicros: 0n,
  };
}

const ranges = async (log: SinkLog) =>
  (await log.batches(0n, 100)).batches.map((b) => [Number(b.lsnStart), Number(b.lsnEnd), b.rows]);

describe("edge sink log", () => {
  it("stores emits in order; one it already holds is acknowledged again; a gap is refused", async () => {
    const store = memoryStore();
    const log = await SinkLog.open(store, "s", 0n);
    for (const [a, b] of [
      [0, 3],
      [3, 5],
      [5, 9],
    ] as const) {
      await log.sink(emit(a, b));
    }
    expect(log.end).to.equal(9n);
    expect(await ranges(log)).to.deep.equal([
      [0, 3, 3],
      [3, 5, 2],
      [5, 9, 4],
    ]);
    await log.sink(emit(3, 5)); // a retry after an ambiguous failure: already here
    await expectRejects(log.sink(emit(12, 14)), { code: ErrorCode.Io });
    expect(await ranges(log)).to.have.length(3);
    const found = await log.payload(5n);
    expect(found?.batch).to.deep.include({
      rows: 4,
      emittedBy: "dev.uni.changelog@2.0.0",
      payloadBytes: found?.bytes.length,
    });
  });

  it("reopened behind its end (the host recorded less), it cuts back and takes the redelivery, regrouped", async () => {
    const storage = new MemoryStorage();
    const first = await SinkLog.open(memoryStore({ storage }), "s", 0n);
    for (const [a, b] of [
      [0, 3],
      [3, 5],
      [5, 9],
    ] as const) {
      await first.sink(emit(a, b));
    }
    // Restart: the host's record says the sink acknowledged up to 3 (its head write for 5 and 9 was lost).
    const again = await SinkLog.open(memoryStore({ storage }), "s", 3n);
    expect(again.end).to.equal(3n);
    expect(await ranges(again)).to.deep.equal([[0, 3, 3]]);
    // The output regroups the redelivered batches: one emit [3, 9) where there were two.
    await again.sink(emit(3, 9));
    await again.sink(emit(9, 10));
    expect(await ranges(again)).to.deep.equal([
      [0, 3, 3],
      [3, 9, 6],
      [9, 10, 1],
    ]);
    expect(await SinkLog.storedEnd(memoryStore({ storage }), "s")).to.equal(10n);
  });

  it("refuses to open behind what its stream acknowledged (records lost), and removes itself whole", async () => {
    const store = memoryStore();
    const log = await SinkLog.open(store, "s", 0n);
    await log.sink(emit(0, 2));
    await expectRejects(SinkLog.open(store, "s", 5n), { code: ErrorCode.Corrupt });
    await SinkLog.remove(store, "s");
    expect(await SinkLog.storedEnd(store, "s")).to.equal(0n);
    let left = 0;
    for await (const _ of store.list({ prefix: ["edge"] })) left++;
    expect(left).to.equal(0);
  });

  it("keeps a payload over 48 KiB as a blob and reads it back whole", async () => {
    const store = memoryStore();
    const log = await SinkLog.open(store, "s", 0n);
    const big = emit(0, 20_000);
    await log.sink(big);
    const found = await log.payload(0n);
    expect(found?.bytes).to.deep.equal(big.payload);
    expect(found?.batch.rows).to.equal(20_000);
  });
});
