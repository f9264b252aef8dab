// The StateStore contract, run against every adapter this runtime has (test/support/stores.ts): Node runs memory,
// the file store and Deno KV through @deno/kv; Deno runs memory and Deno KV; Chromium runs memory and IndexedDB.
import { afterEach, beforeEach, describe, expect, it } from "#test";
import type { Key, StateStore } from "../../src/store/mod.ts";
import { type StoreHarness, storeFactories } from "../support/stores.ts";
import { bytes, collect, keysOf, rejectsWith, set, text } from "./store-util.ts";

const factories = await storeFactories();

for (const factory of factories) {
  describe(`store contract: ${factory.adapter}`, () => {
    let harness: StoreHarness;
    let store: StateStore;

    beforeEach(async () => {
      harness = await factory.create();
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
      await harness.dispose();
    });

    it("sets, gets and deletes, with one rising versionstamp per commit", async () => {
      expect(await store.get(["a"])).to.equal(null);
      const v1 = await set(store, ["a"], text("one"));
      expect(v1).to.match(/^[0-9a-f]{20}$/);
      const e = await store.get(["a"]);
      expect(e?.key).to.deep.equal(["a"]);
      expect([...(e?.value ?? [])]).to.deep.equal([...text("one")]);
      expect(e?.versionstamp).to.equal(v1);
      expect(e?.blobs).to.deep.equal([]);

      const res = await store.atomic().set(["b", 1], bytes(1)).set(["b", 2], bytes(2)).delete(["a"]).commit();
      expect(res.ok).to.equal(true);
      const v2 = res.ok ? res.versionstamp : "";
      expect(v2 > v1, `${v2} > ${v1}`).to.equal(true);
      const [b1, b2, a] = await store.getMany([["b", 1], ["b", 2], ["a"]]);
      expect(b1?.versionstamp).to.equal(v2);
      expect(b2?.versionstamp).to.equal(v2);
      expect(a).to.equal(null);
      expect(store.adapter).to.be.a("string");
    });

    it("orders keys part by part: strings by UTF-8, then bigints, then numbers", async () => {
      const keys: Key[] = [
        ["k", -1.5],
        ["k", 2n ** 70n],
        ["k", "é"],
        ["k", "z"],
        ["k", -(2n ** 70n)],
        ["k", 0],
        ["k", ""],
        ["k", "a", 1],
        ["k", "a"],
        ["k", -1n],
        ["k", 0n],
        ["k", Number.POSITIVE_INFINITY],
        ["k", Number.NEGATIVE_INFINITY],
        ["k", "a\u0000"],
        ["k", 255n],
        ["k", 256n],
        ["k", "\u{1F600}"],
        ["k", "\uFFFF"],
      ];
      await store.commit({ mutations: keys.map((key) => ({ type: "set", key, value: bytes(0) })) });
      const want: Key[] = [
        ["k", ""],
        ["k", "a"],
        ["k", "a", 1],
        ["k", "a\u0000"],
        ["k", "z"],
        ["k", "é"],
        ["k", "\uFFFF"],
        ["k", "\u{1F600}"],
        ["k", -(2n ** 70n)],
        ["k", -1n],
        ["k", 0n],
        ["k", 255n],
        ["k", 256n],
        ["k", 2n ** 70n],
        ["k", Number.NEGATIVE_INFINITY],
        ["k", -1.5],
        ["k", 0],
        ["k", Number.POSITIVE_INFINITY],
      ];
      expect(await keysOf(store, { prefix: ["k"] })).to.deep.equal(want);
      expect(await keysOf(store, { prefix: ["k"] }, { reverse: true })).to.deep.equal([...want].reverse());
    });

    it("lists by prefix (without the prefix key itself), by range, with limit and reverse", async () => {
      for (const key of [["p"], ["p", 1], ["p", 2], ["p", 3], ["p", 3, "x"], ["q", 1], ["o", 9]] as Key[]) {
        await set(store, key, bytes(key.length));
      }
      expect(await keysOf(store, { prefix: ["p"] })).to.deep.equal([
        ["p", 1],
        ["p", 2],
        ["p", 3],
        ["p", 3, "x"],
      ]);
      expect(await keysOf(store, { prefix: ["p"], start: ["p", 2] })).to.deep.equal([
        ["p", 2],
        ["p", 3],
        ["p", 3, "x"],
      ]);
      expect(await keysOf(store, { prefix: ["p"], end: ["p", 3] })).to.deep.equal([
        ["p", 1],
        ["p", 2],
      ]);
      expect(await keysOf(store, { start: ["o"], end: ["p", 2] })).to.deep.equal([["o", 9], ["p"], ["p", 1]]);
      expect(await keysOf(store, { prefix: ["p"] }, { limit: 2 })).to.deep.equal([
        ["p", 1],
        ["p", 2],
      ]);
      expect(await keysOf(store, { prefix: ["p"] }, { limit: 2, reverse: true })).to.deep.equal([
        ["p", 3, "x"],
        ["p", 3],
      ]);
      expect(await keysOf(store, { prefix: [] })).to.have.length(7);
      expect(await keysOf(store, { prefix: ["none"] })).to.deep.equal([]);
    });

    it("lists many keys across pages in order", async () => {
      const n = 700;
      for (let first = 0; first < n; first += 350) {
        await store.commit({
          mutations: Array.from({ length: 350 }, (_, i) => ({
            type: "set" as const,
            key: ["many", BigInt(first + i)],
            value: bytes(i & 0xff),
          })),
        });
      }
      const keys = await keysOf(store, { prefix: ["many"] });
      expect(keys.map((k) => k[1])).to.deep.equal(Array.from({ length: n }, (_, i) => BigInt(i)));
      const back = await keysOf(store, { prefix: ["many"] }, { reverse: true, limit: 300 });
      expect(back.map((k) => k[1])).to.deep.equal(Array.from({ length: 300 }, (_, i) => BigInt(n - 1 - i)));
    });

    it("applies a commit only when every check holds, and then all of it", async () => {
      const v1 = await set(store, ["acct", "a"], bytes(10));
      const stale = await store
        .atomic()
        .check({ key: ["acct", "a"], versionstamp: v1 })
        .set(["acct", "a"], bytes(5))
        .set(["acct", "b"], bytes(5))
        .commit();
      expect(stale.ok).to.equal(true);
      const again = await store
        .atomic()
        .check({ key: ["acct", "a"], versionstamp: v1 })
        .set(["acct", "a"], bytes(0))
        .set(["acct", "c"], bytes(99))
        .commit();
      expect(again.ok).to.equal(false);
      expect([...((await store.get(["acct", "a"]))?.value ?? [])]).to.deep.equal([5]);
      expect(await store.get(["acct", "c"])).to.equal(null);

      const create = () =>
        store
          .atomic()
          .check({ key: ["once"], versionstamp: null })
          .set(["once"], bytes(1))
          .commit();
      expect((await create()).ok).to.equal(true);
      expect((await create()).ok).to.equal(false);
      const absent = await store
        .atomic()
        .check({ key: ["never"], versionstamp: null })
        .commit();
      expect(absent.ok).to.equal(true);
    });

    it("lets exactly one of many concurrent compare-and-sets on one key win each round", async () => {
      const key = ["lease", "stream-1"];
      await set(store, key, text("nobody"));
      const entry = await store.get(key);
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store
            .atomic()
            .check({ key, versionstamp: entry?.versionstamp ?? null })
            .set(key, text(`node-${i}`))
            .commit(),
        ),
      );
      expect(attempts.filter((r) => r.ok)).to.have.length(1);
      const winner = attempts.findIndex((r) => r.ok);
      expect(new TextDecoder().decode((await store.get(key))?.value)).to.equal(`node-${winner}`);
    });

    it("keeps its own copy of values, both ways", async () => {
      const value = bytes(1, 2, 3);
      await set(store, ["copy"], value);
      value[0] = 9;
      const got = await store.get(["copy"]);
      expect([...(got?.value ?? [])]).to.deep.equal([1, 2, 3]);
      (got?.value as Uint8Array)[1] = 9;
      expect([...((await store.get(["copy"]))?.value ?? [])]).to.deep.equal([1, 2, 3]);
    });

    it("keeps every committed write across a restart, and versionstamps keep rising", async () => {
      const v1 = await set(store, ["keep", 1], text("x"));
      const blob = await store.putBlob(text("a blob that survives"));
      await set(store, ["keep", 2], text("y"), [blob.id]);
      await store.atomic().delete(["keep", 1]).set(["keep", 3], text("z")).commit();
      const before = await collect(store.list({ prefix: ["keep"] }));
      await store.close();
      store = await harness.open();
      const after = await collect(store.list({ prefix: ["keep"] }));
      expect(after.map((e) => [e.key, [...e.value], e.versionstamp, e.blobs])).to.deep.equal(
        before.map((e) => [e.key, [...e.value], e.versionstamp, e.blobs]),
      );
      expect(new TextDecoder().decode(await store.getBlob(blob.id))).to.equal("a blob that survives");
      const v2 = await set(store, ["keep", 4], text("w"));
      expect(v2 > (before.at(-1)?.versionstamp ?? v1)).to.equal(true);
    });

    it("rejects bad input with typed errors, asynchronously", async () => {
      const bad = store.get([Number.NaN]);
      expect(bad).to.be.instanceOf(Promise);
      await rejectsWith(bad, "TypeCoercion");
      await rejectsWith(store.get([{} as unknown as string]), "TypeCoercion");
      await rejectsWith(store.get("a" as unknown as Key), "TypeCoercion");
      await rejectsWith(store.get(["\uD800"]), "TypeCoercion");
      await rejectsWith(store.get(["x".repeat(2000)]), "ResourceLimit");
      await rejectsWith(
        store.commit({ mutations: [{ type: "set", key: ["v"], value: "s" as unknown as Uint8Array }] }),
        "TypeCoercion",
      );
      await rejectsWith(
        store.commit({ mutations: [{ type: "set", key: ["v"], value: new Uint8Array(64_001) }] }),
        "ResourceLimit",
      );
      await rejectsWith(
        store.commit({
          checks: Array.from({ length: 11 }, (_, i) => ({ key: ["c", i], versionstamp: null })),
          mutations: [],
        }),
        "ResourceLimit",
      );
      await rejectsWith(
        store.commit({
          mutations: Array.from({ length: 1001 }, (_, i) => ({ type: "delete" as const, key: ["d", i] })),
        }),
        "ResourceLimit",
      );
      await rejectsWith(
        store.commit({
          mutations: Array.from({ length: 13 }, (_, i) => ({
            type: "set" as const,
            key: ["big", i],
            value: new Uint8Array(64_000),
          })),
        }),
        "ResourceLimit",
      );
      await rejectsWith(
        store.commit({ checks: [{ key: ["a"], versionstamp: "nope" }], mutations: [] }),
        "TypeCoercion",
      );
      await rejectsWith(collect(store.list({ prefix: ["p"], start: ["q"] })), "TypeCoercion");
      await rejectsWith(collect(store.list({} as never)), "TypeCoercion");
      await rejectsWith(store.getBlob("not-an-id"), "TypeCoercion");
      await rejectsWith(store.putBlob("text" as unknown as Uint8Array), "TypeCoercion");
      // Nothing was written by any of them.
      expect(await keysOf(store, { prefix: [] })).to.deep.equal([]);
    });

    it("normalizes -0 to 0 in keys", async () => {
      await set(store, ["z", -0], bytes(1));
      const e = await store.get(["z", 0]);
      expect(e?.key[1]).to.equal(0);
      expect(Object.is(e?.key[1], -0)).to.equal(false);
      expect(await keysOf(store, { prefix: ["z"] })).to.have.length(1);
    });

    it("stores blobs by content: round trips at chunk edges, same bytes same id", async () => {
      const sizes = [0, 1, 65_535, 65_536, 65_537, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12_345];
      for (const size of sizes) {
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i++) data[i] = (i * 31 + size) & 0xff;
        const info = await store.putBlob(data);
        expect(info.size).to.equal(size);
        expect(info.id).to.match(/^[0-9a-f]{64}$/);
        expect(await store.hasBlob(info.id)).to.equal(true);
        const back = await store.getBlob(info.id);
        expect(back.length, `size ${size}`).to.equal(size);
        let same = true;
        for (let i = 0; i < size; i++) if (back[i] !== data[i]) same = false;
        expect(same, `content of size ${size}`).to.equal(true);
        expect((await store.putBlob(data)).id).to.equal(info.id);
      }
      const a = await store.putBlob(text("one"));
      const b = await store.putBlob(text("two"));
      expect(a.id).not.to.equal(b.id);
      const missing = "0".repeat(64);
      expect(await store.hasBlob(missing)).to.equal(false);
      await rejectsWith(store.getBlob(missing), "NotFound");
    });

    it("links blobs from records and collects only unlinked ones", async () => {
      const kept = await store.putBlob(text("linked"));
      const dropped = await store.putBlob(text("unlinked"));
      const young = await store.putBlob(text("young"));
      await set(store, ["res", "a"], text("meta"), [kept.id]);
      expect((await store.get(["res", "a"]))?.blobs).to.deep.equal([kept.id]);
      await rejectsWith(
        store.commit({ mutations: [{ type: "set", key: ["res", "x"], value: bytes(), blobs: ["f".repeat(64)] }] }),
        "NotFound",
      );
      await rejectsWith(
        store.commit({ mutations: [{ type: "set", key: ["res", "x"], value: bytes(), blobs: ["xyz"] }] }),
        "TypeCoercion",
      );

      const none = await store.gc({ minAgeMs: 60_000 });
      expect(none).to.deep.equal({ live: 1, deleted: 0, young: 2 });
      await new Promise((r) => setTimeout(r, 20));
      await store.putBlob(text("young")); // storing it again makes it young again
      const report = await store.gc({ minAgeMs: 10 });
      expect(report).to.deep.equal({ live: 1, deleted: 1, young: 1 });
      expect(await store.hasBlob(dropped.id)).to.equal(false);
      expect(await store.hasBlob(young.id)).to.equal(true);
      expect(new TextDecoder().decode(await store.getBlob(kept.id))).to.equal("linked");

      // Once the record goes, so can its blob.
      await store.atomic().delete(["res", "a"]).commit();
      await new Promise((r) => setTimeout(r, 20));
      const last = await store.gc({ minAgeMs: 10 });
      expect(last.deleted).to.equal(2);
      expect(await store.hasBlob(kept.id)).to.equal(false);
      await rejectsWith(store.getBlob(kept.id), "NotFound");
    });

    it("detects a flipped bit in a blob", async () => {
      const data = new Uint8Array(2 * (1 << 20) + 100).fill(7);
      const { id } = await store.putBlob(data);
      await harness.damage.flipBlobBit(id, (1 << 20) + 5);
      const e = await rejectsWith(store.getBlob(id), "Corrupt");
      expect(e.message).to.contain("chunk 1");
      expect(e.detail.blob).to.equal(id);
    });

    it("detects a truncated blob", async () => {
      const { id } = await store.putBlob(new Uint8Array(300_000).fill(3));
      await harness.damage.truncateBlob(id, 200_000);
      const e = await rejectsWith(store.getBlob(id), "Corrupt");
      expect(e.message).to.contain("truncated");
    });

    if (factory.chunkBytes !== undefined) {
      const chunk = factory.chunkBytes;
      it("detects a missing blob chunk", async () => {
        const { id } = await store.putBlob(new Uint8Array(5 * chunk + 10).fill(1));
        await harness.damage.dropBlobChunk?.(id, 2);
        const e = await rejectsWith(store.getBlob(id), "Corrupt");
        expect(e.message).to.contain("chunk 2");
        await harness.damage.dropBlobChunk?.(id, 5);
        await rejectsWith(store.getBlob(id), "Corrupt");
      });
    }

    if (factory.adapter !== "fs") {
      it("detects a damaged record; a listing reports it and serves the rest", async () => {
        await set(store, ["r", 1], text("one"));
        await set(store, ["r", 2], text("two"));
        await set(store, ["r", 3], text("three"));
        await harness.damage.flipRecordBit?.(["r", 2]);
        await rejectsWith(store.get(["r", 2]), "Corrupt");
        await rejectsWith(collect(store.list({ prefix: ["r"] })), "Corrupt");
        const reported: Key[] = [];
        const rest = await collect(store.list({ prefix: ["r"] }, { onCorrupt: (key) => reported.push(key) }));
        expect(rest.map((e) => e.key)).to.deep.equal([
          ["r", 1],
          ["r", 3],
        ]);
        expect(reported).to.deep.equal([["r", 2]]);
        // A collection cannot tell what the damaged record links, so it refuses rather than guess.
        await rejectsWith(store.gc({ minAgeMs: 0 }), "Corrupt");
      });
    }

    it("rejects every call once closed", async () => {
      await store.close();
      await store.close();
      await rejectsWith(store.get(["a"]), "Disposed");
      await rejectsWith(set(store, ["a"], bytes()), "Disposed");
      await rejectsWith(store.putBlob(bytes()), "Disposed");
      await rejectsWith(collect(store.list({ prefix: [] })), "Disposed");
      store = await harness.open();
    });
  });
}
