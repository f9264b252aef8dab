// Property tests of the AssemblyScript CRDT sample (plugins-wasm/dist/crdt-*.wasm)
// against the real components: CRDT laws, op/merge equivalence, cross-version
// persisted states, and malformed input that must be an fn-error, never a trap.
import { decode, encode } from "@msgpack/msgpack";
import fc from "fast-check";
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

let v1: CrdtPlugin;
let v2: CrdtPlugin;
let v2x: CrdtPlugin;

beforeAll(async () => {
  v1 = await instantiateAs<CrdtPlugin>("crdt-v1");
  v2 = await instantiateAs<CrdtPlugin>("crdt-v2");
  v2x = await instantiateAs<CrdtPlugin>("crdt-v2-incompatible");
});

const replica = fc.constantFrom("a", "b", "c", "ré", "z\u{1F600}");
const element = fc.constantFrom("x", "y", "Z", "é", "\u{1F600}", "");
const tag = fc.constantFrom("t1", "t2", "t3", "t4");
const anyValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 5 }),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
);

type Op = unknown[];
const opsByKind: Record<string, fc.Arbitrary<Op>> = {
  "g-counter": fc.tuple(replica, fc.integer({ min: 1, max: 1000 })),
  "pn-counter": fc.tuple(
    replica,
    fc.integer({ min: -1000, max: 1000 }).filter((d) => d !== 0),
  ),
  // small timestamps so that ties (broken by replica, then value bytes) are common
  "lww-register": fc.tuple(fc.integer({ min: 0, max: 3 }), replica, anyValue),
  "or-set": fc.oneof(
    fc.tuple(fc.constant("add"), element, tag),
    fc.tuple(fc.constant("remove"), element, fc.uniqueArray(tag, { maxLength: 3 })),
  ),
};
const kinds = Object.keys(opsByKind);

function stateOf(plugin: CrdtPlugin, kind: string, ops: Op[]): CrdtState {
  const s = call(() => plugin.crdt.empty(kind));
  for (const op of ops) call(() => s.apply(encode(op)));
  return s;
}
const persisted = (plugin: CrdtPlugin, kind: string, ops: Op[]) => call(() => stateOf(plugin, kind, ops).persist());
const valueIn = (s: CrdtState) => decode(call(() => s.value()));

describe("crdt components: surface", () => {
  it("list the four kinds and a manifest that provides exactly them", () => {
    for (const [plugin, version] of [
      [v1, "1.0.0"],
      [v2, "2.0.0"],
      [v2x, "2.0.0"],
    ] as const) {
      expect(plugin.crdt.kinds()).to.deep.equal(kinds);
      const m = JSON.parse(plugin.manifest());
      expect(m.id).to.equal("dev.uni.crdt");
      expect(m.version).to.equal(version);
      expect(m.capabilities).to.deep.equal(["crdt"]);
      expect(m.provides.crdt_kinds).to.deep.equal(kinds);
      expect([...m.provides.index_kinds, ...m.provides.cdc_outputs, ...m.provides.logical_types]).to.deep.equal([]);
    }
  });

  it("core module imports and exports only what docs/abi.md lists", async () => {
    const { imports, exports } = await coreInterface("crdt-v1");
    const allowed = ["uni:plugin/host-log@1.0.0 log", "[export]uni:plugin/crdt@1.0.0 [resource-new]crdt-state"];
    for (const i of imports) expect(allowed).to.include(i);
    expect(exports).to.include("uni:plugin/crdt@1.0.0#[dtor]crdt-state");
    expect(
      exports.filter((e) => !e.startsWith("uni:plugin/crdt@1.0.0#") && !e.startsWith("cabi_post_")),
    ).to.have.members(["memory", "cabi_realloc", "manifest"]);
  });

  it("unknown kinds are a plugin error naming the kind", () => {
    const err = fnErrorOf(() => v1.crdt.empty("mv-register"));
    expect(err.code).to.equal(0x100);
    expect(err.message).to.contain("mv-register");
  });
});

describe("crdt components: values against an independent model", () => {
  it("g-counter sums, pn-counter nets, or-set keeps live elements sorted by UTF-8, lww keeps the greatest tuple", () => {
    fc.assert(
      fc.property(fc.array(opsByKind["g-counter"], { maxLength: 12 }), (ops) => {
        const expected = ops.reduce((sum, op) => sum + (op[1] as number), 0);
        expect(valueIn(stateOf(v1, "g-counter", ops))).to.equal(expected);
      }),
    );
    fc.assert(
      fc.property(fc.array(opsByKind["pn-counter"], { maxLength: 12 }), (ops) => {
        const expected = ops.reduce((sum, op) => sum + (op[1] as number), 0);
        expect(valueIn(stateOf(v2, "pn-counter", ops))).to.equal(expected);
      }),
    );
    fc.assert(
      fc.property(fc.array(opsByKind["or-set"], { maxLength: 12 }), (ops) => {
        const adds = new Map<string, Set<string>>();
        const removed = new Set<string>();
        for (const [verb, el, arg] of ops as [string, string, string | string[]][]) {
          if (verb === "add") adds.set(el, (adds.get(el) ?? new Set()).add(arg as string));
          else for (const t of arg as string[]) removed.add(`${el}\u0000${t}`);
        }
        const live = [...adds].filter(([el, tags]) => [...tags].some((t) => !removed.has(`${el}\u0000${t}`)));
        const utf8 = new TextEncoder();
        const expected = live.map(([el]) => el).sort((x, y) => Buffer.compare(utf8.encode(x), utf8.encode(y)));
        expect(valueIn(stateOf(v1, "or-set", ops))).to.deep.equal(expected);
      }),
    );
    fc.assert(
      fc.property(fc.array(opsByKind["lww-register"], { maxLength: 8 }), (ops) => {
        const key = (op: Op) => [op[0] as number, Buffer.from(op[1] as string), Buffer.from(encode(op[2]))] as const;
        let best: Op | null = null;
        for (const op of ops) {
          if (!best) best = op;
          else {
            const [t1, r1, v1b] = key(op);
            const [t2, r2, v2b] = key(best);
            const c = t1 - t2 || Buffer.compare(r1, r2) || Buffer.compare(v1b, v2b);
            if (c > 0) best = op;
          }
        }
        expect(valueIn(stateOf(v1, "lww-register", ops))).to.deep.equal(best ? best[2] : null);
      }),
    );
  });
});

describe.each([
  ["v1", () => v1],
  ["v2", () => v2],
  ["v2-incompatible", () => v2x],
])("crdt %s: CRDT laws", (_name, plugin) => {
  for (const kind of kinds) {
    const ops = fc.array(opsByKind[kind], { maxLength: 8 });

    it(`${kind}: merge is commutative`, () => {
      fc.assert(
        fc.property(ops, ops, (a, b) => {
          const p = plugin();
          const ab = stateOf(p, kind, a);
          call(() => ab.merge(persisted(p, kind, b)));
          const ba = stateOf(p, kind, b);
          call(() => ba.merge(persisted(p, kind, a)));
          expect(valueIn(ab)).to.deep.equal(valueIn(ba));
          expect(call(() => ab.persist())).to.deep.equal(call(() => ba.persist()));
        }),
      );
    });

    it(`${kind}: merge is associative`, () => {
      fc.assert(
        fc.property(ops, ops, ops, (a, b, c) => {
          const p = plugin();
          const left = stateOf(p, kind, a);
          call(() => left.merge(persisted(p, kind, b)));
          call(() => left.merge(persisted(p, kind, c)));
          const bc = stateOf(p, kind, b);
          call(() => bc.merge(persisted(p, kind, c)));
          const right = stateOf(p, kind, a);
          call(() => right.merge(call(() => bc.persist())));
          expect(valueIn(left)).to.deep.equal(valueIn(right));
          expect(call(() => left.persist())).to.deep.equal(call(() => right.persist()));
        }),
      );
    });

    it(`${kind}: merge is idempotent`, () => {
      fc.assert(
        fc.property(ops, (a) => {
          const p = plugin();
          const s = stateOf(p, kind, a);
          const before = call(() => s.persist());
          call(() => s.merge(before));
          expect(call(() => s.persist())).to.deep.equal(before);
          expect(valueIn(s)).to.deep.equal(valueIn(stateOf(p, kind, a)));
        }),
      );
    });

    it(`${kind}: applying an op equals merging the state that holds only that op`, () => {
      fc.assert(
        fc.property(ops, opsByKind[kind], (a0, op) => {
          // A counter increment is not idempotent, so for counters the law
          // holds for a replica's first op only: a state-based counter's merge
          // takes the per-replica max. Registers and sets have it unrestricted.
          const a = kind.endsWith("counter") ? a0.filter((prior) => prior[0] !== op[0]) : a0;
          const p = plugin();
          const applied = stateOf(p, kind, a);
          call(() => applied.apply(encode(op)));
          const merged = stateOf(p, kind, a);
          call(() => merged.merge(persisted(p, kind, [op])));
          expect(call(() => applied.persist())).to.deep.equal(call(() => merged.persist()));
          expect(valueIn(applied)).to.deep.equal(valueIn(merged));
        }),
      );
    });

    it(`${kind}: persist then from-persisted is an equal state`, () => {
      fc.assert(
        fc.property(ops, (a) => {
          const p = plugin();
          const bytes = persisted(p, kind, a);
          const reopened = call(() => p.crdt.fromPersisted(kind, bytes));
          expect(call(() => reopened.persist())).to.deep.equal(bytes);
          expect(valueIn(reopened)).to.deep.equal(valueIn(stateOf(p, kind, a)));
        }),
      );
    });
  }
});

describe("crdt: persisted formats across versions", () => {
  it("v1 persists self-describing MessagePack naming kind and format", () => {
    const s = stateOf(v1, "g-counter", [["a", 2]]);
    expect(decode(call(() => s.persist()))).to.deep.equal({ format: 1, kind: "g-counter", state: { a: 2 } });
  });

  for (const kind of kinds) {
    const ops = fc.array(opsByKind[kind], { maxLength: 10 });
    it(`${kind}: v2 opens v1 bytes with the same value and merges v1 bytes like v1 does`, () => {
      fc.assert(
        fc.property(ops, ops, (a, b) => {
          const v1Bytes = persisted(v1, kind, a);
          const reopened = call(() => v2.crdt.fromPersisted(kind, v1Bytes));
          expect(valueIn(reopened)).to.deep.equal(valueIn(stateOf(v1, kind, a)));
          expect(call(() => reopened.persist())[0]).to.equal(0xc1); // rewritten in the binary format

          const onV2 = stateOf(v2, kind, b);
          call(() => onV2.merge(v1Bytes));
          const onV1 = stateOf(v1, kind, b);
          call(() => onV1.merge(v1Bytes));
          expect(valueIn(onV2)).to.deep.equal(valueIn(onV1));
        }),
      );
    });

    it(`${kind}: v2-incompatible refuses v1 bytes with a clear error`, () => {
      fc.assert(
        fc.property(ops, (a) => {
          const v1Bytes = persisted(v1, kind, a);
          const err = fnErrorOf(() => v2x.crdt.fromPersisted(kind, v1Bytes));
          expect(err.code).to.equal(0x103);
          expect(err.message).to.contain("format");
          const s = stateOf(v2x, kind, []);
          expect(fnErrorOf(() => s.merge(v1Bytes)).code).to.equal(0x103);
        }),
      );
    });
  }

  it("v2's format is more compact than v1's: replica ids are interned", () => {
    const ops: Op[] = [];
    for (let i = 0; i < 20; i++) ops.push([`replica-${i}`, 1000 + i], [`replica-${i}`, -7]);
    const a = persisted(v1, "pn-counter", ops);
    const b = persisted(v2, "pn-counter", ops);
    expect(b.length).to.be.lessThan(a.length * 0.75);
    expect(valueIn(call(() => v2.crdt.fromPersisted("pn-counter", b)))).to.equal(
      valueIn(call(() => v1.crdt.fromPersisted("pn-counter", a))),
    );
  });

  it("v1 cannot read v2 bytes and says so", () => {
    const err = fnErrorOf(() => v1.crdt.fromPersisted("g-counter", persisted(v2, "g-counter", [["a", 1]])));
    expect(err.code).to.equal(0x103);
    expect(err.message).to.contain("binary format 2");
  });
});

describe("crdt: malformed input is an fn-error, never a trap", () => {
  it("wrong kind's bytes name both kinds, and merge leaves the state unchanged", () => {
    for (const p of [v1, v2]) {
      const counter = persisted(p, "g-counter", [["a", 5]]);
      const err = fnErrorOf(() => p.crdt.fromPersisted("pn-counter", counter));
      expect(err.code).to.equal(0x102);
      expect(err.message).to.contain('"g-counter"').and.to.contain('"pn-counter"');

      const set = stateOf(p, "or-set", [["add", "x", "t1"]]);
      const before = call(() => set.persist());
      expect(fnErrorOf(() => set.merge(counter)).code).to.equal(0x102);
      expect(fnErrorOf(() => set.merge(new Uint8Array([0x93, 0x01]))).code).to.equal(2);
      expect(call(() => set.persist())).to.deep.equal(before);
    }
  });

  it("ops of the wrong shape are plugin errors that say what was expected", () => {
    const s = stateOf(v1, "g-counter", []);
    const err = fnErrorOf(() => s.apply(encode(["a", 0])));
    expect(err.code).to.equal(0x101);
    expect(err.message).to.contain("n: uint > 0");
    expect(fnErrorOf(() => s.apply(encode(["a", -1]))).code).to.equal(0x101);
    expect(fnErrorOf(() => stateOf(v1, "pn-counter", []).apply(encode(["a", 0]))).code).to.equal(0x101);
    expect(fnErrorOf(() => stateOf(v1, "or-set", []).apply(encode(["toggle", "x", "t"]))).message).to.contain("toggle");
    expect(fnErrorOf(() => s.apply(new Uint8Array([0xc1]))).code).to.equal(2);
    expect(fnErrorOf(() => s.apply(new Uint8Array([]))).code).to.equal(2);
    expect(fnErrorOf(() => s.apply(new Uint8Array([0xa2, 0xff, 0xfe]))).message).to.contain("UTF-8");
    expect(valueIn(s)).to.equal(0);
  });

  it("deeply nested and absurd-length MessagePack is refused without allocating", () => {
    const s = stateOf(v1, "lww-register", []);
    const deep = new Uint8Array(100_000).fill(0x91); // [[[[…
    expect(fnErrorOf(() => s.apply(deep)).code).to.equal(2);
    expect(fnErrorOf(() => s.apply(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).message).to.contain("truncated");
    expect(
      fnErrorOf(() => v1.crdt.fromPersisted("or-set", new Uint8Array([0xc6, 0x7f, 0xff, 0xff, 0xff]))).code,
    ).to.equal(2);
  });

  for (const [name, plugin] of [
    ["v1", () => v1],
    ["v2", () => v2],
    ["v2-incompatible", () => v2x],
  ] as const) {
    it(`${name}: truncated, bit-flipped and random bytes never trap`, () => {
      const kindArb = fc.constantFrom(...kinds);
      fc.assert(
        fc.property(
          kindArb,
          fc.array(fc.oneof(...kinds.map((k) => opsByKind[k])), { maxLength: 6 }),
          fc.nat(),
          fc.nat(),
          fc.uint8Array({ maxLength: 40 }),
          (kind, rawOps, cut, flip, random) => {
            const p = plugin();
            // valid bytes of some kind (maybe another), then damaged
            const base = persisted(
              p,
              kind,
              rawOps.filter((op) => isOpOf(kind, op)),
            );
            const truncated = base.subarray(0, cut % (base.length + 1));
            const flipped = base.slice();
            if (flipped.length) flipped[flip % flipped.length] ^= 1 << (flip % 8);
            for (const bytes of [truncated, flipped, random]) {
              for (const k of kinds) {
                try {
                  call(() => p.crdt.fromPersisted(k, bytes));
                } catch (err) {
                  expect(err).to.be.instanceOf(FnError);
                }
                const s = stateOf(p, k, []);
                for (const f of [() => s.merge(bytes), () => s.apply(bytes)]) {
                  try {
                    call(f);
                  } catch (err) {
                    expect(err).to.be.instanceOf(FnError);
                  }
                }
              }
            }
            // and the instance still works afterwards
            expect(valueIn(stateOf(p, "g-counter", [["a", 1]]))).to.equal(1);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});

function isOpOf(kind: string, op: Op): boolean {
  switch (kind) {
    case "g-counter":
    case "pn-counter":
      return op.length === 2 && (kind === "pn-counter" || (op[1] as number) > 0);
    case "lww-register":
      return typeof op[0] === "number";
    default:
      return op[0] === "add" || op[0] === "remove";
  }
}
