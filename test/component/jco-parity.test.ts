// Node-only: the host's own canonical-ABI code must agree with jco's transpiled
// glue (an independent implementation of the same ABI) on every surface, byte
// for byte: results, fn-errors, resources, u64 LSNs, strings and lists.
import { encode } from "@msgpack/msgpack";
import { FixedSizeList, Field, Float32, makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toIPC } from "../../src/arrow.ts";
import { type CdcSink, ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import type { PluginError } from "../../src/errors.ts";
import { loadFixture, loadPlugin } from "../support/fixtures.ts";
import { instantiateComponent } from "../plugins/support/transpile.ts";

const fixturePath = (name: string) => new URL(`../fixtures/wasm/${name}.wasm`, import.meta.url).pathname;

async function ours(bytes: Uint8Array, grants: string[] = [], cdcSink?: CdcSink) {
  const module = await ComponentModule.compile(bytes);
  return ComponentInstance.instantiate(module, {
    pluginId: "parity",
    grants: new Set(grants),
    log: () => {},
    ...(cdcSink ? { cdcSink } : {}),
  });
}

/** `{code, message, retryable}` of whichever error a call threw (ours: PluginCallError; jco: ComponentError.payload). */
function errorOf(call: () => unknown): { code: number; message: string; retryable: boolean } {
  try {
    call();
  } catch (err) {
    const e = ((err as { payload?: unknown }).payload ?? err) as PluginError;
    return { code: e.code, message: e.message, retryable: e.retryable };
  }
  throw new Error("expected a fn-error");
}

/** A call's value, or its fn-error: for calls that may legitimately fail either way. */
function outcome(call: () => unknown): unknown {
  try {
    return { value: call() };
  } catch (err) {
    return {
      error: errorOf(() => {
        throw err;
      }),
    };
  }
}

const hostLog = { "uni:plugin/host-log": { log: () => {} } };

// ------------------------------------------------------------------ index

interface JcoIndexHandle {
  probe(q: Uint8Array, k: number): Uint8Array;
  supportsFilter(): boolean;
  probeFiltered(q: Uint8Array, k: number, mask: Uint8Array): Uint8Array;
  persist(): Uint8Array;
  schema(): Uint8Array;
}
interface JcoIndex {
  manifest(): string;
  index: {
    kinds(): string[];
    build(kind: string, s: Uint8Array, o: string): JcoIndexHandle;
    open(kind: string, p: Uint8Array): JcoIndexHandle;
  };
}

const vectors = (rows: number[][]) =>
  vectorFromArray(rows, new FixedSizeList(rows[0]?.length ?? 1, new Field("item", new Float32(), false)));

describe("parity with jco: index (vector-flat-v1)", () => {
  it("same kinds, probes, filtered probes, persisted bytes, schema and fn-errors", async () => {
    const mine = await ours(await loadPlugin("vector-flat-v1"));
    const theirs = await instantiateComponent<JcoIndex>("vector-flat-v1.wasm", hostLog);
    expect(mine.manifest()).to.equal(theirs.manifest());
    const index = mine.index as NonNullable<typeof mine.index>;
    expect(index.kinds()).to.deep.equal(theirs.index.kinds());

    const rows = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 3), i % 7]);
    const source = toIPC(
      new Table({ id: makeVector(BigInt64Array.from(rows.map((_, i) => BigInt(i * 3)))), vector: vectors(rows) }),
    );
    const query = toIPC(
      new Table({
        vector: vectors([
          [0.1, 0.2, 3],
          [1, 1, 1],
        ]),
      }),
    );
    for (const options of ["{}", '{"metric":"cosine"}']) {
      const a = index.build("vector.flat", source, options);
      const b = theirs.index.build("vector.flat", source, options);
      expect(a.probe(query, 5)).to.deep.equal(b.probe(query, 5));
      expect(a.supportsFilter()).to.equal(b.supportsFilter());
      const mask = Uint8Array.from([0b10101010, 0xff, 0, 0x0f, 1, 2, 3, 4]);
      expect(a.probeFiltered(query, 3, mask)).to.deep.equal(b.probeFiltered(query, 3, mask));
      expect(a.persist()).to.deep.equal(b.persist());
      expect(a.schema()).to.deep.equal(b.schema());
      expect(index.open("vector.flat", b.persist()).probe(query, 4)).to.deep.equal(
        theirs.index.open("vector.flat", a.persist()).probe(query, 4),
      );
      const badQuery = toIPC(new Table({ vector: vectors([[1, 2]]) }));
      expect(errorOf(() => a.probe(badQuery, 1))).to.deep.equal(errorOf(() => b.probe(badQuery, 1)));
    }
    expect(errorOf(() => index.build("vector.flat", source, '{"nope":1}'))).to.deep.equal(
      errorOf(() => theirs.index.build("vector.flat", source, '{"nope":1}')),
    );
    expect(errorOf(() => index.open("vector.flat", Uint8Array.of(1, 2)))).to.deep.equal(
      errorOf(() => theirs.index.open("vector.flat", Uint8Array.of(1, 2))),
    );
  });
});

// ------------------------------------------------------------------ crdt

interface JcoCrdtState {
  apply(op: Uint8Array): void;
  merge(other: Uint8Array): void;
  value(): Uint8Array;
  persist(): Uint8Array;
}
interface JcoCrdt {
  crdt: {
    kinds(): string[];
    empty(kind: string): JcoCrdtState;
    fromPersisted(kind: string, p: Uint8Array): JcoCrdtState;
  };
}

describe("parity with jco: crdt (crdt-v1)", () => {
  it("same values, persisted bytes and fn-errors for random op sequences", async () => {
    const mine = await ours(await loadPlugin("crdt-v1"));
    const crdt = mine.crdt as NonNullable<typeof mine.crdt>;
    const theirs = await instantiateComponent<JcoCrdt>("crdt-v1.wasm", hostLog);
    expect(crdt.kinds()).to.deep.equal(theirs.crdt.kinds());
    const replica = fc.constantFrom("a", "b", "ß", "");
    const op = fc.oneof(
      fc.tuple(replica, fc.integer({ min: 1, max: 1000 })),
      fc.tuple(replica, fc.integer({ min: -5, max: 5 })), // zero is invalid: both must refuse alike
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 10 }), fc.constantFrom("g-counter", "pn-counter"), (ops, kind) => {
        const a = crdt.empty(kind);
        const b = theirs.crdt.empty(kind);
        for (const o of ops) {
          const bytes = encode(o);
          let errA: unknown;
          let errB: unknown;
          try {
            a.apply(bytes);
          } catch (e) {
            errA = errorOf(() => {
              throw e;
            });
          }
          try {
            b.apply(bytes);
          } catch (e) {
            errB = errorOf(() => {
              throw e;
            });
          }
          expect(errA).to.deep.equal(errB);
        }
        expect(a.value()).to.deep.equal(b.value());
        expect(a.persist()).to.deep.equal(b.persist());
        a.merge(b.persist());
        b.merge(a.persist());
        expect(a.persist()).to.deep.equal(b.persist());
        a.drop();
      }),
      { numRuns: 40 },
    );
  });
});

// ------------------------------------------------------------------ logical-type

interface JcoTypes {
  logicalType: {
    names(): string[];
    arrowType(n: string): string;
    encodingVersion(n: string): string;
    fromLiteral(n: string, c: Uint8Array): Uint8Array;
    toDisplay(n: string, c: Uint8Array): Uint8Array;
    castTo(n: string, c: Uint8Array, t: string): Uint8Array;
    castFrom(n: string, c: Uint8Array): Uint8Array;
  };
}

describe("parity with jco: logical-type (types-v1)", () => {
  it("same strings, columns and fn-errors", async () => {
    const mine = await ours(await loadPlugin("types-v1"));
    const lt = mine.logicalType as NonNullable<typeof mine.logicalType>;
    const theirs = (await instantiateComponent<JcoTypes>("types-v1.wasm", hostLog)).logicalType;
    expect(lt.names()).to.deep.equal(theirs.names());
    const utf8 = (values: string[]) => toIPC(new Table({ v: vectorFromArray(values, new Utf8()) }));
    for (const name of lt.names()) {
      expect(lt.arrowType(name)).to.equal(theirs.arrowType(name));
      expect(lt.encodingVersion(name)).to.equal(theirs.encodingVersion(name));
    }
    const points = utf8(["POINT(1 2)", "POINT(-0.5 10.25)"]);
    const storage = lt.fromLiteral("geo.point", points);
    expect(storage).to.deep.equal(theirs.fromLiteral("geo.point", points));
    expect(lt.toDisplay("geo.point", storage)).to.deep.equal(theirs.toDisplay("geo.point", storage));
    expect(lt.castTo("geo.point", storage, "Utf8")).to.deep.equal(theirs.castTo("geo.point", storage, "Utf8"));
    expect(lt.castFrom("geo.point", points)).to.deep.equal(theirs.castFrom("geo.point", points));
    const ids = utf8(["00112233-4455-6677-8899-aabbccddeeff"]);
    expect(lt.fromLiteral("uuid", ids)).to.deep.equal(theirs.fromLiteral("uuid", ids));
    for (const call of [
      (t: typeof theirs) => t.fromLiteral("geo.point", utf8(["nope"])),
      (t: typeof theirs) => t.arrowType("ünknown"),
      (t: typeof theirs) => t.castTo("uuid", ids, "Int8"),
    ]) {
      expect(errorOf(() => call(lt as unknown as typeof theirs))).to.deep.equal(errorOf(() => call(theirs)));
    }
  });
});

// ------------------------------------------------------------------ cdc

interface JcoStream {
  deliver(b: { lsnStart: bigint; lsnEnd: bigint; mutations: Uint8Array; commitMicros: bigint }): void;
  checkpoint(): bigint;
  shutdown(): void;
}
interface JcoCdc {
  cdc: { outputs(): string[]; start(output: string, from?: bigint): JcoStream };
}

describe("parity with jco: cdc (cdc-emit fixture, changelog-v1)", () => {
  for (const [label, load, file] of [
    ["cdc-emit", () => loadFixture("cdc-emit"), fixturePath("cdc-emit")],
    ["changelog-v1", () => loadPlugin("changelog-v1"), "changelog-v1.wasm"],
  ] as const) {
    it(`${label}: same emits, checkpoints (u64 above 2^63 included) and fn-errors`, async () => {
      const emittedA: unknown[] = [];
      const emittedB: unknown[] = [];
      const mine = await ours(await load(), ["cdc-sink"], (o: string, s: bigint, e: bigint, p: Uint8Array) =>
        emittedA.push([o, s, e, [...p]]),
      );
      const theirs = await instantiateComponent<JcoCdc>(file, {
        ...hostLog,
        "uni:plugin/cdc-sink": {
          emit: (o: string, s: bigint, e: bigint, p: Uint8Array) => void emittedB.push([o, s, e, [...p]]),
        },
      });
      const cdc = mine.cdc as NonNullable<typeof mine.cdc>;
      expect(cdc.outputs()).to.deep.equal(theirs.cdc.outputs());
      const from = (1n << 63n) + 5n;
      const a = cdc.start("changelog", from);
      const b = theirs.cdc.start("changelog", from);
      const mutations = toIPC(new Table({ k: makeVector(Int32Array.of(1, 2, 3)) }));
      for (const [s, e] of [
        [from, from + 3n],
        [from + 3n, from + 4n],
      ]) {
        const batch = { lsnStart: s, lsnEnd: e, mutations, commitMicros: -42n };
        a.deliver(batch);
        b.deliver(batch);
        expect(a.checkpoint()).to.equal(b.checkpoint());
      }
      const gap = { lsnStart: from + 100n, lsnEnd: from + 101n, mutations, commitMicros: 0n };
      expect(errorOf(() => a.deliver(gap))).to.deep.equal(errorOf(() => b.deliver(gap)));
      a.shutdown();
      b.shutdown();
      expect(outcome(() => a.checkpoint())).to.deep.equal(outcome(() => b.checkpoint()));
      expect(emittedA).to.deep.equal(emittedB);
      expect(errorOf(() => cdc.start("nope"))).to.deep.equal(errorOf(() => theirs.cdc.start("nope")));
    });
  }
});
