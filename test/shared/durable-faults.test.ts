// A durable host whose store fails one write (a transient error: a locked Deno KV, an aborted IndexedDB
// transaction, a remote store that did not answer): the call whose write failed rejects, nothing acknowledged is
// lost, and a restart afterwards restores everything — one failed write must not cost a stream or a state.
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, PluginError, PluginHost } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { batchTable } from "./durable-workload.ts";
import { plugin } from "./reload-util.ts";

/** A store whose next `times` commits with a key matching `failNext` fail (a retryable Io error). */
function failingOnce(store: StateStore) {
  const state = { failNext: (_k: string, _type: string) => false, times: 1, failed: 0, store: store as StateStore };
  state.store = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "commit") {
        return async (batch: Parameters<StateStore["commit"]>[0]) => {
          if (batch.mutations.some((m) => state.failNext(m.key.map(String).join("/"), m.type))) {
            if (--state.times <= 0) state.failNext = () => false;
            state.failed++;
            throw new PluginError(ErrorCode.Io, "injected: the store did not answer", { retryable: true });
          }
          return target.commit(batch);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return state;
}

describe("durable host: one failed store write", () => {
  it("a CDC publish whose entry write fails: the stream goes on, and a restart restores it whole", async () => {
    const storage = new MemoryStorage();
    const failing = failingOnce(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    await host.load(await plugin("changelog-v1"));
    const stream = await host.attachCdc("s", "changelog");
    // No sink yet: nothing is acknowledged, so every batch stays in the stream's log.
    await stream.publish(batchTable([1n]));
    failing.failNext = (key) => key.includes("cdc-log");
    const failed = await stream.publish(batchTable([2n])).then(
      () => undefined,
      (e: PluginError) => e,
    );
    expect(failing.failed).to.equal(1);
    expect(failed?.code).to.equal(ErrorCode.Io);
    expect(failed?.retryable).to.equal(true);
    // It says what became of the batch: in the stream, written later, not to be published again.
    expect(failed?.message).to.contain("[1, 2) is in the stream");
    await stream.publish(batchTable([3n]));
    await stream.checkpoint();
    await host.flush();
    host.dispose();

    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    const restored = again.cdc("s");
    expect(restored?.nextLsn).to.equal(3n);
    // Downstream gets every row once, the one whose publish was refused included (it stayed in the stream).
    const got: CdcEmit[] = [];
    restored?.onEmit((e) => {
      got.push(e);
    });
    await restored?.delivered();
    expect(got.map((e) => [e.lsnStart, e.lsnEnd])).to.deep.equal([
      [0n, 1n],
      [1n, 2n],
      [2n, 3n],
    ]);
    again.dispose();
  });

  it("a CRDT op whose journal write fails: a snapshot makes it durable, later ops journal again, a restart has all", async () => {
    const storage = new MemoryStorage();
    const failing = failingOnce(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    await host.load(await plugin("crdt-v1"));
    const votes = await host.createCrdt("votes", "g-counter");
    await votes.apply(["a", 1]);
    failing.failNext = (key) => key.includes("journal");
    // The journal is broken for good after a failed commit; the fold that replaces it writes the live state (this
    // op included) as a snapshot, so the op resolves once that is durable.
    const failed = await votes.apply(["a", 10]).then(
      () => undefined,
      (e: PluginError) => e,
    );
    expect(failing.failed).to.equal(1);
    expect(failed, "the op is durable through the snapshot").to.equal(undefined);
    const acknowledged: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ok = await votes.apply(["b", 100]).then(
        () => true,
        () => false,
      );
      if (ok) acknowledged.push(100);
    }
    expect(acknowledged.length, "ops after the failed one are journaled again").to.equal(5);
    host.dispose();
    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    expect(Number(await again.crdt("votes")?.value())).to.equal(511);
    again.dispose();
  });

  it("a CRDT op whose journal write fails, and the snapshot after it too: it rejects; later ops journal again", async () => {
    const storage = new MemoryStorage();
    const failing = failingOnce(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    await host.load(await plugin("crdt-v1"));
    const votes = await host.createCrdt("votes", "g-counter");
    await votes.apply(["a", 1]);
    failing.failNext = (key) => key.includes("journal") || key.includes("res/crdt/votes");
    failing.times = 2;
    const failed = await votes.apply(["a", 10]).then(
      () => undefined,
      (e: PluginError) => e,
    );
    expect(failing.failed).to.equal(2);
    expect(failed?.code).to.equal(ErrorCode.Io);
    expect(failed?.message).to.contain("so did the snapshot");
    for (let i = 0; i < 5; i++) await votes.apply(["b", 100]);
    host.dispose();
    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    // The refused op is not durable; every acknowledged one is.
    expect(Number(await again.crdt("votes")?.value())).to.equal(501);
    again.dispose();
  });

  it("housekeeping after a reload fails (the old journal's deletion): a background error, not an unhandled rejection", async () => {
    const storage = new MemoryStorage();
    const failing = failingOnce(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    const handle = await host.load(await plugin("crdt-v1"));
    const votes = await host.createCrdt("votes", "g-counter");
    for (let i = 0; i < 3; i++) await votes.apply(["a", 1]);
    failing.failNext = (key, type) => type === "delete" && key.includes("journal");
    await host.reload(handle, await plugin("crdt-v2"));
    await host.flush();
    expect(failing.failed).to.equal(1);
    await votes.apply(["a", 1]);
    host.dispose();
    const again = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await again.restored;
    expect(report.quarantined).to.deep.equal([]);
    expect(Number(await again.crdt("votes")?.value())).to.equal(4);
    again.dispose();
  });
});
