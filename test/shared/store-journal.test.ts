// The runtime-neutral helpers on top of the contract, against every adapter: the group-committed journal, the
// durable counter, and commit observation.
import { afterEach, beforeEach, describe, expect, it } from "#test";
import { incrementCounter, Journal, LatencyRecorder, memoryStore, readCounter } from "../../src/store/mod.ts";
import type { CommitEvent, StateStore } from "../../src/store/mod.ts";
import { type StoreHarness, storeFactories } from "../support/stores.ts";
import { rejectsWith, str, text } from "./store-util.ts";

const factories = await storeFactories();

for (const factory of factories) {
  describe(`store journal and counter: ${factory.adapter}`, () => {
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

    it("group-commits concurrent appends: each resolves durable, in order, in few commits", async () => {
      const journal = await Journal.open(store, ["journal", "crdt", "votes"]);
      expect(journal.nextSeq).to.equal(0n);
      const n = 300;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => journal.append(text(`op-${i}`))));
      expect(results.map((r) => r.seq)).to.deep.equal(Array.from({ length: n }, (_, i) => BigInt(i)));
      const stats = journal.stats();
      expect(stats.appends).to.equal(n);
      // The first append goes alone; the rest queue behind it and share commits.
      expect(stats.commits).to.be.at.most(5);
      expect(stats.commits).to.be.at.least(2);
      expect(stats.latency.count).to.equal(n);
      expect(stats.latency.p99).to.be.at.least(stats.latency.p50);

      // Durable: a restart sees every entry, and the journal continues after the last.
      await store.close();
      store = await harness.open();
      const again = await Journal.open(store, ["journal", "crdt", "votes"]);
      expect(again.nextSeq).to.equal(BigInt(n));
      const entries: string[] = [];
      for await (const e of again.entries()) entries.push(`${e.seq}:${str(e.value)}`);
      expect(entries).to.deep.equal(Array.from({ length: n }, (_, i) => `${i}:op-${i}`));
      expect((await again.append(text("next"))).seq).to.equal(BigInt(n));

      // After a snapshot, the entries before it go.
      expect(await again.truncate(250n)).to.equal(250);
      const left: bigint[] = [];
      for await (const e of again.entries()) left.push(e.seq);
      expect(left[0]).to.equal(250n);
      expect(left).to.have.length(n - 250 + 1);
      const from: bigint[] = [];
      for await (const e of again.entries(290n)) from.push(e.seq);
      expect(from).to.deep.equal([290n, 291n, 292n, 293n, 294n, 295n, 296n, 297n, 298n, 299n, 300n]);
    });

    it("splits a large queue into commits within the store's limits", async () => {
      const journal = await Journal.open(store, ["j"]);
      const big = new Uint8Array(60_000).fill(1);
      const results = await Promise.all(Array.from({ length: 40 }, () => journal.append(big)));
      expect(results.at(-1)?.seq).to.equal(39n);
      // 60 kB entries: at most 12 fit the 768 KiB commit limit.
      expect(journal.stats().commits).to.be.at.least(4);
      let count = 0;
      for await (const e of journal.entries()) count += e.value.length === 60_000 ? 1 : 0;
      expect(count).to.equal(40);
    });

    it("detects a second writer on the same journal and stops", async () => {
      const a = await Journal.open(store, ["shared"]);
      const b = await Journal.open(store, ["shared"]);
      await a.append(text("from a"));
      const err = await rejectsWith(b.append(text("from b")), "DuplicateKey");
      expect(err.message).to.contain("another writer");
      await rejectsWith(b.append(text("again")), "DuplicateKey");
      expect((await a.append(text("a goes on"))).seq).to.equal(1n);
    });

    it("rejects bad entries without breaking the journal", async () => {
      const journal = await Journal.open(store, ["bad"]);
      await rejectsWith(journal.append("x" as unknown as Uint8Array), "TypeCoercion");
      await rejectsWith(journal.append(new Uint8Array(64_001)), "ResourceLimit");
      expect((await journal.append(text("fine"))).seq).to.equal(0n);
      await rejectsWith(Journal.open(store, [Number.NaN]), "TypeCoercion");
      await store.commit({ mutations: [{ type: "set", key: ["mixed", "x"], value: text("not an entry") }] });
      await rejectsWith(Journal.open(store, ["mixed"]), "TypeCoercion");
    });

    it("counts without repeats under concurrency and across a restart", async () => {
      const values = await Promise.all(Array.from({ length: 12 }, () => incrementCounter(store, ["generation"])));
      expect([...values].sort((x, y) => Number(x - y))).to.deep.equal(
        Array.from({ length: 12 }, (_, i) => BigInt(i + 1)),
      );
      await store.close();
      store = await harness.open();
      expect(await readCounter(store, ["generation"])).to.equal(12n);
      expect(await incrementCounter(store, ["generation"], 5n)).to.equal(17n);
      await rejectsWith(incrementCounter(store, ["generation"], 0n), "TypeCoercion");
    });
  });
}

describe("store observation", () => {
  it("reports every commit and blob transfer with its duration", async () => {
    const events: CommitEvent[] = [];
    const blobs: string[] = [];
    const store = memoryStore({
      observer: { onCommit: (e) => events.push(e), onBlob: (e) => blobs.push(`${e.op}:${e.bytes}`) },
    });
    await store.commit({ mutations: [{ type: "set", key: ["a"], value: text("xyz") }] });
    await store.commit({ checks: [{ key: ["a"], versionstamp: null }], mutations: [{ type: "delete", key: ["a"] }] });
    const { id } = await store.putBlob(new Uint8Array(1000));
    await store.getBlob(id);
    expect(events.map((e) => [e.ok, e.mutations])).to.deep.equal([
      [true, 1],
      [false, 1],
    ]);
    expect(events[0]?.bytes).to.be.greaterThan(3);
    for (const e of events) expect(e.ms).to.be.at.least(0);
    expect(blobs).to.deep.equal(["put:1000", "get:1000"]);

    const recorder = new LatencyRecorder(4);
    for (const ms of [5, 1, 3, 2, 4]) recorder.add(ms);
    const s = recorder.summary();
    expect(s.count).to.equal(5);
    expect([s.p50, s.max]).to.deep.equal([2, 4]); // the ring keeps the last 4 (1, 3, 2, 4): nearest-rank median 2
  });
});
