/**
 * The Rust `changelog` CDC components (v1 emits per delivery, v2 buffers up
 * to four batches) loaded from plugins-wasm/dist through jco, with a
 * recording `cdc-sink` import.
 */
import { Int32, Table, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import { describe, expect, it } from "vitest";
import {
  type FnErrorPayload,
  fnErrorOf,
  instantiateComponent,
  type LogLine,
  recordingHostLog,
} from "./support/transpile.ts";

interface ChangeBatch {
  lsnStart: bigint;
  lsnEnd: bigint;
  mutations: Uint8Array;
  commitMicros: bigint;
}
interface CdcStream {
  deliver(batch: ChangeBatch): void;
  checkpoint(): bigint;
  shutdown(): void;
  [Symbol.dispose](): void;
}
interface CdcPlugin {
  manifest(): string;
  cdc: { outputs(): string[]; start(output: string, fromLsn?: bigint): CdcStream };
}
interface Emitted {
  output: string;
  lsnStart: bigint;
  lsnEnd: bigint;
  payload: Uint8Array;
}

/** A sink that records emits and fails when `failWith` is set. */
class RecordingSink {
  emitted: Emitted[] = [];
  failWith: FnErrorPayload | null = null;
  /** Fail only from the nth emit on (0-based), when set. */
  failFrom = 0;
  emit = (output: string, lsnStart: bigint, lsnEnd: bigint, payload: Uint8Array): void => {
    if (this.failWith && this.emitted.length >= this.failFrom) {
      // jco turns a thrown value's `payload` into the result's error.
      throw Object.assign(new Error(this.failWith.message), { payload: this.failWith });
    }
    this.emitted.push({ output, lsnStart, lsnEnd, payload: payload.slice() });
  };
  ranges(): [bigint, bigint][] {
    return this.emitted.map((e) => [e.lsnStart, e.lsnEnd]);
  }
}

async function load(version: "v1" | "v2" | "v2-incompatible") {
  const sink = new RecordingSink();
  const logs: LogLine[] = [];
  const plugin = await instantiateComponent<CdcPlugin>(`changelog-${version}.wasm`, {
    "uni:plugin/host-log": recordingHostLog(logs),
    "uni:plugin/cdc-sink": { emit: sink.emit },
  });
  return { plugin, sink, logs };
}

function mutations(seed: number): Uint8Array {
  const t = new Table({
    op: vectorFromArray(["insert", "update"], new Utf8()),
    key: vectorFromArray([seed, seed + 1], new Int32()),
  });
  return tableToIPC(t, "stream");
}
const batch = (lsnStart: number, lsnEnd: number): ChangeBatch => ({
  lsnStart: BigInt(lsnStart),
  lsnEnd: BigInt(lsnEnd),
  mutations: mutations(lsnStart),
  commitMicros: 1_700_000_000_000_000n + BigInt(lsnStart),
});
const NOT_CONTIGUOUS = 0x102;
const HALTED = 0x103;
const SHUT_DOWN = 0x104;

describe("changelog manifest and start", () => {
  it("declares the cdc and cdc-sink capabilities and one output", async () => {
    for (const [version, semver] of [
      ["v1", "1.0.0"],
      ["v2", "2.0.0"],
    ] as const) {
      const { plugin } = await load(version);
      const m = JSON.parse(plugin.manifest());
      expect(m).toMatchObject({ id: "dev.uni.changelog", version: semver, capabilities: ["cdc", "cdc-sink"] });
      expect(m.provides.cdc_outputs).toEqual(["changelog"]);
      expect(plugin.cdc.outputs()).toEqual(["changelog"]);
    }
  });

  it("refuses an unknown output", async () => {
    const { plugin } = await load("v1");
    const err = fnErrorOf(() => plugin.cdc.start("audit-log", undefined));
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/unknown CDC output 'audit-log'; this plugin provides: changelog/);
  });

  it("checkpoint before any delivery is from_lsn, or 0", async () => {
    for (const version of ["v1", "v2"] as const) {
      const { plugin } = await load(version);
      expect(plugin.cdc.start("changelog", undefined).checkpoint()).toBe(0n);
      expect(plugin.cdc.start("changelog", 42n).checkpoint()).toBe(42n);
      expect(plugin.cdc.start("changelog", 2n ** 64n - 1n).checkpoint()).toBe(2n ** 64n - 1n);
    }
  });
});

describe("changelog v2-incompatible", () => {
  it("starts fresh streams like v2, but refuses to resume at any LSN", async () => {
    const { plugin, sink } = await load("v2-incompatible");
    expect(JSON.parse(plugin.manifest())).toMatchObject({ id: "dev.uni.changelog", version: "2.0.0" });
    const fresh = plugin.cdc.start("changelog", undefined);
    fresh.deliver(batch(0, 2));
    expect(fresh.checkpoint()).toBe(2n);
    expect(sink.ranges()).toEqual([[0n, 2n]]);
    for (const from of [0n, 8n]) {
      const err = fnErrorOf(() => plugin.cdc.start("changelog", from));
      expect(err.code).toBe(0x105);
      expect(err.message).toMatch(new RegExp(`cannot resume at LSN ${from}: it counts its position in batches`));
    }
  });
});

describe("changelog streams are independent resources", () => {
  it("two streams keep their own positions; dropping one leaves the other intact", async () => {
    const { plugin, sink } = await load("v1");
    const a = plugin.cdc.start("changelog", undefined);
    const b = plugin.cdc.start("changelog", 100n);
    a.deliver(batch(0, 2));
    b.deliver(batch(100, 103));
    a[Symbol.dispose]();
    const c = plugin.cdc.start("changelog", 7n); // may reuse a's slot
    expect(b.checkpoint()).toBe(103n);
    expect(c.checkpoint()).toBe(7n);
    b.deliver(batch(103, 104));
    expect(sink.ranges()).toEqual([
      [0n, 2n],
      [100n, 103n],
      [103n, 104n],
    ]);
  });
});

describe("changelog v1 emits on every delivery", () => {
  it("hands each batch to the sink unchanged and checkpoints its lsn_end", async () => {
    const { plugin, sink } = await load("v1");
    const stream = plugin.cdc.start("changelog", undefined);
    const b1 = batch(0, 3);
    stream.deliver(b1);
    expect(sink.emitted).toHaveLength(1);
    expect(sink.emitted[0]).toMatchObject({ output: "changelog", lsnStart: 0n, lsnEnd: 3n });
    expect(Buffer.from(sink.emitted[0].payload).equals(Buffer.from(b1.mutations))).toBe(true);
    expect(stream.checkpoint()).toBe(3n);
    stream.deliver(batch(3, 10));
    expect(stream.checkpoint()).toBe(10n);
    expect(sink.ranges()).toEqual([
      [0n, 3n],
      [3n, 10n],
    ]);
  });
});

describe("changelog contiguity (v1 and v2)", () => {
  for (const version of ["v1", "v2"] as const) {
    it(`${version}: detects gaps, duplicates and empty ranges without losing its place`, async () => {
      const { plugin, sink } = await load(version);
      const stream = plugin.cdc.start("changelog", undefined);
      stream.deliver(batch(100, 105));
      const cases: [ChangeBatch, RegExp][] = [
        [batch(107, 110), /gap in delivery: expected a batch starting at LSN 105, got 107/],
        [batch(101, 106), /duplicate delivery: expected a batch starting at LSN 105, got 101/],
        [batch(100, 105), /duplicate delivery: expected a batch starting at LSN 105, got 100/],
        [batch(105, 105), /batch \[105, 105\) is empty or reversed: expected lsn_end > 105, got 105/],
        [batch(105, 104), /expected lsn_end > 105, got 104/],
      ];
      for (const [bad, message] of cases) {
        const err = fnErrorOf(() => stream.deliver(bad));
        expect(err).toMatchObject({ code: NOT_CONTIGUOUS, retryable: false });
        expect(err.message).toMatch(message);
      }
      // The rejected batches changed nothing: the right one is still accepted.
      stream.deliver(batch(105, 110));
      expect(stream.checkpoint()).toBe(110n);
      expect(sink.ranges()).toEqual([
        [100n, 105n],
        [105n, 110n],
      ]);
    });

    it(`${version}: resumes at from_lsn inclusive`, async () => {
      const { plugin, sink } = await load(version);
      const stream = plugin.cdc.start("changelog", 10n);
      expect(fnErrorOf(() => stream.deliver(batch(9, 12))).message).toMatch(
        /expected a batch starting at LSN 10, got 9/,
      );
      expect(fnErrorOf(() => stream.deliver(batch(11, 12))).message).toMatch(
        /expected a batch starting at LSN 10, got 11/,
      );
      stream.deliver(batch(10, 12));
      expect(stream.checkpoint()).toBe(12n);
      expect(sink.ranges()).toEqual([[10n, 12n]]);
    });

    it(`${version}: malformed mutations are a code-2 error and change nothing`, async () => {
      const { plugin, sink } = await load(version);
      const stream = plugin.cdc.start("changelog", undefined);
      const good = batch(0, 1).mutations;
      for (const mutationsBytes of [
        new Uint8Array(0),
        Uint8Array.of(1, 2, 3),
        good.subarray(0, good.length - 20),
        good.subarray(8),
      ]) {
        const err = fnErrorOf(() => stream.deliver({ ...batch(0, 1), mutations: mutationsBytes }));
        expect(err.code).toBe(2);
        expect(err.message).toMatch(/^mutations: malformed Arrow IPC/);
      }
      stream.deliver(batch(0, 1));
      expect(stream.checkpoint()).toBe(1n);
      expect(sink.ranges()).toEqual([[0n, 1n]]);
    });
  }
});

describe("changelog sink failures halt the stream", () => {
  it("v1: the emit error is returned, then deliveries fail with 0x103 and checkpoint stays frozen", async () => {
    const { plugin, sink, logs } = await load("v1");
    const stream = plugin.cdc.start("changelog", 5n);
    stream.deliver(batch(5, 8));
    sink.failWith = { code: 0x1ff, message: "disk full", retryable: true };
    expect(fnErrorOf(() => stream.deliver(batch(8, 9)))).toEqual({
      code: 0x1ff,
      message: "disk full",
      retryable: true,
    });
    sink.failWith = null; // the sink recovering does not un-halt the stream
    const err = fnErrorOf(() => stream.deliver(batch(8, 9)));
    expect(err.code).toBe(HALTED);
    expect(err.message).toMatch(/halted by an earlier sink failure; its checkpoint stays at 8/);
    expect(stream.checkpoint()).toBe(8n);
    expect(stream.checkpoint()).toBe(8n);
    expect(sink.ranges()).toEqual([[5n, 8n]]);
    expect(logs.some((l) => l.level === "warn" && /sink refused \[8, 9\): disk full/.test(l.message))).toBe(true);
    stream.shutdown();
  });

  it("v2: a failure mid-flush keeps the checkpoint at the last batch the sink accepted", async () => {
    const { plugin, sink } = await load("v2");
    const stream = plugin.cdc.start("changelog", undefined);
    stream.deliver(batch(0, 2));
    stream.deliver(batch(2, 4));
    stream.deliver(batch(4, 6));
    sink.failWith = { code: 0x1fe, message: "sink unavailable", retryable: false };
    sink.failFrom = 2; // the first two emits of the flush succeed
    // The fourth delivery fills the buffer and triggers the flush.
    expect(fnErrorOf(() => stream.deliver(batch(6, 8)))).toEqual({
      code: 0x1fe,
      message: "sink unavailable",
      retryable: false,
    });
    expect(sink.ranges()).toEqual([
      [0n, 2n],
      [2n, 4n],
    ]);
    expect(stream.checkpoint()).toBe(4n); // lags the 8 delivered: the rest was never durable
    expect(fnErrorOf(() => stream.deliver(batch(8, 9))).code).toBe(HALTED);
    // Resuming a new stream at the checkpoint sees the lost LSNs again, once.
    sink.failWith = null;
    const resumed = plugin.cdc.start("changelog", stream.checkpoint());
    resumed.deliver(batch(4, 6));
    resumed.deliver(batch(6, 8));
    expect(resumed.checkpoint()).toBe(8n);
    expect(sink.ranges()).toEqual([
      [0n, 2n],
      [2n, 4n],
      [4n, 6n],
      [6n, 8n],
    ]);
  });
});

describe("changelog v2 buffers up to four batches", () => {
  it("emits nothing until checkpoint, then everything in order", async () => {
    const { plugin, sink } = await load("v2");
    const stream = plugin.cdc.start("changelog", undefined);
    const delivered = [batch(0, 1), batch(1, 5), batch(5, 6)];
    for (const b of delivered) stream.deliver(b);
    expect(sink.emitted).toHaveLength(0); // nothing durable yet
    expect(stream.checkpoint()).toBe(6n);
    expect(sink.ranges()).toEqual([
      [0n, 1n],
      [1n, 5n],
      [5n, 6n],
    ]);
    for (const [i, e] of sink.emitted.entries()) {
      expect(Buffer.from(e.payload).equals(Buffer.from(delivered[i].mutations))).toBe(true);
    }
  });

  it("flushes when the fourth batch arrives, and on shutdown", async () => {
    const { plugin, sink } = await load("v2");
    const stream = plugin.cdc.start("changelog", 0n);
    for (let i = 0; i < 3; i++) stream.deliver(batch(i, i + 1));
    expect(sink.emitted).toHaveLength(0);
    stream.deliver(batch(3, 4));
    expect(sink.emitted).toHaveLength(4);
    stream.deliver(batch(4, 5));
    stream.deliver(batch(5, 6));
    expect(sink.emitted).toHaveLength(4);
    stream.shutdown();
    expect(sink.ranges().at(-1)).toEqual([5n, 6n]);
    expect(sink.emitted).toHaveLength(6);
  });
});

describe("changelog shutdown", () => {
  for (const version of ["v1", "v2"] as const) {
    it(`${version}: every call after shutdown is an error`, async () => {
      const { plugin } = await load(version);
      const stream = plugin.cdc.start("changelog", undefined);
      stream.deliver(batch(0, 1));
      stream.shutdown();
      for (const call of [() => stream.deliver(batch(1, 2)), () => stream.checkpoint(), () => stream.shutdown()]) {
        const err = fnErrorOf(call);
        expect(err.code).toBe(SHUT_DOWN);
        expect(err.message).toMatch(/shut down/);
      }
    });
  }

  it("a v1 → v2 handoff (checkpoint, shutdown, start at the checkpoint) sees every LSN exactly once", async () => {
    const old = await load("v1");
    const next = await load("v2");
    const sinkLog: [bigint, bigint][] = [];
    const s1 = old.plugin.cdc.start("changelog", undefined);
    s1.deliver(batch(0, 4));
    s1.deliver(batch(4, 9));
    const resumeAt = s1.checkpoint();
    s1.shutdown();
    const s2 = next.plugin.cdc.start("changelog", resumeAt);
    expect(fnErrorOf(() => s2.deliver(batch(4, 9))).code).toBe(NOT_CONTIGUOUS); // a replay of delivered LSNs
    s2.deliver(batch(9, 12));
    s2.shutdown();
    sinkLog.push(...old.sink.ranges(), ...next.sink.ranges());
    expect(sinkLog).toEqual([
      [0n, 4n],
      [4n, 9n],
      [9n, 12n],
    ]);
  });
});
