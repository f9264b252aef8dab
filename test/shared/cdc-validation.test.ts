// Bad input never jams a stream: a batch is checked before it gets LSNs (Arrow IPC stream, schema, commit-time
// range, LSN headroom), a batch the output refuses outright leaves the log, and after any refusal the stream
// publishes and reloads as before, every LSN reaching the sink exactly once. Against the real changelog outputs.
import { Table, tableToIPC } from "apache-arrow";
import fc from "fast-check";
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, type LiveCdc, type PluginHandle } from "../../src/mod.ts";
import { changes, expectExactlyOnce, rowIds } from "./cdc-util.ts";
import { expectRejects } from "./host-util.ts";
import { hostWith, plugin } from "./reload-util.ts";

const U64_MAX = (1n << 64n) - 1n;

/** Two IPC streams glued together (the first without its end marker): apache-arrow reads it, the output refuses it. */
function twoSchemas(): Uint8Array {
  const s = tableToIPC(changes(0, 1), "stream");
  const glued = new Uint8Array(2 * s.length - 8);
  glued.set(s.subarray(0, s.length - 8));
  glued.set(s, s.length - 8);
  return glued;
}

const BAD: Record<string, () => [Uint8Array | Table, unknown, string]> = {
  "an Arrow IPC file": () => [tableToIPC(changes(0, 2), "file"), undefined, "file"],
  "no bytes": () => [new Uint8Array(0), undefined, "no schema"],
  garbage: () => [Uint8Array.of(1, 2, 3, 4, 5), undefined, "not a valid Arrow IPC stream"],
  "a truncated stream": () => [
    tableToIPC(changes(0, 4), "stream").subarray(0, 100),
    undefined,
    "not a valid Arrow IPC stream",
  ],
  "a table without columns": () => [new Table({}), undefined, "no columns"],
  "a commit time past s64": () => [changes(0, 1), 2n ** 70n, "signed 64-bit"],
  "a commit time below s64": () => [changes(0, 1), { commitMicros: -(2n ** 63n) - 1n }, "signed 64-bit"],
  "a commit time that is a number": () => [changes(0, 1), { commitMicros: 5 }, "bigint"],
  "a source that is not a string": () => [changes(0, 1), { source: 42 }, "source must be a string"],
  "a source too long": () => [changes(0, 1), { source: "x".repeat(1025) }, "1025 characters"],
};

async function attached(name: "changelog-v1" | "changelog-v2", options = {}) {
  const { host, handle } = await hostWith(name);
  const cdc = await host.attachCdc("strict", "changelog", options);
  const emits: CdcEmit[] = [];
  cdc.onEmit((e) => {
    emits.push(e);
  });
  return { host, handle, cdc, emits };
}

describe("cdc: checks before the log", () => {
  for (const [what, make] of Object.entries(BAD)) {
    it(`refuses ${what} with TypeCoercion and nothing changed`, async () => {
      const { host, handle, cdc, emits } = await attached("changelog-v1");
      await cdc.publish(changes(0, 1));
      const before = cdc.state;
      const [mutations, meta, message] = make();
      await expectRejects(cdc.publish(mutations, meta as bigint), { code: ErrorCode.TypeCoercion, message });
      expect(cdc.state).to.deep.equal(before);
      expect(cdc.halted).to.equal(null);
      await cdc.publish(changes(1, 2));
      await host.reload(handle, await plugin("changelog-v2"));
      await cdc.publish(changes(3, 1));
      await cdc.checkpoint();
      expectExactlyOnce(emits, 0n, 4n);
      host.dispose();
    });
  }

  it("accepts the whole s64 commit-time range", async () => {
    const { host, cdc, emits } = await attached("changelog-v1");
    await cdc.publish(changes(0, 1), -(2n ** 63n));
    await cdc.publish(changes(1, 1), 2n ** 63n - 1n);
    expect(emits.map((e) => e.commitMicros)).to.deep.equal([-(2n ** 63n), 2n ** 63n - 1n]);
    host.dispose();
  });

  it("a batch the output refuses outright (two schemas in one stream) leaves the log; the stream goes on", async () => {
    const { host, handle, cdc, emits } = await attached("changelog-v1");
    await cdc.publish(changes(0, 1));
    const before = cdc.state;
    const err = await expectRejects(cdc.publish(twoSchemas()), { message: ["refused the batch", "second schema"] });
    expect(err.code).to.equal(2); // the output's own code for malformed input
    expect(cdc.state).to.deep.equal(before);
    expect(cdc.halted).to.equal(null);
    await cdc.publish(changes(1, 1));
    await host.reload(handle, await plugin("changelog-v2"));
    await cdc.publish(changes(2, 1));
    await cdc.checkpoint();
    expectExactlyOnce(emits, 0n, 3n);
    host.dispose();
  });

  it("refuses a batch that would take LSNs past 2^64 - 1; the stream still reloads and checkpoints", async () => {
    const { host, handle, cdc, emits } = await attached("changelog-v1", { fromLsn: U64_MAX - 3n });
    expect(await cdc.publish(changes(0, 3))).to.deep.equal({ lsnStart: U64_MAX - 3n, lsnEnd: U64_MAX });
    const before = cdc.state;
    await expectRejects(cdc.publish(changes(3, 1)), {
      code: ErrorCode.ResourceLimit,
      retryable: false,
      message: ["out of LSNs", "start a new stream"],
    });
    expect(cdc.state).to.deep.equal(before);
    const report = await host.reload(handle, await plugin("changelog-v2"));
    expect(report.ok).to.equal(true);
    expect(await cdc.checkpoint()).to.equal(U64_MAX);
    expectExactlyOnce(emits, U64_MAX - 3n, U64_MAX);
    host.dispose();
  });
});

describe("cdc: no input jams a stream (property, seeded)", () => {
  type Step = { kind: "good"; rows: number } | { kind: "bad"; which: string } | { kind: "reload" };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant("good" as const), rows: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant("bad" as const), which: fc.constantFrom(...Object.keys(BAD), "two schemas") }),
    fc.record({ kind: fc.constant("reload" as const) }),
  );

  it("after any mix of good and bad batches and reloads, every good row reaches the sink once, in order", async () => {
    const v1 = await plugin("changelog-v1");
    const v2 = await plugin("changelog-v2");
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { host, handle: first } = await hostWith("changelog-v1");
        let handle: PluginHandle = first;
        const cdc: LiveCdc = await host.attachCdc("mixed", "changelog", { checkpointEvery: 3 });
        const emits: CdcEmit[] = [];
        cdc.onEmit((e) => {
          emits.push(e);
        });
        let next = 0;
        let onV2 = false;
        try {
          for (const s of steps) {
            if (s.kind === "good") {
              await cdc.publish(changes(next, s.rows));
              next += s.rows;
            } else if (s.kind === "bad") {
              const [mutations, meta] =
                s.which === "two schemas" ? [twoSchemas(), undefined] : (BAD[s.which] as (typeof BAD)[string])();
              const before = cdc.nextLsn;
              await cdc.publish(mutations, meta as bigint).then(
                () => expect.fail(`${s.which} was accepted`),
                () => undefined,
              );
              expect(cdc.nextLsn).to.equal(before);
            } else {
              handle = (await host.reload(handle, onV2 ? v1 : v2)).to as PluginHandle;
              onV2 = !onV2;
            }
            expect(cdc.halted).to.equal(null);
          }
          await cdc.checkpoint();
          expectExactlyOnce(emits, 0n, cdc.nextLsn);
          expect(rowIds(emits)).to.deep.equal(Array.from({ length: next }, (_, i) => BigInt(i)));
        } finally {
          host.dispose();
        }
      }),
      { seed: 1414, numRuns: 40 },
    );
  });
});
