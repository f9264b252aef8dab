// reload(handle, v2, { dryRun: true }) checks the new version on the live state and changes nothing (OTP's
// check_install_release); and a failed reload says truthfully what state the old version is left in.
import { describe, expect, it } from "#test";
import { ErrorCode, PluginError, PluginHost, type ReloadReport } from "../../src/mod.ts";
import type { ComponentInstance } from "../../src/component/mod.ts";
import { hostWith, plugin, queryTable, refused, rowsOf, vectorTable } from "./reload-util.ts";

describe("reload: dry run", () => {
  it("of a compatible version reports ok after check-compat and changes nothing", async () => {
    const { host, handle } = await hostWith("vector-flat-v1");
    const idx = await host.createIndex("docs", "vector.flat", vectorTable(200, 8, 31));
    const q = queryTable(3, 8, 32);
    const before = rowsOf(await idx.probe(q, 4));
    const instance = host.entries.get(handle.id)?.current.instance as ComponentInstance;

    const report: ReloadReport = await host.reload(handle, await plugin("vector-flat-v2"), { dryRun: true });

    expect(report.ok).to.equal(true);
    expect(report.dryRun).to.equal(true);
    expect(report.steps.map((s) => s.step)).to.deep.equal([
      "validate",
      "instantiate",
      "check-manifest",
      "check-compat",
    ]);
    expect(report.to).to.equal(undefined);
    expect(idx.servedBy).to.deep.equal(handle);
    expect(host.entries.get(handle.id)?.current.instance).to.equal(instance);
    expect(instance.liveHandles().index).to.equal(1);
    expect(rowsOf(await idx.probe(q, 4))).to.deep.equal(before);
    // Not stuck, and the generation was not used up: the real reload is the next one.
    const real = await host.reload(handle, await plugin("vector-flat-v2"));
    expect(real.to?.generation).to.equal(handle.generation + 1);
    expect(rowsOf(await idx.probe(q, 4))).to.deep.equal(before);
    host.dispose();
  });

  it("of an incompatible version is refused at check-compat, exactly like the real reload", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 7]);
    const err = await refused(
      host.reload(handle, await plugin("crdt-v2-incompatible"), { dryRun: true }),
      "check-compat",
    );
    expect(err.message).to.contain('crdt "pn-counter" is incompatible');
    expect(await likes.value()).to.equal(7);
    expect(likes.servedBy).to.deep.equal(handle);
    host.dispose();
  });
});

describe("reload: what a failure says about the old version", () => {
  it("a healthy old version keeps serving, and the message says so", async () => {
    const { host, handle } = await hostWith("crdt-v1");
    const err = await refused(
      host.reload(handle, await plugin("crdt-v2"), {
        beforeStep: (step) => {
          if (step === "handoff") throw new PluginError(0x1ff, "injected");
        },
      }),
      "handoff",
    );
    expect(err.message).to.contain("the old version keeps serving");
    host.dispose();
  });

  it("an old version that trapped mid-reload is named as poisoned, with the way out", async () => {
    const host = new PluginHost({ onLog: () => {}, memoryPagesCeiling: 256 });
    const handle = await host.load(await plugin("crdt-v1"));
    const likes = await host.createCrdt("likes", "pn-counter");
    await likes.apply(["a", 2]);
    const err = await refused(
      host.reload(handle, await plugin("crdt-v2"), {
        beforeStep: (step, ctx) => {
          // A real trap in the serving instance: a state bigger than its memory ceiling allows.
          if (step !== "check-compat") return;
          try {
            ctx.old.instance.crdt?.fromPersisted("pn-counter", new Uint8Array(256 * 65536 + 1));
          } catch {
            // the trap; checked below
          }
          expect(ctx.old.instance.poisoned).to.equal(true);
        },
      }),
      "check-compat",
    );
    expect(err.code).to.equal(ErrorCode.Poisoned);
    expect(err.message).not.to.contain("keeps serving");
    expect(err.message).to.contain("poisoned");
    expect(err.message).to.contain("force: true");
    const forced = await host.reload(handle, await plugin("crdt-v2"), { force: true });
    expect(forced.ok).to.equal(true);
    host.dispose();
  });
});
