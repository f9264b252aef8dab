// The AssemblyScript max-register sample (plugins-wasm/dist/max-register-v1.wasm, source in
// plugins-wasm/assemblyscript/max-register/) against the real component: its manifest is max-register-v1.manifest.json, values
// against an independent model, the CRDT laws, its persisted format, and bad input that is an fn-error, never a
// trap. Last, the real PluginHost loads it next to dev.uni.crdt (a new id and a new kind: no collision).
import { readFileSync } from "node:fs";
import { decode, encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { PluginCallError, PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";
import { beforeAll, describe, expect, it } from "#test";
import {
  type CrdtPlugin,
  type CrdtState,
  FnError,
  call,
  coreInterface,
  fnErrorOf,
  instantiateAs,
} from "./support/as-components.ts";

const KIND = "max-register";
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const manifestJson = JSON.parse(
  readFileSync(
    new URL("../../plugins-wasm/assemblyscript/max-register/max-register-v1.manifest.json", import.meta.url),
    "utf8",
  ),
);

let plugin: CrdtPlugin;
let crdtV1: CrdtPlugin;
let crdtV2: CrdtPlugin;

beforeAll(async () => {
  plugin = await instantiateAs<CrdtPlugin>("max-register-v1");
  crdtV1 = await instantiateAs<CrdtPlugin>("crdt-v1");
  crdtV2 = await instantiateAs<CrdtPlugin>("crdt-v2");
});

// Mostly small numbers (so ties and repeats are common), sometimes the i64 extremes.
const write = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -20, max: 20 }).map(BigInt) },
  { weight: 1, arbitrary: fc.bigInt({ min: I64_MIN, max: I64_MAX }) },
  { weight: 1, arbitrary: fc.constantFrom(I64_MIN, I64_MAX, 0n, -1n, 2n ** 32n) },
);
const writes = fc.array(write, { maxLength: 8 });
const params = { seed: 17, numRuns: 150 };

const encodeOp = (n: bigint) => encode(n, { useBigInt64: true });
function stateOf(ws: bigint[]): CrdtState {
  const s = call(() => plugin.crdt.empty(KIND));
  for (const n of ws) call(() => s.apply(encodeOp(n)));
  return s;
}
const persisted = (ws: bigint[]) => call(() => stateOf(ws).persist());
/** The value as a bigint (or null before any write): small values decode as numbers. */
function valueIn(s: CrdtState): bigint | null {
  const v = decode(
    call(() => s.value()),
    { useBigInt64: true },
  ) as number | bigint | null;
  return v === null ? null : BigInt(v);
}
function maxOf(ws: bigint[]): bigint | null {
  let max: bigint | null = null;
  for (const n of ws) if (max === null || n > max) max = n;
  return max;
}

describe("max-register component: surface", () => {
  it("provides exactly the max-register kind, and its manifest is max-register-v1.manifest.json", () => {
    expect(plugin.crdt.kinds()).to.deep.equal([KIND]);
    expect(JSON.parse(plugin.manifest())).to.deep.equal(manifestJson);
    expect(manifestJson.id).to.equal("dev.uni.max-register");
    expect(manifestJson.provides.crdt_kinds).to.deep.equal([KIND]);
  });

  it("core module imports and exports only what docs/abi.md lists for the crdt-plugin world", async () => {
    const { imports, exports } = await coreInterface("max-register-v1");
    const allowed = ["uni:plugin/host-log@1.0.0 log", "[export]uni:plugin/crdt@1.0.0 [resource-new]crdt-state"];
    for (const i of imports) expect(allowed).to.include(i);
    expect(exports).to.include("uni:plugin/crdt@1.0.0#[method]crdt-state.merge");
    expect(
      exports.filter((e) => !e.startsWith("uni:plugin/crdt@1.0.0#") && !e.startsWith("cabi_post_")),
    ).to.have.members(["memory", "cabi_realloc", "manifest"]);
  });

  it("other kinds are refused with the SDK's unknown-kind error", () => {
    const err = fnErrorOf(() => plugin.crdt.empty("pn-counter"));
    expect(err.code).to.equal(0x100);
    expect(err.message).to.contain("pn-counter").and.to.contain(KIND);
  });
});

describe("max-register: values against an independent model", () => {
  it("is nil before any write, then the greatest integer written, across the whole i64 range", () => {
    fc.assert(
      fc.property(writes, (ws) => {
        expect(valueIn(stateOf(ws))).to.equal(maxOf(ws));
      }),
      params,
    );
  });
});

describe("max-register: CRDT laws", () => {
  it("merge is commutative (values and persisted bytes)", () => {
    fc.assert(
      fc.property(writes, writes, (a, b) => {
        const ab = stateOf(a);
        call(() => ab.merge(persisted(b)));
        const ba = stateOf(b);
        call(() => ba.merge(persisted(a)));
        expect(valueIn(ab)).to.equal(valueIn(ba));
        expect(call(() => ab.persist())).to.deep.equal(call(() => ba.persist()));
      }),
      params,
    );
  });

  it("merge is associative", () => {
    fc.assert(
      fc.property(writes, writes, writes, (a, b, c) => {
        const left = stateOf(a);
        call(() => left.merge(persisted(b)));
        call(() => left.merge(persisted(c)));
        const bc = stateOf(b);
        call(() => bc.merge(persisted(c)));
        const right = stateOf(a);
        call(() => right.merge(call(() => bc.persist())));
        expect(call(() => left.persist())).to.deep.equal(call(() => right.persist()));
        expect(valueIn(left)).to.equal(maxOf([...a, ...b, ...c]));
      }),
      params,
    );
  });

  it("merge is idempotent", () => {
    fc.assert(
      fc.property(writes, (a) => {
        const s = stateOf(a);
        const before = call(() => s.persist());
        call(() => s.merge(before));
        call(() => s.merge(before));
        expect(call(() => s.persist())).to.deep.equal(before);
      }),
      params,
    );
  });

  it("applying a write equals merging the state that holds only that write", () => {
    fc.assert(
      fc.property(writes, write, (a, n) => {
        const applied = stateOf(a);
        call(() => applied.apply(encodeOp(n)));
        const merged = stateOf(a);
        call(() => merged.merge(persisted([n])));
        expect(call(() => applied.persist())).to.deep.equal(call(() => merged.persist()));
      }),
      params,
    );
  });

  it("persist then from-persisted is an equal state, and equal values persist to equal bytes", () => {
    fc.assert(
      fc.property(writes, (a) => {
        const bytes = persisted(a);
        const reopened = call(() => plugin.crdt.fromPersisted(KIND, bytes));
        expect(call(() => reopened.persist())).to.deep.equal(bytes);
        expect(valueIn(reopened)).to.equal(maxOf(a));
        // Another history with the same greatest write persists to the same bytes.
        expect(persisted([...a].reverse())).to.deep.equal(bytes);
      }),
      params,
    );
  });
});

describe("max-register: persisted format 1", () => {
  it("is self-describing MessagePack naming format, kind and the greatest write", () => {
    expect(decode(persisted([]))).to.deep.equal({ format: 1, kind: KIND, max: null });
    expect(decode(persisted([3n, -9n, 7n, 5n]))).to.deep.equal({ format: 1, kind: KIND, max: 7 });
    expect(decode(persisted([I64_MIN]), { useBigInt64: true })).to.deep.equal({ format: 1, kind: KIND, max: I64_MIN });
  });

  it("reads another key order, but writes one canonical order", () => {
    const bytes = encode({ max: 12, kind: KIND, format: 1 });
    const s = call(() => plugin.crdt.fromPersisted(KIND, bytes));
    expect(valueIn(s)).to.equal(12n);
    expect(call(() => s.persist())).to.deep.equal(persisted([12n]));
  });

  it("another kind's state is refused naming both kinds; another format names the format", () => {
    const counter = (p: CrdtPlugin) =>
      call(() => {
        const c = p.crdt.empty("pn-counter");
        c.apply(encode(["a", 3]));
        return c.persist();
      });
    // dev.uni.crdt v1 writes {format: 1, kind, state}: the same format number, another kind.
    const wrongKind = fnErrorOf(() => plugin.crdt.fromPersisted(KIND, counter(crdtV1)));
    expect(wrongKind.code).to.equal(0x102);
    expect(wrongKind.message).to.contain('"pn-counter"').and.to.contain(`"${KIND}"`);
    // dev.uni.crdt v2's binary format.
    const binary = fnErrorOf(() => plugin.crdt.fromPersisted(KIND, counter(crdtV2)));
    expect(binary.code).to.equal(0x103);
    expect(binary.message).to.contain("format 1");
    const later = fnErrorOf(() => plugin.crdt.fromPersisted(KIND, encode({ format: 2, kind: KIND, max: 1 })));
    expect(later.code).to.equal(0x103);
    expect(later.message).to.contain("format 2");
  });
});

describe("max-register: bad input is an fn-error that changes nothing, never a trap", () => {
  it("ops that are not an i64 integer are refused with 0x101 saying what was expected", () => {
    const s = stateOf([4n]);
    for (const op of [
      encode("7"),
      encode(1.5),
      encode([7]),
      encode(null),
      encode(2n ** 64n - 1n, { useBigInt64: true }),
    ]) {
      const err = fnErrorOf(() => s.apply(op));
      expect(err.code, String(op)).to.equal(0x101);
      expect(err.message).to.contain("integer in the i64 range");
    }
    expect(fnErrorOf(() => s.apply(new Uint8Array([]))).code).to.equal(2);
    expect(fnErrorOf(() => s.apply(new Uint8Array([0xc1]))).code).to.equal(2);
    expect(fnErrorOf(() => s.apply(new Uint8Array([0x05, 0x06]))).message).to.contain("trailing");
    expect(valueIn(s)).to.equal(4n);
  });

  it("persisted bytes of the wrong shape are code 2", () => {
    const shapes = [
      encode([1, KIND, 3]),
      encode({ format: 1, kind: KIND }),
      encode({ format: 1, kind: KIND, max: "3" }),
      encode({ format: 1, kind: KIND, max: 3, extra: true }),
      encode({ format: "1", kind: KIND, max: 3 }),
      encode({ format: 1, kind: 7, max: 3 }),
    ];
    for (const bytes of shapes) expect(fnErrorOf(() => plugin.crdt.fromPersisted(KIND, bytes)).code).to.equal(2);
  });

  it("truncated, bit-flipped and random bytes never trap, and a failed merge leaves the state as it was", () => {
    fc.assert(
      fc.property(writes, writes, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 40 }), (a, b, cut, flip, random) => {
        const base = persisted(a);
        const truncated = base.subarray(0, cut % (base.length + 1));
        const flipped = base.slice();
        if (flipped.length) flipped[flip % flipped.length] ^= 1 << (flip % 8);
        for (const bytes of [truncated, flipped, random]) {
          const s = stateOf(b);
          for (const attempt of [() => s.merge(bytes), () => s.apply(bytes)]) {
            const before = call(() => s.persist());
            try {
              call(attempt);
            } catch (err) {
              expect(err).to.be.instanceOf(FnError);
              expect(call(() => s.persist())).to.deep.equal(before);
            }
          }
          try {
            call(() => plugin.crdt.fromPersisted(KIND, bytes));
          } catch (err) {
            expect(err).to.be.instanceOf(FnError);
          }
        }
        // and the instance still works afterwards
        expect(valueIn(stateOf([1n, 2n]))).to.equal(2n);
      }),
      { seed: 23, numRuns: 100 },
    );
  });
});

describe("max-register through PluginHost", () => {
  it("loads next to dev.uni.crdt (a new id, a new kind), merges replicas and survives persist/open", async () => {
    const host = new PluginHost();
    try {
      await host.load(await loadPlugin("crdt-v1"));
      const handle = await host.load(await loadPlugin("max-register-v1"));
      expect([handle.id, handle.version]).to.deep.equal(["dev.uni.max-register", "1.0.0"]);
      expect(host.provider("crdt", KIND)?.id).to.equal("dev.uni.max-register");
      expect(host.provider("crdt", "pn-counter")?.id).to.equal("dev.uni.crdt");

      const a = await host.createCrdt("score/a", KIND);
      const b = await host.createCrdt("score/b", KIND);
      expect(await a.value()).to.equal(null);
      for (const n of [5, 3]) await a.apply(n);
      await b.apply(9);
      await b.apply(-2);
      expect([await a.value(), await b.value()]).to.deep.equal([5, 9]);
      const bytesOfA = await a.persist();
      await a.merge(b);
      await b.merge(bytesOfA);
      expect([await a.value(), await b.value()]).to.deep.equal([9, 9]);

      const reopened = await host.createCrdt("score/c", KIND, await a.persist());
      expect(await reopened.value()).to.equal(9);
      const refused = await a.apply("ten").then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(PluginCallError);
      expect((refused as PluginCallError).code).to.equal(0x101);
      expect(await a.value()).to.equal(9);
    } finally {
      host.dispose();
    }
  });
});
