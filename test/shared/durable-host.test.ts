// A PluginHost with a StateStore brings everything back after a restart: the serving versions at their
// generations, indexes with identical probes, CRDT values, CDC streams continuing exactly once, the logical-type
// samples. A restart here is a new host on the same storage (the memory store's storage outlives its stores);
// crash tests with kill -9 are in test/durable (Node) and test/deno.
import { makeVector, Table } from "apache-arrow";
import { describe, expect, it } from "#test";
import { type CdcEmit, ErrorCode, PluginError, PluginHost, type ReloadReport } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { workerFactory } from "../support/worker.ts";
import { expectRejects } from "./host-util.ts";
import { expectContiguous, plugin, queryTable, refused, rowsOf, vectorTable } from "./reload-util.ts";

let row = 0;
const batch = (n: number) => new Table({ row: makeVector(Int32Array.from({ length: n }, () => row++)) });

async function open(storage: MemoryStorage, extra: Partial<ConstructorParameters<typeof PluginHost>[0]> = {}) {
  const host = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }), ...extra });
  const report = await host.restored;
  return { host, report };
}

describe("durable host: restart", () => {
  it("restores versions and generations, indexes, CRDT values, CDC positions and samples", async () => {
    const storage = new MemoryStorage();
    const first = await open(storage);
    expect(first.report.plugins).to.deep.equal([]);
    const h = first.host;
    const vector = await h.load(await plugin("vector-flat-v1"));
    await h.load(await plugin("crdt-v1"));
    await h.load(await plugin("changelog-v1"));
    await h.load(await plugin("types-v1"));
    await h.reload(vector, await plugin("vector-flat-v2")); // generation 2 for the vector plugin
    const docs = await h.createIndex("docs", "vector.flat", vectorTable(300, 8, 7), { metric: "cosine" });
    const q = queryTable(4, 8, 8);
    const hits = rowsOf(await docs.probe(q, 5));
    const likes = await h.createCrdt("likes", "pn-counter");
    const tags = await h.createCrdt("tags", "or-set");
    await Promise.all([likes.apply(["a", 5]), likes.apply(["b", -2]), tags.apply(["add", "x", "t1"])]);
    const changes = await h.attachCdc("changes", "changelog", { checkpointEvery: 2 });
    const before: CdcEmit[] = [];
    changes.onEmit((e) => {
      before.push(e);
    });
    for (let i = 0; i < 5; i++) await changes.publish(batch(3), { source: `0/${i}` });
    await changes.delivered();
    const confirmed = await changes.checkpoint();
    await h.logicalType("geo.point").fromLiteral(["POINT(13.4 52.52)"]);
    const tagValue = await tags.value();
    await h.flush();
    const versions = h
      .plugins()
      .map((p) => [p.id, p.version, p.generation])
      .sort();
    h.dispose();

    const { host, report } = await open(storage);
    expect(report.quarantined).to.deep.equal([]);
    expect(report.resources.length).to.equal(4);
    expect(
      host
        .plugins()
        .map((p) => [p.id, p.version, p.generation])
        .sort(),
    ).to.deep.equal(versions);
    expect(rowsOf(await (host.index("docs") as NonNullable<ReturnType<typeof host.index>>).probe(q, 5))).to.deep.equal(
      hits,
    );
    expect(await host.crdt("likes")?.value()).to.equal(3);
    expect(await host.crdt("tags")?.value()).to.deep.equal(tagValue);
    const stream = host.cdc("changes");
    expect(stream?.nextLsn).to.equal(15n);
    expect(stream?.acknowledged).to.equal(15n);
    expect((await stream?.checkpointPosition())?.lsn).to.equal(confirmed);
    // The stream continues where it was: new rows get the next LSNs, and nothing acknowledged is emitted again.
    const after: CdcEmit[] = [];
    stream?.onEmit((e) => {
      after.push(e);
    });
    expect(await stream?.publish(batch(2))).to.deep.equal({ lsnStart: 15n, lsnEnd: 17n });
    await stream?.delivered();
    expectContiguous([...before, ...after], 0n, 17n);
    // The samples came back: a reload to types-v2 is checked on the literal seen before the restart.
    const types = host.plugins().find((p) => p.id === "dev.uni.types");
    const reloaded = await host
      .reload(types as NonNullable<typeof types>, await plugin("types-v2-incompatible"))
      .catch((e) => e);
    expect(reloaded).to.be.instanceOf(PluginError);
    host.dispose();
  });

  it("never repeats a generation: a handle from before the restart still names its version; unload+load rises", async () => {
    const storage = new MemoryStorage();
    const a = await open(storage);
    const handle = await a.host.load(await plugin("crdt-v1"));
    const v2 = (await a.host.reload(handle, await plugin("crdt-v2"))).to as NonNullable<ReloadReport["to"]>;
    a.host.dispose();
    const b = await open(storage);
    expect(b.host.plugins()[0]?.generation).to.equal(v2.generation);
    await expectRejects(b.host.reload(handle, await plugin("crdt-v2")), { code: ErrorCode.StaleHandle });
    await b.host.unload(v2);
    const again = await b.host.load(await plugin("crdt-v1"));
    expect(again.generation).to.equal(v2.generation + 1);
    b.host.dispose();
    const c = await open(storage);
    expect(c.host.plugins().map((p) => p.generation)).to.deep.equal([v2.generation + 1]);
    const third = await c.host.reload(again, await plugin("crdt-v2"));
    expect(third.to?.generation).to.equal(v2.generation + 2);
    c.host.dispose();
  });

  it("journals CRDT ops and folds them into snapshots: many ops, a few records, the same value", async () => {
    const storage = new MemoryStorage();
    const a = await open(storage, { snapshotEveryOps: 7 });
    await a.host.load(await plugin("crdt-v1"));
    const votes = await a.host.createCrdt("votes", "g-counter");
    for (let i = 0; i < 30; i++) await votes.apply([`r${i % 4}`, i + 1]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => votes.apply([`r${i % 3}`, 1])));
    const value = await votes.value();
    a.host.dispose();
    const b = await open(storage);
    expect(await b.host.crdt("votes")?.value()).to.equal(value);
    let journal = 0;
    for await (const _ of memoryStore({ storage }).list({ prefix: ["uni", "host", "journal", "votes"] })) journal++;
    expect(journal).to.be.lessThan(10); // the restore folded what was left into a new snapshot
    b.host.dispose();
  });

  it("a reload is atomic in the store: after a restart the new version serves the handed-over state", async () => {
    const storage = new MemoryStorage();
    const a = await open(storage);
    const handle = await a.host.load(await plugin("crdt-v1"));
    const likes = await a.host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 9]);
    await a.host.reload(handle, await plugin("crdt-v2"));
    await likes.apply(["b", 1]); // journaled in the new epoch, on top of v2's snapshot
    a.host.dispose();
    const b = await open(storage);
    expect(b.host.plugins()[0]?.version).to.equal("2.0.0");
    expect(await b.host.crdt("likes")?.value()).to.equal(10);
    expect(b.host.crdt("likes")?.servedBy.version).to.equal("2.0.0");
    b.host.dispose();
  });

  it("a reload whose store commit fails rolls back everywhere: memory and store keep the old version", async () => {
    const storage = new MemoryStorage();
    const failing = failingCommits(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    await host.restored;
    const handle = await host.load(await plugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 4]);
    failing.failNext = (mutations) => mutations.some((m) => m.key.includes("plugin"));
    const err = await refused(host.reload(handle, await plugin("crdt-v2")), "commit");
    expect(err.message).to.contain("the old version keeps serving");
    expect(likes.servedBy.version).to.equal("1.0.0");
    await likes.apply(["a", 1]);
    host.dispose();
    const b = await open(storage);
    expect(b.host.plugins()[0]?.version).to.equal("1.0.0");
    expect(await b.host.crdt("likes")?.value()).to.equal(5);
    b.host.dispose();
  });

  it("a write the store refuses rejects the call, and nothing of it is acknowledged", async () => {
    const storage = new MemoryStorage();
    const failing = failingCommits(memoryStore({ storage }));
    const host = new PluginHost({ onLog: () => {}, store: failing.store });
    await host.load(await plugin("crdt-v1"));
    failing.failNext = () => true;
    await expectRejects(host.createCrdt("likes", "pn-counter"), { code: ErrorCode.Io, retryable: true });
    expect(host.crdt("likes")).to.equal(undefined);
    const likes = await host.createCrdt("likes", "pn-counter");
    expect(await likes.value()).to.equal(0);
    host.dispose();
  });
});

describe("durable host: damaged or stale records are quarantined, the rest restores", () => {
  it("a damaged record, a missing blob and a kind no plugin provides", async () => {
    const storage = new MemoryStorage();
    const a = await open(storage);
    await a.host.load(await plugin("crdt-v1"));
    await a.host.load(await plugin("vector-flat-v1"));
    const ok = await a.host.createCrdt("ok", "g-counter");
    await ok.apply(["r", 3]);
    await a.host.createCrdt("gone-kind", "or-set");
    await a.host.createIndex("big", "vector.flat", vectorTable(2000, 32, 3)); // a snapshot blob (over 48 KiB)
    await a.host.createCrdt("garbled", "g-counter");
    a.host.dispose();

    const raw = memoryStore({ storage });
    // garbled: a record that is not what it says; gone-kind: a kind no plugin will provide; big: a bit of its
    // snapshot blob flipped.
    await raw.commit({
      mutations: [{ type: "set", key: ["uni", "host", "res", "crdt", "garbled"], value: Uint8Array.of(1, 2, 3) }],
    });
    const gone = (await raw.get(["uni", "host", "res", "crdt", "gone-kind"]))?.value as Uint8Array;
    const at = indexOf(gone, new TextEncoder().encode("or-set"));
    const renamed = gone.slice();
    renamed[at + 1] = "x".charCodeAt(0);
    await raw.commit({
      mutations: [{ type: "set", key: ["uni", "host", "res", "crdt", "gone-kind"], value: renamed }],
    });
    const big = (await raw.get(["uni", "host", "res", "index", "big"])) as NonNullable<
      Awaited<ReturnType<StateStore["get"]>>
    >;
    const [blobId] = big.blobs;
    const blob = storage.blobs.get(blobId as string);
    expect(blob, "the index snapshot is a blob").not.to.equal(undefined);
    (blob as { data: Uint8Array }).data[1000] ^= 0x10;

    const b = await open(storage);
    const reasons = b.report.quarantined.map((q) => `${q.key.join("/")}: ${q.reason}`);
    expect(reasons.some((r) => r.includes("res/crdt/garbled") && r.includes("damaged"))).to.equal(
      true,
      reasons.join("\n"),
    );
    expect(
      reasons.some((r) => r.includes("res/crdt/gone-kind") && r.includes('no plugin provides crdt "ox-set"')),
    ).to.equal(true, reasons.join("\n"));
    expect(reasons.some((r) => r.includes("res/index/big"))).to.equal(true, reasons.join("\n"));
    expect(await b.host.crdt("ok")?.value()).to.equal(3);
    expect(b.host.plugins().length).to.equal(2);
    b.host.dispose();
    // Set aside, they no longer stand in the way: the next restart is clean.
    const c = await open(storage);
    expect(c.report.quarantined).to.deep.equal([]);
    expect(await c.host.crdt("ok")?.value()).to.equal(3);
    c.host.dispose();
  });
});

describe("durable host: snapshot durability", () => {
  it("writes resolve at once; flush() makes them durable; a restart has them", async () => {
    const storage = new MemoryStorage();
    const a = await open(storage, { durability: "snapshot", snapshotIntervalMs: 60_000 });
    await a.host.load(await plugin("crdt-v1"));
    const likes = await a.host.createCrdt("likes", "pn-counter");
    for (let i = 0; i < 10; i++) await likes.apply(["a", 1]);
    await a.host.flush();
    a.host.dispose();
    const b = await open(storage);
    expect(await b.host.crdt("likes")?.value()).to.equal(10);
    b.host.dispose();
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("not found");
}

/** A store whose next commits fail (with a retryable Io error) while `failNext` says so. */
function failingCommits(store: StateStore) {
  const state = { failNext: (_m: readonly { key: readonly unknown[] }[]) => false, store: store as StateStore };
  state.store = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "commit") {
        return async (batch: Parameters<StateStore["commit"]>[0]) => {
          if (state.failNext(batch.mutations)) {
            state.failNext = () => false;
            throw new PluginError(ErrorCode.Io, "injected: the store is unreachable", { retryable: true });
          }
          return target.commit(batch);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return state;
}

describe("durable host: worker-hosted plugins", () => {
  it("come back worker-hosted after a restart, with their state", async () => {
    const storage = new MemoryStorage();
    const factory = await workerFactory();
    const a = await open(storage, { workerFactory: factory });
    await a.host.load(await plugin("crdt-v1"), { isolation: "worker" });
    await a.host.load(await plugin("vector-flat-v1")); // in-thread, beside it
    const likes = await a.host.createCrdt("likes", "pn-counter");
    await Promise.all([likes.apply(["a", 4]), likes.apply(["b", -1])]);
    const docs = await a.host.createIndex("docs", "vector.flat", vectorTable(100, 8, 3));
    const q = queryTable(2, 8, 4);
    const hits = rowsOf(await docs.probe(q, 3));
    a.host.dispose();
    const b = await open(storage, { workerFactory: factory });
    const isolation = Object.fromEntries(b.host.plugins().map((p) => [p.id, p.isolation]));
    expect(isolation).to.deep.equal({ "dev.uni.crdt": "worker", "dev.uni.vector-flat": "thread" });
    expect(await b.host.crdt("likes")?.value()).to.equal(3);
    expect(
      rowsOf(await (b.host.index("docs") as NonNullable<ReturnType<typeof b.host.index>>).probe(q, 3)),
    ).to.deep.equal(hits);
    b.host.dispose();
  });
});
