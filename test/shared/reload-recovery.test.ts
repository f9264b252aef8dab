// Replacing a version that trapped: its memory cannot be trusted, so nothing is read out of it. The reload is
// refused unless forced (naming what would be dropped); forced, CDC streams resume exactly where their sinks
// stopped — the host's log holds every later batch — while the trapped version's indexes and states go.
import { makeVector, Table } from "apache-arrow";
import { describe, expect, it } from "#test";
import type { ComponentInstance } from "../../src/component/mod.ts";
import { type CdcEmit, ErrorCode, PluginHost, type PluginError } from "../../src/mod.ts";
import { expectContiguous, plugin, refused } from "./reload-util.ts";

const CEILING_PAGES = 256;
let row = 0n;
const batch = (n: number) => new Table({ row: makeVector(BigInt64Array.from({ length: n }, () => row++)) });

/** A real trap: an argument larger than the instance's memory ceiling makes its allocator hit `unreachable`. */
function trap(instance: ComponentInstance): void {
  const stream = instance.cdc?.start("changelog", 0n);
  try {
    stream?.deliver({
      lsnStart: 0n,
      lsnEnd: 1n,
      mutations: new Uint8Array(CEILING_PAGES * 65536 + 1),
      commitMicros: 0n,
    });
  } catch (err) {
    expect((err as PluginError).code).to.equal(ErrorCode.Trap);
  }
  expect(instance.poisoned).to.equal(true);
}

describe("reload: replacing a version that trapped", () => {
  it("is refused without force, naming the poisoned version", async () => {
    const host = new PluginHost({ memoryPagesCeiling: CEILING_PAGES, onLog: () => {} });
    const handle = await host.load(await plugin("changelog-v1"));
    await host.attachCdc("changes", "changelog");
    trap(host.entries.get(handle.id)?.current.instance as ComponentInstance);
    const err = await refused(host.reload(handle, await plugin("changelog-v2")), "check-compat");
    expect(err.code).to.equal(ErrorCode.Poisoned);
    expect(err.message).to.contain("trapped");
    expect(err.message).to.contain("force: true");
    host.dispose();
  });

  it("forced, CDC resumes where the sink stopped: every LSN exactly once, batches published meanwhile included", async () => {
    const host = new PluginHost({ memoryPagesCeiling: CEILING_PAGES, onLog: () => {} });
    const handle = await host.load(await plugin("changelog-v1"));
    const live = await host.attachCdc("changes", "changelog", { checkpointEvery: 2 });
    const emits: CdcEmit[] = [];
    live.onEmit((e) => emits.push(e));
    for (let i = 0; i < 5; i++) await live.publish(batch(2));
    trap(host.entries.get(handle.id)?.current.instance as ComponentInstance);

    // Publishing to a trapped version: the batch enters the log, the call says the stream is halted.
    const halted = await live.publish(batch(3)).then(
      () => null,
      (e: PluginError) => e,
    );
    expect(halted?.message).to.contain("halted");
    expect(live.nextLsn).to.equal(13n);

    const report = await host.reload(handle, await plugin("changelog-v2"), { force: true });
    expect(report.to?.version).to.equal("2.0.0");
    await live.publish(batch(1));
    await live.checkpoint();

    expectContiguous(emits, 0n, live.nextLsn);
    expect(live.halted).to.equal(null);
    host.dispose();
  });

  it("forced, the trapped version's CRDT states are dropped, and the refusal said which", async () => {
    const host = new PluginHost({ memoryPagesCeiling: CEILING_PAGES, onLog: () => {} });
    const handle = await host.load(await plugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 1]);
    const instance = host.entries.get(handle.id)?.current.instance as ComponentInstance;
    try {
      instance.crdt?.fromPersisted("g-counter", new Uint8Array(CEILING_PAGES * 65536 + 1)); // past the ceiling: a trap
    } catch {
      // expected
    }
    expect(instance.poisoned).to.equal(true);
    const err = await refused(host.reload(handle, await plugin("crdt-v2")), "check-compat");
    expect(err.message).to.contain('drops crdt "likes"');
    await host.reload(handle, await plugin("crdt-v2"), { force: true });
    expect(likes.dropped).to.equal(true);
    expect(host.crdt("likes")).to.equal(undefined);
    const fresh = await host.createCrdt("likes", "pn-counter");
    await fresh.apply(["a", 2]);
    expect(await fresh.value()).to.equal(2);
    host.dispose();
  });
});
