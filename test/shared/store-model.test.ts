// Property test: random sequences of commits (sets, deletes, checks that should hold or fail), reads, listings and
// restarts, run against each adapter and against a plain model (a Map, sorted by an independent key comparator).
// Seeded, so a failure reproduces.
import fc from "fast-check";
import { describe, expect, it } from "#test";
import type { Check, Key, KeyPart, Mutation, StateStore } from "../../src/store/mod.ts";
import { storeFactories } from "../support/stores.ts";
import { collect } from "./store-util.ts";

const factories = await storeFactories();

// --- the model -----------------------------------------------------------------------------------------------
const rank = (p: KeyPart) => (typeof p === "string" ? 0 : typeof p === "bigint" ? 1 : 2);

/** Strings compare by code point, which is UTF-8 byte order (UTF-16 code unit order is not). */
function compareStrings(a: string, b: string): number {
  const ca = [...a].map((c) => c.codePointAt(0) as number);
  const cb = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    if (ca[i] !== cb[i]) return (ca[i] as number) - (cb[i] as number);
  }
  return ca.length - cb.length;
}

function comparePart(a: KeyPart, b: KeyPart): number {
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  if (typeof a === "string") return compareStrings(a, b as string);
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = comparePart(a[i] as KeyPart, b[i] as KeyPart);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

const norm = (k: Key): Key => k.map((p) => (Object.is(p, -0) ? 0 : p));
const id = (k: Key) =>
  norm(k)
    .map((p) => `${typeof p}:${typeof p === "string" ? JSON.stringify(p) : String(p)}`)
    .join("|");

interface ModelEntry {
  key: Key;
  value: number[];
  versionstamp: string;
}

// --- commands --------------------------------------------------------------------------------------------------
type Op = { kind: "set"; key: number; value: number[] } | { kind: "delete"; key: number };
type CheckSpec = { key: number; mode: "current" | "stale" | "absent" };
type Command =
  | { kind: "commit"; checks: CheckSpec[]; ops: Op[] }
  | { kind: "get"; keys: number[] }
  | { kind: "list"; prefix: number; depth: number; reverse: boolean; limit: number | undefined }
  | { kind: "restart" };

const part = fc.oneof(
  fc.string({ unit: fc.constantFrom("a", "b", "\u0000", "é", "\uFFFF", "\u{1F600}"), maxLength: 3 }),
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noNaN: true }),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.bigInt({ min: -3n, max: 3n }),
);
const keyPool = fc.array(fc.array(part, { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 12 });
const op = (n: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      key: fc.nat(n - 1),
      value: fc.array(fc.nat(255), { maxLength: 6 }),
    }),
    fc.record({ kind: fc.constant("delete" as const), key: fc.nat(n - 1) }),
  );
const command = (n: number): fc.Arbitrary<Command> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant("commit" as const),
        checks: fc.array(
          fc.record({
            key: fc.nat(n - 1),
            mode: fc.constantFrom("current" as const, "stale" as const, "absent" as const),
          }),
          { maxLength: 3 },
        ),
        ops: fc.array(op(n), { minLength: 1, maxLength: 5 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("get" as const), keys: fc.array(fc.nat(n - 1), { maxLength: 4 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("list" as const),
        prefix: fc.nat(n - 1),
        depth: fc.nat(2),
        reverse: fc.boolean(),
        limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
  );

const scenario = keyPool.chain((keys) =>
  fc.record({ keys: fc.constant(keys), commands: fc.array(command(keys.length), { minLength: 5, maxLength: 30 }) }),
);

for (const factory of factories) {
  describe(`store model: ${factory.adapter}`, () => {
    it("behaves like a sorted map with atomic, checked commits, across restarts", async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ keys, commands }) => {
          const harness = await factory.create();
          let store: StateStore = await harness.open();
          const model = new Map<string, ModelEntry>();
          let lastStamp = "";
          try {
            for (const cmd of commands) {
              if (cmd.kind === "restart") {
                await store.close();
                store = await harness.open();
              } else if (cmd.kind === "commit") {
                const checks: Check[] = [];
                let expectOk = true;
                for (const c of cmd.checks) {
                  const key = keys[c.key] as Key;
                  const current = model.get(id(key))?.versionstamp ?? null;
                  if (c.mode === "current") checks.push({ key, versionstamp: current });
                  else if (c.mode === "absent") {
                    checks.push({ key, versionstamp: null });
                    if (current !== null) expectOk = false;
                  } else {
                    // A stamp the key certainly does not have: older than every commit.
                    checks.push({ key, versionstamp: "00000000000000000000" });
                    expectOk = false;
                  }
                }
                const mutations: Mutation[] = cmd.ops.map((o) =>
                  o.kind === "set"
                    ? { type: "set", key: keys[o.key] as Key, value: Uint8Array.from(o.value) }
                    : { type: "delete", key: keys[o.key] as Key },
                );
                const res = await store.commit({ checks, mutations });
                expect(res.ok, JSON.stringify(cmd)).to.equal(expectOk);
                if (res.ok) {
                  expect(res.versionstamp > lastStamp, "versionstamps rise").to.equal(true);
                  lastStamp = res.versionstamp;
                  for (const o of cmd.ops) {
                    const key = norm(keys[o.key] as Key);
                    if (o.kind === "set") model.set(id(key), { key, value: o.value, versionstamp: res.versionstamp });
                    else model.delete(id(key));
                  }
                }
              } else if (cmd.kind === "get") {
                const got = await store.getMany(cmd.keys.map((k) => keys[k] as Key));
                for (let i = 0; i < cmd.keys.length; i++) {
                  const want = model.get(id(keys[cmd.keys[i] as number] as Key));
                  const e = got[i];
                  expect(e ? { key: e.key, value: [...e.value], versionstamp: e.versionstamp } : null).to.deep.equal(
                    want ?? null,
                  );
                }
              } else {
                const prefix = norm((keys[cmd.prefix] as Key).slice(0, cmd.depth));
                const options = { reverse: cmd.reverse, ...(cmd.limit === undefined ? {} : { limit: cmd.limit }) };
                const got = (await collect(store.list({ prefix }, options))).map((e) => ({
                  key: e.key,
                  value: [...e.value],
                  versionstamp: e.versionstamp,
                }));
                let want = [...model.values()]
                  .filter((e) => e.key.length > prefix.length && id(e.key.slice(0, prefix.length)) === id(prefix))
                  .sort((a, b) => compareKeys(a.key, b.key));
                if (cmd.reverse) want.reverse();
                if (cmd.limit !== undefined) want = want.slice(0, cmd.limit);
                expect(got).to.deep.equal(want);
              }
            }
          } finally {
            await store.close();
            await harness.dispose();
          }
        }),
        { seed: 20_261_130, numRuns: factory.adapter === "memory" ? 150 : 25 },
      );
    });
  });
}
