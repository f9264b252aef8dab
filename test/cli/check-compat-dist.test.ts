// `check` and `compat` on components already committed (the samples in plugins-wasm/dist, the host fixtures),
// in-process and through the CLI, under Node and Deno; and the CLI's tables against the runtime's.
// Node only: spawns the CLI (and Deno) and reads files.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SURFACE_FUNCTIONS } from "../../src/component/abi.ts";
// @ts-expect-error: the CLI is plain ESM without type declarations
import { runCheck } from "../../cli/lib/check/run.mjs";
// @ts-expect-error: the CLI is plain ESM without type declarations
import { SURFACE_FUNCTIONS as CLI_FUNCTIONS } from "../../cli/lib/worlds.mjs";
// @ts-expect-error: the CLI is plain ESM without type declarations
import { dryRun } from "../../cli/commands/compat.mjs";
// @ts-expect-error: the CLI is plain ESM without type declarations
import { cacheDir, sharedTargetDir } from "../../cli/lib/rust-build.mjs";
import { printed, repo, run } from "./kit.ts";

const dist = (name: string) => join(repo, "plugins-wasm/dist", `${name}.wasm`);
const fixture = (name: string) => join(repo, "test/fixtures/wasm", `${name}.wasm`);
const bytes = async (file: string) => new Uint8Array(await readFile(file));
const cliPath = join(repo, "cli/uni-plugin.mjs");

interface Check {
  name: string;
  ok: boolean;
  error?: string;
}

describe("uni-plugin check on committed components", () => {
  for (const name of ["vector-flat-v2", "changelog-v2", "crdt-v2", "types-v1", "analytics-v1"]) {
    it(`passes ${name}`, async () => {
      const report = await runCheck(await bytes(dist(name)), { seed: 21, runs: 10 });
      expect(report.checks.filter((c: Check) => !c.ok)).toEqual([]);
      expect(report.checks.length).toBeGreaterThanOrEqual(4);
    }, 60_000);
  }

  it("fails a manifest that declares a kind the component does not implement, and says which", async () => {
    const r = await run(
      process.execPath,
      [cliPath, "check", fixture("host-lying-kind"), "--json", "--seed", "1"],
      repo,
    );
    expect(r.code, printed(r)).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    const manifest = report.checks.find((c: Check) => c.name === "manifest");
    expect(manifest.error).toBe(
      "the manifest does not tell the truth: it declares provides.index_kinds [ghost] that it does not implement (it implements [echo])",
    );
  });

  it("fails a component of another world (WASI imports) at the world check", async () => {
    const r = await run(process.execPath, [cliPath, "check", fixture("wasi-command")], repo);
    expect(r.code, printed(r)).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}world: wrong world: the component imports "wasi:cli\/environment@0\.2\.0"/);
  });

  it("runs under Deno too", async () => {
    const deno = join(repo, "node_modules/.bin/deno");
    const ok = await run(deno, ["run", "-A", cliPath, "check", dist("crdt-v1"), "--json", "--runs", "10"], tmpdir());
    expect(ok.code, printed(ok)).toBe(0);
    expect(JSON.parse(ok.stdout).ok).toBe(true);
    const refused = await run(
      deno,
      ["run", "-A", cliPath, "compat", dist("types-v1"), dist("types-v2-incompatible")],
      tmpdir(),
    );
    expect(refused.code, printed(refused)).toBe(1);
    expect(refused.stdout).toContain("encoding version changed from 1 to 2");
  }, 60_000);
});

describe("uni-plugin compat on committed components", () => {
  it("reports the reload a compatible v2 would get, and that the state answers the same", async () => {
    for (const [from, to, moved] of [
      ["vector-flat-v1", "vector-flat-v2", { indexes: 1, crdtStates: 0, cdcStreams: 0 }],
      ["crdt-v1", "crdt-v2", { indexes: 0, crdtStates: 8, cdcStreams: 0 }],
      ["changelog-v1", "changelog-v2", { indexes: 0, crdtStates: 0, cdcStreams: 1 }],
      ["analytics-v1", "analytics-v2", { indexes: 0, crdtStates: 4, cdcStreams: 0 }],
    ] as const) {
      const { report, changes, problems } = await dryRun(await bytes(dist(from)), await bytes(dist(to)), { seed: 4 });
      expect(report.ok, `${from} → ${to}: ${report.reason}`).toBe(true);
      expect(report.moved).toMatchObject(moved);
      expect(report.steps.every((s: { ok: boolean }) => s.ok)).toBe(true);
      expect(changes).toEqual([]);
      expect(problems).toEqual([]);
    }
  }, 60_000);

  it("reports the step and the reason a reload would be refused", async () => {
    for (const [from, to, reason] of [
      ["vector-flat-v1", "vector-flat-v2-incompatible", /index "vector\.flat" is incompatible: persisted format 1/],
      ["crdt-v1", "crdt-v2-incompatible", /crdt "g-counter" is incompatible/],
      [
        "types-v1",
        "types-v2-incompatible",
        /logical type "geo\.point" is incompatible: encoding version changed from 1 to 2/,
      ],
    ] as const) {
      const { report } = await dryRun(await bytes(dist(from)), await bytes(dist(to)), { seed: 4 });
      expect(report.ok).toBe(false);
      expect(report.failedStep).toBe("check-compat");
      expect(report.reason).toMatch(reason);
    }
  }, 60_000);

  it("saves the state it used, and replays a reload from a saved state folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "uni-state-"));
    try {
      const first = await run(
        process.execPath,
        [cliPath, "compat", dist("crdt-v1"), dist("crdt-v2"), "--save-state", dir],
        repo,
      );
      expect(first.code, printed(first)).toBe(0);
      const saved = JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
      expect(saved.crdts).toHaveLength(8);
      const again = await run(
        process.execPath,
        [cliPath, "compat", dist("crdt-v1"), dist("crdt-v2"), "--state", dir, "--json"],
        repo,
      );
      expect(again.code, printed(again)).toBe(0);
      const out = JSON.parse(again.stdout);
      expect(out.report.moved.crdtStates).toBe(8);
      expect(out.state).toEqual([`state from ${dir}`]);
      // The incompatible version refuses the same saved state.
      const refused = await run(
        process.execPath,
        [cliPath, "compat", dist("crdt-v1"), dist("crdt-v2-incompatible"), "--state", dir],
        repo,
      );
      expect(refused.code, printed(refused)).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("the CLI's view of the ABI", () => {
  it("lists the same core functions per surface as the runtime (src/component/abi.ts)", () => {
    for (const [surface, functions] of Object.entries(SURFACE_FUNCTIONS)) {
      expect([...CLI_FUNCTIONS[surface]].sort(), surface).toEqual(Object.keys(functions).sort());
    }
    expect(Object.keys(CLI_FUNCTIONS).sort()).toEqual(Object.keys(SURFACE_FUNCTIONS).sort());
  });

  it("shares one cargo target folder under the user's cache unless told otherwise", () => {
    expect(sharedTargetDir({ HOME: "/h" })).toMatch(/\/\.cache\/uni-plugin\/cargo-target$/);
    expect(sharedTargetDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/uni-plugin/cargo-target");
    expect(cacheDir({ XDG_CACHE_HOME: "/xdg", UNI_PLUGIN_CACHE_DIR: "/mine" })).toBe("/mine");
    expect(sharedTargetDir({ XDG_CACHE_HOME: "/xdg", CARGO_TARGET_DIR: "/t" })).toBe("/t");
  });

  it("new refuses a surface the language's SDK does not have, listing what it has", async () => {
    const r = await run(
      process.execPath,
      [cliPath, "new", join(tmpdir(), "never"), "--surface", "crdt", "--lang", "rust", "--id", "dev.x.y"],
      repo,
    );
    expect(r.code, printed(r)).toBe(1);
    expect(r.stderr).toContain("error: the rust SDK has no crdt template");
    expect(r.stderr).toContain("--surface crdt --lang assemblyscript");
  });
});
