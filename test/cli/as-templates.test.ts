// The AssemblyScript templates end to end, as an author uses them: scaffold outside this repository, `npm test`,
// `uni-plugin check`, an edit to v2, `uni-plugin compat` v1 → v2; and clear failures on deliberately broken
// variants (a non-commutative merge, a lying manifest, a throw, a missing re-export, the wrong world).
// Node only: spawns npm and the CLI.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PluginHost, TrapError } from "../../src/mod.ts";
import { cli, edit, installKit, type Kit, printed, run, start, variant } from "./kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await installKit();
});
afterAll(async () => {
  await kit?.dispose();
});

interface Report {
  ok: boolean;
  checks: { name: string; ok: boolean; error?: string; hint?: string }[];
}

async function checkJson(args: string[], cwd: string) {
  const r = await cli(kit, ["check", "--json", "--seed", "5", ...args], cwd);
  return { r, report: JSON.parse(r.stdout) as Report };
}

describe("assemblyscript crdt template", () => {
  let project: string;

  it("scaffolds a project that builds, passes its own tests and check (the CRDT laws)", async () => {
    const created = await cli(kit, [
      "new",
      "maxreg",
      "--surface",
      "crdt",
      "--lang",
      "assemblyscript",
      "--id",
      "dev.test.maxreg",
      "--name",
      "max-register",
      "--skip-install",
    ]);
    expect(created.code, printed(created)).toBe(0);
    project = join(kit.root, "maxreg");
    const tested = await run("npm", ["test"], project);
    expect(tested.code, printed(tested)).toBe(0);
    expect(tested.stdout).toMatch(/# pass 3\b/);
    const { r, report } = await checkJson([], project);
    expect(r.code, printed(r)).toBe(0);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ["world", true],
      ["manifest", true],
      ["crdt max-register", true],
      ["time budget", true],
    ]);
  }, 300_000);

  it("edited to v2 (persisted format 2, still reading 1) hot-reloads from v1 in a dry run", async () => {
    const v2 = await variant(project, "maxreg-v2");
    await edit(join(v2, "manifest.json"), '"version": "1.0.0"', '"version": "2.0.0"');
    await edit(join(v2, "assembly/max-register.ts"), "const FORMAT: u32 = 1;", "const FORMAT: u32 = 2;");
    const built = await cli(kit, ["build"], v2);
    expect(built.code, printed(built)).toBe(0);
    const r = await cli(kit, ["compat", join(project, "build/maxreg-1.0.0.wasm"), "build/maxreg-2.0.0.wasm"], v2);
    expect(r.code, printed(r)).toBe(0);
    expect(r.stdout).toMatch(
      /reload dev\.test\.maxreg 1\.0\.0 → 2\.0\.0: OK .* moved 0 index\(es\), 2 CRDT state\(s\)/,
    );
    expect(r.stdout).toContain("the state answers exactly as before the reload");
  }, 300_000);

  it("dev rebuilds on save and hot-reloads into its running host, printing the reload report", async () => {
    const live = await variant(project, "maxreg-dev");
    const stateDir = join(live, "saved-state");
    const dev = start(kit, ["dev", "--save-state", stateDir], live);
    try {
      await dev.waitFor(/\[dev\] watching .* save a source file to hot-reload/);
      await edit(join(live, "manifest.json"), '"version": "1.0.0"', '"version": "2.0.0"');
      await edit(join(live, "assembly/max-register.ts"), "const FORMAT: u32 = 1;", "const FORMAT: u32 = 2;");
      const out = await dev.waitFor(/now serving dev\.test\.maxreg@2\.0\.0 \(generation 2\)/);
      expect(out).toMatch(/reload dev\.test\.maxreg 1\.0\.0 → 2\.0\.0: OK .* moved 0 index\(es\), 2 CRDT state\(s\)/);
      expect(out).toMatch(/ok {3}handoff .* 2 crdt state\(s\)/);
      expect(out).toContain("the state answers as before");
      // A save that breaks the build keeps v2 serving and says why.
      await edit(join(live, "assembly/max-register.ts"), "const SIZE = 13;", "const SIZE = ;");
      await dev.waitFor(
        /\[dev\] error: asc could not compile[\s\S]*still serving dev\.test\.maxreg@2\.0\.0 \(generation \d+\)/,
      );
      const saved = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8"));
      expect(saved.crdts.map((c: { kind: string }) => c.kind)).toEqual(["max-register", "max-register"]);
    } finally {
      expect(await dev.stop()).toBe(0);
    }
    expect(dev.output()).toContain("[dev] stopped");
  }, 300_000);

  it("check fails, saying which law, on a merge that is not commutative", async () => {
    const broken = await variant(project, "maxreg-last-writer");
    await edit(
      join(broken, "assembly/max-register.ts"),
      "    if (other.has) this.raise(other.value);",
      "    this.has = other.has;\n    this.max = other.value;",
    );
    expect((await cli(kit, ["build"], broken)).code).toBe(0);
    const { r, report } = await checkJson([], broken);
    expect(r.code, printed(r)).toBe(1);
    const failed = report.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(["crdt max-register"]);
    expect(failed[0]?.error).toMatch(
      /^merge is not commutative: A⊔B has value .*, but B⊔A has .*; reproduce with --seed 5$/,
    );
  }, 300_000);

  it("refuses a lying manifest: build before anything is written, check on a component built around it", async () => {
    const liar = await variant(project, "maxreg-liar");
    await edit(
      join(liar, "manifest.json"),
      '"crdt_kinds": ["max-register"]',
      '"crdt_kinds": ["max-register", "min-register"]',
    );
    const built = await cli(kit, ["build"], liar);
    expect(built.code, printed(built)).toBe(1);
    expect(built.stderr).toContain(
      "manifest.json does not match the code: it declares provides.crdt_kinds [min-register] that it does not implement (it implements [max-register])",
    );
    // The same component made without the build's own verification (compile + componentize from the kit's library).
    const lib = pathToFileURL(join(dirname(kit.cli), "lib/")).href;
    const script = `
      import { writeFile } from "node:fs/promises";
      const { compileCore, toComponent } = await import("${lib}build.mjs");
      const { openProject } = await import("${lib}project.mjs");
      const project = await openProject(".");
      await writeFile("liar.wasm", await toComponent(await compileCore(project), project));
    `;
    const made = await run(process.execPath, ["--input-type=module", "-e", script], liar);
    expect(made.code, printed(made)).toBe(0);
    const { r, report } = await checkJson(["liar.wasm"], liar);
    expect(r.code, printed(r)).toBe(1);
    const manifest = report.checks.find((c) => c.name === "manifest");
    expect(manifest?.ok).toBe(false);
    expect(manifest?.error).toContain("declares provides.crdt_kinds [min-register] that it does not implement");
  }, 300_000);

  it("keeps an AssemblyScript throw's message: check shows it, and the host hears it before the trap", async () => {
    const thrower = await variant(project, "maxreg-throws");
    await edit(
      join(thrower, "assembly/max-register.ts"),
      "    if ((v.kind != MpKind.Uint && v.kind != MpKind.Int) || !v.isI64) {",
      '    if (v.kind == MpKind.Str) throw new Error("strings are not numbers: " + v.s);\n    if ((v.kind != MpKind.Uint && v.kind != MpKind.Int) || !v.isI64) {',
    );
    expect((await cli(kit, ["build"], thrower)).code).toBe(0);
    const { report } = await checkJson([], thrower);
    const crdt = report.checks.find((c) => c.name === "crdt max-register");
    expect(crdt?.ok).toBe(false);
    expect(crdt?.error).toMatch(
      /crdt-state\.apply trapped: .*; the plugin said: strings are not numbers: .* \(at assembly\/max-register\.ts:\d+:\d+\)/,
    );

    const logs: { level: string; message: string }[] = [];
    const host = new PluginHost({ onLog: (e) => logs.push(e) });
    await host.load(new Uint8Array(await readFile(join(thrower, "build/maxreg-1.0.0.wasm"))));
    const state = await host.createCrdt("s", "max-register");
    const err = await state.apply("seven").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrapError);
    expect(logs).toContainEqual({
      pluginId: "dev.test.maxreg",
      level: "error",
      message: expect.stringMatching(
        /^abort: strings are not numbers: seven \(at assembly\/max-register\.ts:\d+:\d+\)$/,
      ),
    });
    host.dispose();
  }, 300_000);

  it("check stops a call that never returns and names it", async () => {
    const looping = await variant(project, "maxreg-loops");
    await edit(
      join(looping, "assembly/max-register.ts"),
      "    this.raise(v.asI64);\n    return null;",
      "    let spins: i64 = 0;\n    while (v.asI64 < 0) spins++;\n    this.raise(v.asI64 + spins);\n    return null;",
    );
    expect((await cli(kit, ["build"], looping)).code).toBe(0);
    const r = await cli(kit, ["check", "--budget-ms", "100"], looping);
    expect(r.code, printed(r)).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL {2}time budget: crdt-state\.apply did not return within 2000 ms \(stopped after \d+ ms\)/,
    );
  }, 300_000);

  it("build names the missing re-export, and the wrong world, with the line that fixes it", async () => {
    const noExports = await variant(project, "maxreg-no-exports");
    await edit(join(noExports, "assembly/index.ts"), 'export * from "../sdk/crdt-exports";', "");
    const r = await cli(kit, ["build"], noExports);
    expect(r.code, printed(r)).toBe(1);
    expect(r.stderr).toContain("error: assembly/index.ts exports none of crdt-plugin's functions");
    expect(r.stderr).toContain('fix: add `export * from "../sdk/crdt-exports";` to assembly/index.ts');

    const wrongWorld = await variant(project, "maxreg-wrong-world");
    await edit(join(wrongWorld, "manifest.json"), '"capabilities": ["crdt"]', '"capabilities": ["logical-type"]');
    await edit(join(wrongWorld, "manifest.json"), '"crdt_kinds"', '"logical_types"');
    const w = await cli(kit, ["build"], wrongWorld);
    expect(w.code, printed(w)).toBe(1);
    expect(w.stderr).toContain(
      "wrong world: manifest.json declares logical-type, so the component is world type-plugin, but assembly/index.ts exports uni:plugin/crdt@1.0.0",
    );
    expect(w.stderr).toContain('add `export * from "../sdk/logical-type-exports";` to assembly/index.ts');
  }, 300_000);
});

describe("assemblyscript logical-type template", () => {
  let project: string;

  it("scaffolds a project that builds, passes its own tests and check (literal round trip)", async () => {
    const created = await cli(kit, [
      "new",
      "color",
      "--surface",
      "logical-type",
      "--lang",
      "assemblyscript",
      "--id",
      "dev.test.color",
      "--name",
      "rgb.color",
      "--skip-install",
    ]);
    expect(created.code, printed(created)).toBe(0);
    project = join(kit.root, "color");
    const tested = await run("npm", ["test"], project);
    expect(tested.code, printed(tested)).toBe(0);
    expect(tested.stdout).toMatch(/# pass 2\b/);
    const { r, report } = await checkJson([], project);
    expect(r.code, printed(r)).toBe(0);
    expect(report.checks.find((c) => c.name === "logical type rgb.color")?.ok).toBe(true);
  }, 300_000);

  it("edited to v2 (accepts #rgb too) hot-reloads from v1; a new encoding version is refused", async () => {
    const v2 = await variant(project, "color-v2");
    await edit(join(v2, "manifest.json"), '"version": "1.0.0"', '"version": "2.0.0"');
    await edit(
      join(v2, "assembly/color.ts"),
      "const ACCEPT_SHORT_FORM: bool = false;",
      "const ACCEPT_SHORT_FORM: bool = true;",
    );
    expect((await cli(kit, ["build"], v2)).code).toBe(0);
    const ok = await cli(kit, ["compat", join(project, "build/color-1.0.0.wasm"), "build/color-2.0.0.wasm"], v2);
    expect(ok.code, printed(ok)).toBe(0);
    expect(ok.stdout).toMatch(/reload dev\.test\.color 1\.0\.0 → 2\.0\.0: OK/);

    await edit(join(v2, "assembly/color.ts"), 'const ENCODING = "1";', 'const ENCODING = "2";');
    expect((await cli(kit, ["build"], v2)).code).toBe(0);
    const refused = await cli(kit, ["compat", join(project, "build/color-1.0.0.wasm"), "build/color-2.0.0.wasm"], v2);
    expect(refused.code, printed(refused)).toBe(1);
    expect(refused.stdout).toContain(
      'REFUSED at check-compat: logical type "rgb.color" is incompatible: encoding version changed from 1 to 2',
    );
  }, 300_000);
});
