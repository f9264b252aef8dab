// Seeded property-based fuzzing (fast-check) of the host imports a guest calls: the host-import-calls fixture
// (test/fixtures/wat/host-import-calls.wat) calls `host-log.log` and `cdc-sink.emit` with the pointers,
// lengths and levels each case spells out. Every outcome is a value, a plugin's fn-error or a trap (typed; a
// trapped instance is replaced), no call takes a second, and after every batch of cases a fresh instance of
// the same module still logs and emits exactly what a known-good command list gives.
// FUZZ_RUNS=10000 (npm run fuzz) runs 10,000 cases; the suite runs a few hundred.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "#test";
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { PluginCallError, PluginError, TrapError } from "../../src/errors.ts";
import { loadFixture } from "../support/fixtures.ts";
import { interestingU32 } from "./fuzz-arbitraries.ts";
import { CHANGELOG_AT, commands, EMIT, HELLO_AT, LOG, LOG_REPEAT, PING_AT, RET_AT } from "./host-imports-util.ts";
import { fuzzRuns, typedCall, Violation } from "./fuzz-util.ts";

const RUNS = fuzzRuns();

describe("fuzz: host imports", () => {
  let module: ComponentModule;
  beforeAll(async () => {
    module = await ComponentModule.compile(await loadFixture("host-import-calls"));
  });

  async function instance(record: string[]) {
    const inst = await ComponentInstance.instantiate(module, {
      pluginId: "test.fuzz.host-imports",
      grants: new Set(["cdc-sink"]),
      log: (level, message) => record.push(`log ${level} ${message}`),
      cdcSink: (output, s, e, payload) => record.push(`emit ${output} ${s}-${e} ${[...payload].join(",")}`),
    });
    const stream = (inst.cdc as NonNullable<ComponentInstance["cdc"]>).start("changelog");
    return { inst, stream };
  }

  /** A fixed command list on a fresh instance: what it records must never change. */
  async function knownGood(): Promise<string> {
    const record: string[] = [];
    const { inst, stream } = await instance(record);
    stream.deliver({
      lsnStart: 0n,
      lsnEnd: 2n,
      mutations: commands(
        [LOG, 3, HELLO_AT, 5],
        [EMIT, CHANGELOG_AT, 9, PING_AT, 4, RET_AT],
        [LOG_REPEAT, 1, HELLO_AT, 4, 3],
      ),
      commitMicros: 0n,
    });
    inst.dispose();
    return record.join("\n");
  }

  it("host-log and cdc-sink.emit with any pointers, lengths and levels: typed, bounded, nothing leaks", async () => {
    const baseline = await knownGood();
    expect(baseline).to.equal(
      [
        "log warn hello",
        "emit changelog 0-2 112,105,110,103",
        "log debug hell",
        "log debug hell",
        "log debug hell",
      ].join("\n"),
    );
    const checkEvery = Math.max(1, Math.min(1000, Math.ceil(RUNS / 2)));
    const pointer = fc.oneof(fc.constantFrom(HELLO_AT, PING_AT, CHANGELOG_AT, RET_AT, 65530, 65536), interestingU32);
    const command = fc.oneof(
      fc.tuple(fc.constant(LOG), fc.integer({ min: 0, max: 6 }), pointer, pointer),
      fc.tuple(fc.constant(EMIT), pointer, pointer, pointer, pointer, pointer),
      fc.tuple(
        fc.constant(LOG_REPEAT),
        fc.integer({ min: 0, max: 4 }),
        pointer,
        fc.integer({ min: 0, max: 70_000 }),
        fc.integer({ min: 0, max: 5000 }),
      ),
      fc.tuple(interestingU32),
    );
    let current = await instance([]);
    let cases = 0;
    let traps = 0;
    let lsn = 0n;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 4 }), async (cmds) => {
        const outcome = await typedCall(
          "deliver(host-import commands)",
          () =>
            current.stream.deliver({ lsnStart: lsn, lsnEnd: lsn + 1n, mutations: commands(...cmds), commitMicros: 0n }),
          { async: false, traps: true },
        );
        lsn += 1n;
        if (!outcome.ok) {
          const e = outcome.error;
          if (!(e instanceof PluginCallError || e instanceof TrapError || e instanceof PluginError)) {
            throw new Violation(`unexpected error class ${String(e)}`);
          }
          if (current.inst.poisoned) {
            traps++;
            current.inst.dispose();
            current = await instance([]);
            lsn = 0n;
          }
        }
        if (++cases % checkEvery === 0) {
          const now = await knownGood();
          if (now !== baseline) throw new Violation(`after ${cases} cases the known-good commands record:\n${now}`);
        }
      }),
      { seed: 0x16e0, numRuns: RUNS },
    );
    expect(await knownGood()).to.equal(baseline);
    expect(traps).to.be.at.most(RUNS);
  });
});
