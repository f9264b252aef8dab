// Reload lifecycle: racing reloads, stale handles, unload-then-load generations, queued calls during
// quiesce, drain timeouts with held leases, and instances released over many reloads.
import { describe, expect, it } from "#test";
import { ErrorCode, PluginHost, ReloadError, toIPC } from "../../src/mod.ts";
import type { ComponentInstance } from "../../src/component/mod.ts";
import { loadFixture } from "../support/fixtures.ts";
import { hostWith, plugin, queryTable, refused, rowsOf, vectorTable } from "./reload-util.ts";

describe("reload lifecycle", () => {
  it("two reloads racing on one handle: exactly one wins", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 2]);
    const v2 = await plugin("crdt-v2");
    const results = await Promise.allSettled([host.reload(handle, v2), host.reload(handle, v2)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won.length).to.equal(1);
    expect(lost.length).to.equal(1);
    const loser = (lost[0] as PromiseRejectedResult).reason as ReloadError;
    expect(loser).to.be.instanceOf(ReloadError);
    expect(loser.step).to.equal("validate");
    expect(await likes.value()).to.equal(2);
    expect(host.plugins().map((p) => p.generation)).to.deep.equal([handle.generation + 1]);
    host.dispose();
  });

  it("a stale handle is refused; the current one works", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const report = await host.reload(handle, await plugin("crdt-v2"));
    const err = await refused(host.reload(handle, await plugin("crdt-v2")), "validate");
    expect(err.message).to.contain("stale handle");
    expect(err.code).to.equal(ErrorCode.StaleHandle);
    // v2 cannot go back to v1 (v1 cannot read v2's format), but reloading v2 itself is fine.
    const again = await host.reload(report.to as typeof handle, await plugin("crdt-v2"));
    expect(again.to?.generation).to.equal(handle.generation + 2);
    host.dispose();
  });

  it("unload then load gives a new, higher generation; the old handle stays stale", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    await host.unload(handle);
    const fresh = await host.load(await plugin("crdt-v1"));
    expect(fresh.generation).to.be.greaterThan(handle.generation);
    const err = await refused(host.reload(handle, await plugin("crdt-v2")), "validate");
    expect(err.message).to.contain("stale handle");
    host.dispose();
  });

  it("calls made during the reload queue, then run on the new version; none fails", async () => {
    const { host, handle } = await hostWith("vector-flat-v1");
    const idx = await host.createIndex("docs", "vector.flat", vectorTable(300, 8, 21));
    const q = queryTable(2, 8, 22);
    const expected = rowsOf(await idx.probe(q, 3));
    let release = () => {};
    const paused = new Promise<void>((r) => {
      release = r;
    });
    let queued: Promise<unknown>[] = [];
    const reloading = host.reload(handle, await plugin("vector-flat-v2"), {
      beforeStep: async (step) => {
        if (step !== "handoff") return;
        // The gate is closed now: these calls must wait, not fail.
        queued = Array.from({ length: 5 }, () => idx.probe(q, 3).then(rowsOf));
        await paused;
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(host.entries.get(handle.id)?.gate.queued).to.equal(5);
    release();
    await reloading;
    const results = await Promise.all(queued);
    for (const r of results) expect(r).to.deep.equal(expected);
    expect(idx.servedBy.version).to.equal("2.0.0");
    host.dispose();
  });

  it("a lease held past the drain timeout aborts the reload: no cut-over, old keeps serving", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 4]);
    const lease = await host.lease(handle);
    const reloading = host.reload(handle, await plugin("crdt-v2"), { drainTimeoutMs: 30 });
    const applied = likes.apply(["b", 1]); // queued behind the closed gate, then served by the old version
    const err = await refused(reloading, "quiesce");
    expect(err.code).to.equal(ErrorCode.Timeout);
    expect(err.message).to.contain("drain timed out");
    await applied;
    expect(await likes.value()).to.equal(5);
    expect(likes.servedBy.version).to.equal("1.0.0");
    lease.release();
    await host.reload(handle, await plugin("crdt-v2"));
    expect(likes.servedBy.version).to.equal("2.0.0");
    expect(await likes.value()).to.equal(5);
    host.dispose();
  });

  it("a component with another plugin id is refused at check-manifest", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    await host.createCrdt("likes", "pn-counter");
    // The types plugin has another id: refused at check-manifest before anything else.
    const other = await refused(host.reload(handle, await plugin("types-v1")), "check-manifest");
    expect(other.message).to.contain("not dev.uni.crdt");
    host.dispose();
  });

  it("over many reloads every retired instance is released", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const likes = await host.createCrdt("likes", "g-counter");
    const retired = [];
    let current = handle;
    for (let i = 0; i < 40; i++) {
      await likes.apply([`r${i % 3}`, 1]);
      const before = host.entries.get(handle.id)?.current.instance;
      const report = await host.reload(current, await plugin("crdt-v2")); // v1 → v2, then v2 → v2
      current = report.to as typeof handle;
      retired.push(before);
    }
    expect(await likes.value()).to.equal(40);
    expect(retired.every((inst) => inst?.disposed && inst.memoryBytes() === 0)).to.equal(true);
    expect(
      (host.entries.get(handle.id)?.current.instance as ComponentInstance | undefined)?.liveHandles().crdt,
    ).to.equal(1);
    host.dispose();
  });
});

describe("reload: a version that drops a kind", () => {
  it("is refused at check-manifest naming the kind, unless forced; forced drops that kind's live state", async () => {
    const host = new PluginHost({ onLog: () => {} });
    const handle = await host.load(await loadFixture("reload-twin-v1"));
    // The echo fixture keeps the bytes it is built from and returns them as its schema: give it real IPC.
    const twinBytes = toIPC(vectorTable(3, 2, 31));
    const echoBytes = toIPC(vectorTable(4, 2, 32));
    const twin = await host.createIndex("t", "twin", twinBytes);
    const echo = await host.createIndex("e", "echo", echoBytes);
    const v2 = await loadFixture("reload-twin-v2");

    const err = await refused(host.reload(handle, v2), "check-manifest");
    expect(err.message).to.contain('drops index "twin"');
    expect(err.message).to.contain("force: true");
    expect(await twin.persist()).to.deep.equal(twinBytes);
    expect(host.provider("index", "twin")).to.deep.equal(handle);

    const report = await host.reload(handle, v2, { force: true });
    expect(report.to?.version).to.equal("2.0.0");
    expect(twin.dropped).to.equal(true);
    expect(host.index("t")).to.equal(undefined);
    expect(host.provider("index", "twin")).to.equal(undefined);
    expect(await echo.persist()).to.deep.equal(echoBytes); // the kept kind moved over intact
    host.dispose();
  });
});

describe("generations", () => {
  it("count the versions that served: refused loads and reloads use none up", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const first = handle.generation;
    const dup = await host.load(await plugin("crdt-v1")).catch((e: Error) => e);
    expect(dup).to.be.instanceOf(Error);
    await refused(host.reload(handle, await plugin("crdt-v2-incompatible")), "check-compat");
    const report = await host.reload(handle, await plugin("crdt-v2"));
    expect(report.to?.generation).to.equal(first + 1);
    host.dispose();
  });
});

describe("reload: resources dropped mid-reload", () => {
  it("an index dropped after check-compat opened it in the new version leaves no handle behind", async () => {
    const { host, handle } = await hostWith("vector-flat-v1");
    const idx = await host.createIndex("gone", "vector.flat", vectorTable(50, 4, 41));
    const kept = await host.createIndex("kept", "vector.flat", vectorTable(50, 4, 42));
    const report = await host.reload(handle, await plugin("vector-flat-v2"), {
      beforeStep: async (step) => {
        if (step === "quiesce") await idx.drop(); // the gate is still open: the drop runs before quiesce closes it
      },
    });
    expect(report.ok).to.equal(true);
    expect(idx.dropped).to.equal(true);
    expect(kept.servedBy.version).to.equal("2.0.0");
    expect(
      (host.entries.get(handle.id)?.current.instance as ComponentInstance | undefined)?.liveHandles().index,
    ).to.equal(1);
    host.dispose();
  });
});
