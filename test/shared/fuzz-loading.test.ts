// Seeded property-based fuzzing (fast-check) of what a host loads: component bytes, manifests, persisted
// bytes. For each: every outcome is a value or a typed PluginError (rejected, never thrown synchronously), no
// call takes a second, and the known-good workload on the same host keeps giving its first results.
// FUZZ_RUNS=10000 (npm run fuzz) runs 10,000 cases per boundary; the suite runs a few hundred.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "#test";
import { ErrorCode, type PluginHandle, type PluginHost, parseManifest } from "../../src/mod.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { anyValue, bytesFrom, mutations } from "./fuzz-arbitraries.ts";
import { fuzzRuns, mutate, sampleHost, typedCall, vectors, vectorSource, WorkloadCheck } from "./fuzz-util.ts";
import { Table } from "apache-arrow";

const RUNS = fuzzRuns();

describe("fuzz: loading", () => {
  let host: PluginHost;
  let handles: Map<string, PluginHandle>;
  let check: WorkloadCheck;
  let components: Uint8Array[];
  let twin: Uint8Array;
  beforeAll(async () => {
    ({ host, handles } = await sampleHost());
    check = new WorkloadCheck(host, RUNS);
    await check.start();
    components = [
      await loadFixture("host-echo-twin"),
      await loadFixture("index-echo"),
      await loadFixture("cdc-emit"),
      await loadPlugin("changelog-v1"),
    ];
    twin = await loadFixture("host-echo-twin");
  });
  afterAll(() => host.dispose());

  /** Loads `bytes`; unloads what loads, so the next case starts from the same registry. */
  async function loadCase(what: string, bytes: Uint8Array): Promise<void> {
    const loaded = await typedCall(what, () => host.load(bytes), { traps: true });
    if (loaded.ok) await host.unload(loaded.value, { force: true });
    await check.afterCase();
  }

  it("component bytes: mutated and random components load or are refused, typed", async () => {
    await fc.assert(
      fc.asyncProperty(bytesFrom(components, 8192), async ({ base, m }) => {
        await loadCase("load(component bytes)", mutate(base, m));
      }),
      { seed: 0x16c0, numRuns: RUNS },
    );
    await check.finish();
  });

  it("manifest: parseManifest takes any text, typed", async () => {
    const text = fc.oneof(fc.string(), fc.json(), anyValue.map(json), manifestLike.map(json));
    await fc.assert(
      fc.asyncProperty(text, async (json) => {
        const parsed = await typedCall("parseManifest", () => parseManifest(json), { async: false });
        if (!parsed.ok) expect(parsed.error.code).to.equal(ErrorCode.InvalidManifest);
      }),
      { seed: 0x16c1, numRuns: RUNS },
    );
  });

  it("manifest: components carrying any manifest load or are refused, typed", async () => {
    // host-echo-twin keeps its manifest NUL-terminated in a data segment: overwrite it in place.
    const original = new TextEncoder().encode('{"id":"test.fixture.host-echo-twin"');
    const at = indexOf(twin, original);
    expect(at).to.be.above(0);
    let room = 0;
    while (twin[at + room] !== 0) room++;
    const text = fc.oneof(manifestLike.map(json), fc.json(), fc.string({ maxLength: room }));
    await fc.assert(
      fc.asyncProperty(text, async (json) => {
        const bytes = twin.slice();
        const encoded = new TextEncoder().encode(json).subarray(0, room);
        bytes.fill(0, at, at + room);
        bytes.set(encoded, at);
        await loadCase("load(component with a fuzzed manifest)", bytes);
      }),
      { seed: 0x16c2, numRuns: RUNS },
    );
    await check.finish();
  });

  it("persisted bytes: indexes and CRDT states reopen from any bytes, typed", async () => {
    const index = await host.createIndex("fuzz-source", "vector.flat", vectorSource());
    const indexBytes = await index.persist();
    await index.drop();
    const kinds = ["g-counter", "pn-counter", "lww-register", "or-set"] as const;
    const ops: Record<(typeof kinds)[number], unknown[]> = {
      "g-counter": [
        ["a", 3],
        ["b", 4],
      ],
      "pn-counter": [
        ["a", 3],
        ["b", -4],
      ],
      "lww-register": [
        ["a", 5, "x"],
        ["b", 7, "y"],
      ],
      "or-set": [
        ["add", "a", "x"],
        ["add", "b", "y"],
        ["remove", "a", "x"],
      ],
    };
    const states = new Map<string, Uint8Array>();
    for (const kind of kinds) {
      const crdt = await host.createCrdt(`fuzz-${kind}`, kind);
      for (const op of ops[kind]) await crdt.apply(op).catch(() => {});
      states.set(kind, await crdt.persist());
      await crdt.drop();
    }
    const live = await host.createCrdt("fuzz-merge-target", "pn-counter");
    let n = 0;
    const query = new Table({ vector: vectors(Float32Array.of(0.1, 0.2, 0.3, 0.4), 4) });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("vector.flat", ...kinds),
        fc.boolean(),
        mutations,
        fc.uint8Array({ maxLength: 512 }),
        async (kind, random, m, noise) => {
          const name = `fuzz-persisted-${n++}`;
          if (kind === "vector.flat") {
            const bytes = random ? noise : mutate(indexBytes, m);
            const opened = await typedCall("openIndex(persisted)", () => host.openIndex(name, kind, bytes));
            if (opened.ok) {
              await typedCall("probe(reopened index)", () => opened.value.probe(query, 3));
              await opened.value.drop();
            }
          } else {
            const bytes = random ? noise : mutate(states.get(kind) as Uint8Array, m);
            const created = await typedCall("createCrdt(persisted)", () => host.createCrdt(name, kind, bytes));
            if (created.ok) {
              await typedCall("value(reopened state)", () => created.value.value());
              await created.value.drop();
            }
            await typedCall("merge(persisted)", () => live.merge(bytes));
          }
          await check.afterCase();
        },
      ),
      { seed: 0x16c3, numRuns: RUNS },
    );
    await live.drop();
    await check.finish();
    expect(handles.size).to.equal(4);
  });
});

/** Manifest-shaped objects: the right keys with values that are sometimes wrong. */
const manifestLike = fc.record(
  {
    id: fc.oneof(fc.constantFrom("test.fuzz.plugin", "dev.uni.crdt", "", "a", "x".repeat(300)), fc.string()),
    version: fc.oneof(fc.constantFrom("1.0.0", "1.0", "99999999999999999999.0.0", "1.0.0-rc.1+b"), fc.string()),
    abi: fc.oneof(fc.constantFrom("^1.0", "^2.0", "*", ">=1 <2"), fc.string()),
    capabilities: fc.oneof(
      fc.array(fc.constantFrom("index", "cdc", "crdt", "logical-type", "cdc-sink", "host-log", "net")),
      anyValue,
    ),
    provides: fc.oneof(
      fc.record({ index_kinds: fc.array(fc.constantFrom("twin", "echo", "", "vector.flat")) }, { requiredKeys: [] }),
      anyValue,
    ),
    determinism: fc.constantFrom("pure", "impure", 3),
  },
  { requiredKeys: [] },
);

/** JSON text of any value (what cannot be serialised becomes a truncated object). */
function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return "{";
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
