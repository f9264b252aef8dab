// Seeded property-based fuzzing (fast-check) of the data a host takes in: Arrow IPC, CRDT ops, logical-type
// literals, CDC batches. For each: every outcome is a value or a typed PluginError (rejected, never thrown
// synchronously), no call takes a second, no CDC stream is left where neither publish nor reload recovers it,
// and the known-good workload on the same host keeps giving its first results.
// FUZZ_RUNS=10000 (npm run fuzz) runs 10,000 cases per boundary; the suite runs a few hundred.
import { LargeUtf8, Table, tableToIPC, vectorFromArray } from "apache-arrow";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { fromIPC } from "../../src/arrow.ts";
import type { PluginHandle, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { anyValue, bytesFrom } from "./fuzz-arbitraries.ts";
import {
  fuzzRuns,
  mutate,
  mutationTable,
  sampleHost,
  typedCall,
  Violation,
  vectorSource,
  vectors,
  WorkloadCheck,
} from "./fuzz-util.ts";

const RUNS = fuzzRuns();

describe("fuzz: data", () => {
  let host: PluginHost;
  let handles: Map<string, PluginHandle>;
  let check: WorkloadCheck;
  beforeAll(async () => {
    ({ host, handles } = await sampleHost());
    check = new WorkloadCheck(host, RUNS);
    await check.start();
  });
  afterAll(() => host.dispose());

  it("Arrow IPC: any bytes into fromIPC, index build and probe, logical-type casts, typed", async () => {
    const query = new Table({ vector: vectors(Float32Array.of(0.5, -0.5, 0.25, 1), 4) });
    const bases = [
      tableToIPC(vectorSource(), "stream"),
      tableToIPC(query, "stream"),
      tableToIPC(mutationTable(5), "stream"),
      tableToIPC(new Table({ value: vectorFromArray(["POINT(1 2)", null, "POINT(3 4)"], new LargeUtf8()) }), "stream"),
      tableToIPC(vectorSource(), "file"),
    ];
    const index = await host.createIndex("fuzz-ipc-index", "vector.flat", vectorSource());
    const geo = host.logicalType("geo.point");
    let n = 0;
    await fc.assert(
      fc.asyncProperty(bytesFrom(bases), async ({ base, m }) => {
        const bytes = mutate(base, m);
        await typedCall("fromIPC", () => fromIPC(bytes), { async: false });
        const built = await typedCall("createIndex(IPC bytes)", () =>
          host.createIndex(`fuzz-ipc-${n++}`, "vector.flat", bytes),
        );
        if (built.ok) await built.value.drop();
        await typedCall("probe(IPC bytes)", () => index.probeIPC(bytes, 3));
        await typedCall("castFrom(IPC bytes)", () => geo.castFrom(bytes));
        await check.afterCase();
      }),
      { seed: 0x16d0, numRuns: RUNS },
    );
    await index.drop();
    await check.finish();
  });

  it("Arrow IPC: index options of any shape are serialised or refused, typed", async () => {
    const source = vectorSource();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyValue, async (options) => {
        const built = await typedCall("createIndex(options)", () =>
          host.createIndex(`fuzz-options-${n++}`, "vector.flat", source, options as object),
        );
        if (built.ok) await built.value.drop();
        await check.afterCase();
      }),
      { seed: 0x16d4, numRuns: RUNS },
    );
    await check.finish();
  });

  it("CRDT ops: any value applied to every kind, typed", async () => {
    const kinds = ["g-counter", "pn-counter", "lww-register", "or-set"];
    const states = await Promise.all(kinds.map((kind) => host.createCrdt(`fuzz-ops-${kind}`, kind)));
    const shaped = fc.oneof(
      fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.double(), fc.bigInt())),
      fc.tuple(fc.constantFrom("add", "remove"), fc.string({ maxLength: 8 }), anyValue),
      fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.bigInt()), anyValue),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: kinds.length - 1 }), fc.oneof(shaped, anyValue), async (k, op) => {
        const state = states[k] as (typeof states)[number];
        await typedCall(`apply(${kinds[k]})`, () => state.apply(op));
        await typedCall(`value(${kinds[k]})`, () => state.value());
        await check.afterCase();
      }),
      { seed: 0x16d1, numRuns: RUNS },
    );
    for (const s of states) await s.drop();
    await check.finish();
  });

  it("logical-type literals: any text, of any length, typed", async () => {
    const number = fc.oneof(
      fc.double({ noNaN: false }).map(String),
      fc.stringMatching(/^[-+]?[0-9]{0,400}(\.[0-9]{0,400})?(e[-+]?[0-9]{1,6})?$/),
    );
    const wkt = fc
      .tuple(
        fc.constantFrom("POINT(", "point (", "POINT (", "POINT", ""),
        number,
        fc.constantFrom(" ", "", "  "),
        number,
        fc.constantFrom(")", "", " )"),
      )
      .map((parts) => parts.join(""));
    const uuid = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => `{${u.toUpperCase()}}`),
    );
    const long = fc
      .tuple(
        fc.constantFrom("POINT(", "{", ""),
        fc.integer({ min: 1, max: 64 * 1024 }),
        fc.constantFrom("1", "0", " ", "é", "\u{1F600}"),
      )
      .map(([prefix, n, c]) => prefix + c.repeat(n));
    const literal = fc.oneof(wkt, uuid, fc.string(), fc.string({ unit: "grapheme" }), long, fc.constant(null));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("geo.point", "uuid"),
        fc.array(literal, { maxLength: 8 }),
        async (name, literals) => {
          const type = host.logicalType(name);
          const parsed = await typedCall(`fromLiteral(${name})`, () => type.fromLiteral(literals));
          if (parsed.ok) {
            const shown = await typedCall(`toDisplay(${name})`, () => type.toDisplay(parsed.value));
            if (!shown.ok) throw new Violation(`toDisplay refused what fromLiteral produced: ${shown.error.message}`);
          }
          await check.afterCase();
        },
      ),
      { seed: 0x16d2, numRuns: RUNS },
    );
    await check.finish();
  });

  it("CDC batches: any bytes and commit times published, typed, and no stream left jammed", async () => {
    const changelog = handles.get("changelog-v1") as PluginHandle;
    const changelogBytes = await loadPlugin("changelog-v1");
    const bases = [tableToIPC(mutationTable(4), "stream"), tableToIPC(vectorSource(), "stream")];
    let n = 0;
    let recovered = 0;
    const options = fc.record(
      {
        fromLsn: fc.oneof(fc.bigInt({ min: 0n, max: 1n << 64n }), fc.bigInt({ min: -10n, max: 10n })),
        checkpointEvery: fc.oneof(
          fc.integer({ min: -2, max: 20 }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 0.5),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        options,
        fc.array(
          fc.tuple(
            fc.oneof(
              bytesFrom(bases).map(({ base, m }) => mutate(base, m)),
              fc.integer({ min: 0, max: 9 }).map(mutationTable),
            ),
            fc.option(
              fc.oneof(fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }), fc.bigInt({ min: 0n, max: 1n << 53n })),
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (opts, batches) => {
          const name = `fuzz-cdc-${n++}`;
          const attached = await typedCall("attachCdc(options)", () => host.attachCdc(name, "changelog", opts));
          if (!attached.ok) return;
          const stream = attached.value;
          for (const [mutations, micros] of batches) {
            await typedCall("publish(batch)", () => stream.publish(mutations, micros ?? undefined));
          }
          // Not jammed: a good batch goes through now, or after a reload of the plugin.
          let good = await typedCall("publish(good batch)", () => stream.publish(mutationTable(2), 1n));
          if (!good.ok) {
            await typedCall("reload(to recover)", () => host.reload(changelog, changelogBytes, { force: true }));
            recovered++;
            good = await typedCall("publish(good batch after reload)", () => stream.publish(mutationTable(2), 1n));
            if (!good.ok) {
              throw new Violation(
                `stream ${name} is jammed: neither publish nor reload recovers it (${good.error.message})`,
              );
            }
          }
          await stream.drop();
          await check.afterCase();
        },
      ),
      { seed: 0x16d3, numRuns: RUNS },
    );
    await check.finish();
    expect(recovered).to.be.at.most(RUNS);
  });
});
