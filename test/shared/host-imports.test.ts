// The host imports a guest calls (`host-log.log`, `cdc-sink.emit`) with the pointers and lengths it chooses,
// through the host-import-calls fixture (test/fixtures/wat/host-import-calls.wat): its deliver runs the
// commands its mutations spell out. Pointers are unsigned 32-bit and bounded by linear memory; host-log
// is capped in size and rate, and what it holds back is counted on the instance.
import { describe, expect, it } from "#test";
import { ErrorCode, PluginCallError, PluginError, TrapError } from "../../src/errors.ts";
import {
  CHANGELOG_AT,
  commands,
  EMIT,
  HELLO_AT,
  importCalls,
  LOG,
  LOG_REPEAT,
  PING_AT,
  RET_AT,
} from "./host-imports-util.ts";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("host imports: pointers", () => {
  it("logs and emits from good pointers", async () => {
    const { logged, emitted, run } = await importCalls();
    run(commands([LOG, 2, HELLO_AT, 5], [EMIT, CHANGELOG_AT, 9, PING_AT, 4, RET_AT]));
    expect(logged).to.deep.equal([{ level: "info", message: "hello" }]);
    expect(emitted).to.deep.equal([
      { output: "changelog", lsnStart: 0n, lsnEnd: 1n, payload: [0x70, 0x69, 0x6e, 0x67] },
    ]);
  });

  it("refuses a host-log pointer of 0xfffffff0 (unsigned, past memory) as a trap, not an empty message", async () => {
    const { instance, logged, run } = await importCalls();
    const err = thrown(() => run(commands([LOG, 2, 0xfffffff0, 16])));
    expect(err).to.be.instanceOf(TrapError);
    expect((err as TrapError).code).to.equal(ErrorCode.Trap);
    expect((err as TrapError).message).to.contain("host-log.log message [4294967280, +16)");
    expect(logged).to.deep.equal([]);
    expect(instance.poisoned).to.equal(true);
  });

  it("refuses a host-log length that runs past memory", async () => {
    const { logged, run } = await importCalls();
    const err = thrown(() => run(commands([LOG, 2, HELLO_AT, 0xffffff00])));
    expect(err).to.be.instanceOf(TrapError);
    expect((err as TrapError).message).to.contain("lies outside the 65536-byte linear memory");
    expect(logged).to.deep.equal([]);
  });

  it("refuses an out-of-range log level", async () => {
    const { run } = await importCalls();
    const err = thrown(() => run(commands([LOG, 9, HELLO_AT, 5])));
    expect(err).to.be.instanceOf(TrapError);
    expect((err as TrapError).message).to.contain("level 9 is not a valid enum value");
  });

  for (const [what, cmd] of [
    ["output pointer", [EMIT, 0xfffffff0, 9, PING_AT, 4, RET_AT]],
    ["payload pointer", [EMIT, CHANGELOG_AT, 9, 0xfffffff0, 16, RET_AT]],
    ["payload length", [EMIT, CHANGELOG_AT, 9, PING_AT, 0x80000000, RET_AT]],
    ["return area", [EMIT, CHANGELOG_AT, 9, PING_AT, 4, 0xfffffff8]],
  ] as const) {
    it(`refuses a cdc-sink.emit ${what} outside memory, before the sink sees anything`, async () => {
      const { emitted, run } = await importCalls();
      const err = thrown(() => run(commands([...cmd])));
      expect(err).to.be.instanceOf(TrapError);
      expect((err as TrapError).message).to.contain("cdc-sink.emit");
      expect((err as TrapError).message).to.contain("lies outside");
      expect(emitted).to.deep.equal([]);
    });
  }

  it("refuses an emit output name that is not UTF-8", async () => {
    const { emitted, run } = await importCalls();
    // The fixture's bump allocator starts at 8192: start's output name (9 bytes), then the stream's 8-aligned
    // 8-byte cell at 8208, then these mutations at 8216. The first command's unused last field (0xffffffff,
    // at 8236) is the output name.
    const err = thrown(() => run(commands([LOG, 0, HELLO_AT, 0, 0, 0xffffffff], [EMIT, 8236, 4, PING_AT, 4, RET_AT])));
    expect((err as TrapError).message).to.contain("not valid UTF-8");
    expect(err).to.be.instanceOf(TrapError);
    expect(emitted).to.deep.equal([]);
  });

  it("hands a sink's typed refusal back to the guest as a fn-error", async () => {
    const refusal = new PluginError(0x123, "sink is full", { retryable: true });
    const { run, instance } = await importCalls(undefined, () => refusal);
    const err = thrown(() => run(commands([EMIT, CHANGELOG_AT, 9, PING_AT, 4, RET_AT])));
    expect(err).to.be.instanceOf(PluginCallError);
    expect((err as PluginCallError).code).to.equal(0x123);
    expect((err as PluginCallError).message).to.equal("sink is full");
    expect((err as PluginCallError).retryable).to.equal(true);
    expect(instance.poisoned).to.equal(false);
  });
});

describe("host imports: host-log caps", () => {
  it("truncates a message over the size cap and counts it", async () => {
    const { instance, logged, run } = await importCalls({ maxMessageBytes: 3 });
    run(commands([LOG, 1, HELLO_AT, 5]));
    expect(logged).to.deep.equal([{ level: "debug", message: "hel [truncated: 2 more bytes]" }]);
    expect(instance.logStats).to.deep.equal({ delivered: 1, dropped: 0, droppedBytes: 0, truncated: 1 });
  });

  it("drops messages over the rate cap, counts them, and returns quickly", async () => {
    const { instance, logged, run } = await importCalls({ messagesPerSecond: 10 });
    // 100,000 calls of a 60,000-byte message: all but the first burst are dropped without decoding.
    run(commands([LOG_REPEAT, 0, 1024, 60_000, 100_000]));
    const stats = instance.logStats;
    expect(logged.length).to.equal(stats.delivered);
    expect(stats.delivered).to.be.within(1, 20);
    expect(stats.delivered + stats.dropped).to.equal(100_000);
    expect(stats.droppedBytes).to.equal(stats.dropped * 60_000);
    expect(stats.truncated).to.equal(stats.delivered); // 60,000 > the default 16 KiB cap
    for (const { message } of logged) expect(message.length).to.be.below(16 * 1024 + 64);
  });

  it("caps bytes per second as well as messages", async () => {
    const { instance, run } = await importCalls({ bytesPerSecond: 10 });
    run(commands([LOG_REPEAT, 0, HELLO_AT, 5, 1000]));
    expect(instance.logStats.delivered).to.be.within(2, 4);
    expect(instance.logStats.dropped).to.equal(1000 - instance.logStats.delivered);
  });
});
