// The store's building blocks, checked on their own: the order-preserving key encoding, the in-memory sorted index,
// CRC-32 and the blob manifest (seeded property tests where a model exists).
import fc from "fast-check";
import { describe, expect, it } from "#test";
import { crc32 } from "../../src/store/crc32.ts";
import { openRecord, sealRecord } from "../../src/store/envelope.ts";
import { compareBytes, decodeKey, encodeKey, normalizeKey } from "../../src/store/keys.ts";
import { describeBlob, readManifest, verifyBlob } from "../../src/store/manifest.ts";
import { byteString, SortedIndex } from "../../src/store/sorted-index.ts";
import type { Key, KeyPart } from "../../src/store/types.ts";
import { rejectsWith, text } from "./store-util.ts";

const part = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.string({ unit: fc.constantFrom("\u0000", "\u00ff", "a"), maxLength: 4 }),
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.bigInt({ min: -300n, max: 300n }),
);
const key = fc.array(part, { maxLength: 4 }).map((k) => normalizeKey(k));

const rank = (p: KeyPart) => (typeof p === "string" ? 0 : typeof p === "bigint" ? 1 : 2);
function cmpPart(a: KeyPart, b: KeyPart): number {
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === "string") {
    const x = [...a].map((c) => c.codePointAt(0) as number);
    const y = [...(b as string)].map((c) => c.codePointAt(0) as number);
    for (let i = 0; i < Math.min(x.length, y.length); i++)
      if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return x.length - y.length;
  }
  const [x, y] = [a as number | bigint, b as number | bigint];
  return x < y ? -1 : x > y ? 1 : 0;
}
function cmpKey(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = cmpPart(a[i] as KeyPart, b[i] as KeyPart);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

describe("store keys", () => {
  it("decode(encode(key)) is the key", () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(decodeKey(encodeKey(k))).to.deep.equal(k);
      }),
      { seed: 1, numRuns: 2000 },
    );
  });

  it("encoded bytes order like the keys (and their binary strings too)", () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        const want = Math.sign(cmpKey(a, b));
        const ea = encodeKey(a);
        const eb = encodeKey(b);
        expect(Math.sign(compareBytes(ea, eb)), `${String(a)} vs ${String(b)}`).to.equal(want);
        const [sa, sb] = [byteString(ea), byteString(eb)];
        expect(Math.sign(sa < sb ? -1 : sa > sb ? 1 : 0)).to.equal(want);
      }),
      { seed: 2, numRuns: 3000 },
    );
  });

  it("no key under a prefix reaches prefix + 0xFF", () => {
    fc.assert(
      fc.property(key, key, (prefix, rest) => {
        fc.pre(rest.length > 0);
        const p = encodeKey(prefix);
        const k = encodeKey([...prefix, ...rest]);
        expect(compareBytes(k, Uint8Array.from([...p, 0xff]))).to.be.below(0);
        expect(compareBytes(k, Uint8Array.from([...p, 0x00]))).to.be.above(0);
      }),
      { seed: 3, numRuns: 2000 },
    );
  });

  it("rejects what it cannot encode faithfully", async () => {
    for (const bad of [[Number.NaN], ["\uDC00"], [true], [null], [[1]], [new Uint8Array(1)]]) {
      await rejectsWith(
        Promise.resolve().then(() => normalizeKey(bad)),
        "TypeCoercion",
      );
    }
    await rejectsWith(
      Promise.resolve().then(() => encodeKey([2n ** 2048n])),
      "TypeCoercion",
    );
    expect(normalizeKey([-0, "x"])).to.deep.equal([0, "x"]);
  });
});

describe("store sorted index", () => {
  type Op =
    | { kind: "set"; k: number }
    | { kind: "delete"; k: number }
    | { kind: "range"; lo: number; hi: number; reverse: boolean; limit: number };
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), k: fc.nat(4000) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), k: fc.nat(4000) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("range" as const),
        lo: fc.nat(4000),
        hi: fc.nat(4000),
        reverse: fc.boolean(),
        limit: fc.integer({ min: 1, max: 2000 }),
      }),
    },
  );
  const name = (k: number) => byteString(encodeKey(["k", k]));

  it("matches a sorted array under thousands of inserts, deletes and range reads", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 500, maxLength: 4000 }), (ops: Op[]) => {
        const index = new SortedIndex<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === "set") {
            index.set(name(o.k), o.k);
            model.set(name(o.k), o.k);
          } else if (o.kind === "delete") {
            expect(index.delete(name(o.k))).to.equal(model.delete(name(o.k)));
          } else {
            const [lo, hi] = [name(Math.min(o.lo, o.hi)), name(Math.max(o.lo, o.hi))];
            let want = [...model.keys()].sort().filter((k) => k >= lo && k < hi);
            if (o.reverse) want.reverse();
            want = want.slice(0, o.limit);
            expect(index.range(lo, hi, o.reverse, o.limit)).to.deep.equal(want.map((k) => model.get(k)));
          }
        }
        expect(index.size).to.equal(model.size);
        expect(index.values()).to.deep.equal([...model.keys()].sort().map((k) => model.get(k)));
      }),
      { seed: 4, numRuns: 30 },
    );
  });
});

describe("store checksums", () => {
  it("computes the standard CRC-32", () => {
    expect(crc32(text("123456789"))).to.equal(0xcbf43926);
    expect(crc32(new Uint8Array())).to.equal(0);
  });

  it("seals records so that any one flipped bit is caught", async () => {
    const sealed = sealRecord(text("value"), ["ab".repeat(32)]);
    expect(openRecord(sealed, "x").blobs).to.deep.equal(["ab".repeat(32)]);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const damaged = sealed.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      await rejectsWith(
        Promise.resolve().then(() => openRecord(damaged, "x")),
        "Corrupt",
      );
    }
    await rejectsWith(
      Promise.resolve().then(() => openRecord(sealed.subarray(0, 5), "x")),
      "Corrupt",
    );
  });

  it("names a blob by its content and catches a damaged manifest or chunk", async () => {
    const data = new Uint8Array(3 * 1024 + 5).map((_, i) => i & 0xff);
    const a = await describeBlob(data, 1024);
    const b = await describeBlob(data, 1024);
    expect(a.id).to.equal(b.id);
    expect((await describeBlob(data.subarray(1), 1024)).id).not.to.equal(a.id);
    const m = await readManifest(a.id, a.manifest);
    expect([m.size, m.chunkSize, m.digests.length]).to.deep.equal([data.length, 1024, 4]);
    await verifyBlob(a.id, m, data);
    const flipped = a.manifest.slice();
    flipped[30] ^= 0x80;
    await rejectsWith(readManifest(a.id, flipped), "Corrupt");
    const bad = data.slice();
    bad[2048] ^= 1;
    expect((await rejectsWith(verifyBlob(a.id, m, bad), "Corrupt")).message).to.contain("chunk 2");
    await rejectsWith(verifyBlob(a.id, m, data.subarray(0, 3000)), "Corrupt");
  });
});
