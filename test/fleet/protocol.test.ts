// The rollout protocol's transitions as pure functions, the notifiers' wake-ups, and the records' checks.
import { describe, expect, it } from "vitest";
import { pollNotifier, watchNotifier } from "../../src/fleet/notify.ts";
import { readPlugin, readStream, writePlugin } from "../../src/fleet/records.ts";
import type { PluginRecord, Rollout, VersionRef } from "../../src/fleet/records.ts";
import * as rollout from "../../src/fleet/rollout.ts";
import type { Key } from "../../src/store/types.ts";

const v = (version: string): VersionRef => ({
  version,
  hash: `hash-${version}`,
  blob: `blob-${version}`,
  size: 1,
  readsFrom: [],
});
const base: PluginRecord = { id: "p", stable: v("1"), desired: v("1") };
const view = (alive: string[], incarnations: Record<string, string> = {}): rollout.FleetView => ({
  alive: (n) => alive.includes(n),
  incarnation: (n) => incarnations[n] ?? `${n}-1`,
  now: 1000,
});
const started = () => rollout.start(base, v("2"), { id: "r1", members: ["c", "a", "b"], canary: "b", now: 1 });

describe("rollout transitions", () => {
  it("start sets the desired version and the canary phase; another start is refused while it is active", () => {
    const r = started();
    expect(r.desired.version).to.equal("2");
    expect(r.stable.version).to.equal("1");
    expect(r.rollout).to.include({ id: "r1", phase: "canary", canary: "b" });
    expect(r.rollout?.members).to.deep.equal(["a", "b", "c"]);
    expect(() => rollout.start(r, v("3"), { id: "r2", members: ["a"], canary: "a", now: 2 })).toThrow(/still canary/);
    expect(() => rollout.start(base, v("2"), { id: "r", members: [], canary: "a", now: 2 })).toThrow(
      /no node that is up serves/,
    );
    expect(() => rollout.start(base, v("2"), { id: "r", members: ["a"], canary: "z", now: 2 })).toThrow(/not one of/);
  });

  it("only the canary's arrival opens the prepare phase; others marking early stay in the list", () => {
    const r = started();
    const early = rollout.prepared(r, "r1", "a", "a-1", 5);
    expect(early?.rollout?.phase).to.equal("canary");
    const opened = rollout.prepared(early as PluginRecord, "r1", "b", "b-1", 5);
    expect(opened?.rollout?.phase).to.equal("prepare");
    expect(opened?.rollout?.prepared.map((p) => p.node)).to.deep.equal(["a", "b"]);
    expect(rollout.prepared(opened as PluginRecord, "r1", "a", "a-1", 5)).to.equal(null); // nothing new
    expect(rollout.prepared(opened as PluginRecord, "other", "c", "c-1", 5)).to.equal(null); // another rollout's
  });

  it("commits once every live member prepared in its current incarnation; dead members are left out", () => {
    let r = rollout.prepared(started(), "r1", "b", "b-1", 5) as PluginRecord;
    r = rollout.prepared(r, "r1", "a", "a-1", 5) as PluginRecord;
    expect(rollout.decide(r, "r1", view(["a", "b", "c"]))).to.equal(null); // c has not prepared
    expect(rollout.waitingFor(r.rollout as Rollout, view(["a", "b", "c"]))).to.deep.equal(["c"]);
    // c restarted after preparing: its earlier incarnation's mark does not count.
    const cOld = rollout.prepared(r, "r1", "c", "c-0", 5) as PluginRecord;
    expect(rollout.decide(cOld, "r1", view(["a", "b", "c"]))).to.equal(null);
    const decided = rollout.decide(r, "r1", view(["a", "b"])) as PluginRecord;
    expect(decided.rollout?.phase).to.equal("committed");
    expect(decided.stable).to.deep.equal({ ...v("2"), readsFrom: ["1"] });
    expect(decided.desired).to.deep.equal(decided.stable);
    expect(rollout.revert(decided, "r1", "too late", "c", 5)).to.equal(null); // a decision stands
  });

  it("a refusal reverts an undecided rollout: desired goes back to stable", () => {
    const r = rollout.revert(started(), "r1", "c refused", "c", 7) as PluginRecord;
    expect(r.desired).to.deep.equal(base.stable);
    expect(r.rollout).to.include({ phase: "reverted", reason: "c refused", refusedBy: "c", endedAt: 7 });
    expect(rollout.isActive(r.rollout)).to.equal(false);
    expect(rollout.start(r, v("3"), { id: "r2", members: ["a"], canary: "a", now: 8 }).rollout?.phase).to.equal(
      "canary",
    );
  });

  it("a dead canary is replaced by the first live member; it is done once every live member committed", () => {
    const r = started();
    expect(rollout.reassignCanary(r, view(["a", "b", "c"]))).to.equal(null);
    expect(rollout.reassignCanary(r, view(["a", "c"]))?.rollout?.canary).to.equal("a");
    let d = rollout.prepared(r, "r1", "b", "b-1", 5) as PluginRecord;
    for (const n of ["a", "c"]) d = rollout.prepared(d, "r1", n, `${n}-1`, 5) as PluginRecord;
    d = rollout.decide(d, "r1", view(["a", "b", "c"])) as PluginRecord;
    d = rollout.committed(d, "r1", "a", view(["a", "b", "c"])) as PluginRecord;
    expect(d.rollout?.phase).to.equal("committed");
    d = rollout.committed(d, "r1", "b", view(["a", "b", "c"])) as PluginRecord;
    expect(rollout.committed(d, "r1", undefined, view(["a", "b", "c"]))).to.equal(null);
    const done = rollout.committed(d, "r1", undefined, view(["a", "b"])) as PluginRecord; // c died
    expect(done.rollout).to.include({ phase: "done", endedAt: 1000 });
  });
});

describe("notifiers", () => {
  it("poll: poke ends a pending wait at once, and a poke with none pending makes the next wait return at once", async () => {
    const w = pollNotifier({ minMs: 60_000, maxMs: 60_000 }).waker([]);
    const waiting = w.next(false);
    w.poke();
    await waiting;
    w.poke();
    await w.next(false);
    w.close();
    await w.next(false); // closed: returns at once
  });

  it("watch: a change event ends the wait; the feed watches the keys in groups of at most 10", async () => {
    const watched: Key[][] = [];
    const fire: (() => void)[] = [];
    let stopped = 0;
    const notifier = watchNotifier(
      {
        watch(keys, onChange) {
          watched.push([...keys]);
          fire.push(onChange);
          return () => {
            stopped++;
          };
        },
      },
      { fallbackMs: 60_000 },
    );
    const keys = Array.from({ length: 12 }, (_, i) => ["k", i]);
    const w = notifier.waker(keys);
    expect(watched.map((k) => k.length)).to.deep.equal([10, 2]);
    const waiting = w.next(false);
    fire[1]?.();
    await waiting;
    w.close();
    expect(stopped).to.equal(2);
  });
});

describe("fleet records", () => {
  it("read back what was written, and refuse damaged or mislabelled ones with Corrupt", () => {
    const rec = started();
    const key = ["fleet", "default", "plugin", "p"];
    expect(readPlugin(key, writePlugin(rec))).to.deep.equal(rec);
    expect(() => readPlugin(["fleet", "default", "plugin", "q"], writePlugin(rec))).toThrow(/is p/);
    const damaged = writePlugin(rec).slice(0, 20);
    expect(() => readPlugin(key, damaged)).toThrow(expect.objectContaining({ code: 0x4e }));
    expect(() => readStream(key, writePlugin(rec))).toThrow(expect.objectContaining({ code: 0x4e }));
  });
});
