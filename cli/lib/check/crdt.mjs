// CRDT kinds: states built from generated ops in one instance, merged in another (as replicas on different
// instances or versions are), and the semilattice laws required of merge: commutative, associative,
// idempotent; and a value consistent with merge (persist round trip, the empty state as identity, absorption).
import { decode, encode } from "@msgpack/msgpack";
import { CheckFailure, holds } from "./property.mjs";

/** Op shapes tried on a kind: the ones a plugin accepts become its generated ops. */
export function opCandidates(fc) {
  const replica = fc.constantFrom("a", "b", "c", "é");
  const element = fc.constantFrom("x", "y", "z", "");
  const tag = fc.constantFrom("t1", "t2", "t3");
  return {
    "small integers": fc.integer({ min: -1000, max: 1000 }),
    "64-bit integers": fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    floats: fc.double({ noNaN: true, noDefaultInfinity: true }),
    strings: fc.string({ maxLength: 8 }),
    "[replica, n > 0]": fc.tuple(replica, fc.integer({ min: 1, max: 1000 })),
    "[replica, n != 0]": fc.tuple(
      replica,
      fc.integer({ min: -1000, max: 1000 }).filter((n) => n !== 0),
    ),
    "[timestamp, replica, value]": fc.tuple(fc.nat(1000), replica, fc.oneof(fc.integer(), fc.string({ maxLength: 4 }))),
    '["add", element, tag] / ["remove", element, [tag]]': fc.oneof(
      fc.tuple(fc.constant("add"), element, tag),
      fc.tuple(fc.constant("remove"), element, fc.array(tag, { maxLength: 2 })),
    ),
    "[key, value] pairs": fc.tuple(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string({ maxLength: 4 }))),
  };
}

export const encodeOp = (v) => encode(v, { useBigInt64: true });

/**
 * A MessagePack value as text: maps with sorted keys, integers exact (so equal values give equal text whatever
 * width the plugin encoded them in), bytes in hex.
 */
function canon(bytes, what) {
  let value;
  try {
    value = decode(bytes, { useBigInt64: true });
  } catch (err) {
    throw new CheckFailure(
      `${what} is not MessagePack: ${err.message}`,
      "value() must return MessagePack (see wit/crdt.wit)",
    );
  }
  const walk = (v) => {
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : `${v}n`;
    if (v instanceof Uint8Array) return `0x${[...v].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, walk(v[k])]),
      );
    return v;
  };
  return JSON.stringify(walk(value)) ?? "undefined";
}

/**
 * @returns {Promise<string>} what was checked
 * @throws {CheckFailure}
 */
export async function checkCrdtKind({ fc, a, b, calls, kind, sample, seed, numRuns }) {
  // Which op shapes does the kind take? Apply a few of each to an empty state; fn-errors are fine (refused ops).
  const accepted = [];
  for (const [label, arb] of Object.entries(opCandidates(fc))) {
    const state = calls.run("crdt.empty", () => a.crdt.empty(kind));
    let ok = 0;
    for (const op of fc.sample(arb, { seed, numRuns: 20 })) {
      if (!calls.attempt("crdt-state.apply", () => state.apply(encodeOp(op))).error) ok++;
    }
    state.drop();
    if (ok >= 5) accepted.push([label, arb]);
  }
  const samples = sample?.ops ?? [];
  const arbs = accepted.map(([, arb]) => arb);
  if (samples.length > 0) arbs.push(fc.constantFrom(...samples));
  if (arbs.length === 0) {
    throw new CheckFailure(
      `none of the generated ops is accepted by "${kind}" (tried ${Object.keys(opCandidates(fc)).join(", ")})`,
      `give check example ops in uni-plugin.json: "samples": { "crdt": { "${kind}": { "ops": [ … ] } } } (JSON values, sent as MessagePack)`,
    );
  }
  const op = fc.oneof(...arbs);
  const ops = fc.array(op, { maxLength: 8 });

  const live = [];
  const track = (s) => {
    live.push(s);
    return s;
  };
  /** A state built from `list` in instance a (ops the kind refuses are skipped): its value and persisted bytes. */
  const build = (list) => {
    const s = track(calls.run("crdt.empty", () => a.crdt.empty(kind)));
    for (const value of list) calls.attempt("crdt-state.apply", () => s.apply(encodeOp(value)));
    const value = canon(
      calls.run("crdt-state.value", () => s.value()),
      "value()",
    );
    return { value, bytes: calls.run("crdt-state.persist", () => s.persist()) };
  };
  const valueAt = (bytes) => {
    const s = track(calls.run("crdt.from-persisted", () => b.crdt.fromPersisted(kind, bytes)));
    return canon(
      calls.run("crdt-state.value", () => s.value()),
      "value()",
    );
  };
  /** x ⊔ y, computed in instance b: the state of x's bytes, merged with y's bytes. */
  const join = (x, y) => {
    const s = track(calls.run("crdt.from-persisted", () => b.crdt.fromPersisted(kind, x)));
    calls.run("crdt-state.merge", () => s.merge(y));
    return calls.run("crdt-state.persist", () => s.persist());
  };
  const expectSame = (law, left, leftText, right, rightText) => {
    if (left !== right) throw new CheckFailure(`${law}: ${leftText} has value ${left}, but ${rightText} has ${right}`);
  };

  const property = fc.property(ops, ops, ops, (opsA, opsB, opsC) => {
    try {
      const built = build(opsA);
      const [A, B, C] = [built.bytes, build(opsB).bytes, build(opsC).bytes];
      const vA = valueAt(A);
      expectSame("persist → from-persisted changes the value", vA, "A reopened", built.value, "A");
      const empty = track(calls.run("crdt.empty", () => b.crdt.empty(kind)));
      calls.run("crdt-state.merge", () => empty.merge(A));
      const intoEmpty = canon(
        calls.run("crdt-state.value", () => empty.value()),
        "value()",
      );
      expectSame("merging into the empty state changes the value", intoEmpty, "∅⊔A", vA, "A");
      expectSame("merge is not idempotent", valueAt(join(A, A)), "A⊔A", vA, "A");
      const AB = join(A, B);
      expectSame("merge is not commutative", valueAt(AB), "A⊔B", valueAt(join(B, A)), "B⊔A");
      expectSame("merge is not associative", valueAt(join(AB, C)), "(A⊔B)⊔C", valueAt(join(A, join(B, C))), "A⊔(B⊔C)");
      expectSame("merging a part again changes the value", valueAt(join(AB, A)), "(A⊔B)⊔A", valueAt(AB), "A⊔B");
    } finally {
      for (const s of live.splice(0)) {
        try {
          s.drop();
        } catch {
          // the call that failed has been reported
        }
      }
    }
  });
  const runs = await holds(fc, property, { seed, numRuns, calls });
  const shapes = accepted.map(([label]) => label);
  if (samples.length > 0) shapes.push(`${samples.length} sample ops`);
  return `merge commutative, associative, idempotent; value consistent with merge (${runs} runs of 3 states; ops: ${shapes.join(", ")})`;
}
