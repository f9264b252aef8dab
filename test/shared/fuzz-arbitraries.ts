// fast-check arbitraries the fuzz properties share (test/shared/fuzz-*.test.ts).
import fc from "fast-check";
import type { Mutation } from "./fuzz-util.ts";

/** Lengths and offsets worth trying in a 32-bit field: edges, powers of two, the signed/unsigned boundary. */
export const interestingU32 = fc.oneof(
  fc.constantFrom(0, 1, 7, 8, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffff8, 0xffffffff, 0x10000000),
  fc.nat(),
  fc.integer({ min: 0, max: 0xffffffff }),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("word" as const), at: fc.nat(), value: interestingU32 }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

/** Bytes derived from one of `bases` (mutated), or none of them (random). */
export function bytesFrom(bases: readonly Uint8Array[], maxRandom = 2048) {
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...bases), mutations).map(([base, m]) => ({ base, m })) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: maxRandom }).map((random) => ({ base: random, m: [] as Mutation[] })),
    },
  );
}

/** Any JS value, including the ones serialisers trip on: BigInt, deep nesting, cycles, functions, symbols. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 90, max: 140 }).map((depth) => nested(depth)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(() => 1, Symbol("op"), cyclic(), undefined, Number.NaN) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }) },
);

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function cyclic(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}
