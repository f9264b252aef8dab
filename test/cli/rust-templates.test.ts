// The Rust templates end to end, as an author uses them: scaffold outside this repository, `npm test` (build +
// the template's own tests), `uni-plugin check`, an edit to v2, `uni-plugin compat` v1 → v2; and `check` /
// `build` failing clearly on deliberately broken variants. Node only: spawns npm, cargo and the CLI.
// Needs Debian's rustc-web (apt-get install rustc-web cargo-web rust-web-src lld). The builds share the samples'
// cargo target folder (see kit.ts), so std is not rebuilt when check:plugins ran first.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, edit, installKit, type Kit, printed, repo, run, variant } from "./kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await installKit();
});
afterAll(async () => {
  await kit?.dispose();
});

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

async function checkJson(project: string, ...args: string[]) {
  const r = await cli(kit, ["check", "--json", "--seed", "7", ...args], project);
  return {
    r,
    report: JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean; error?: string }[] },
  };
}

describe("rust index template", () => {
  let project: string;

  it("scaffolds a standalone project that builds, passes its own tests and check", async () => {
    const created = await cli(kit, [
      "new",
      "nearest",
      "--surface",
      "index",
      "--lang",
      "rust",
      "--id",
      "dev.test.nearest",
      "--skip-install",
    ]);
    expect(created.code, printed(created)).toBe(0);
    project = join(kit.root, "nearest");
    for (const file of await filesOf(project)) {
      expect(await readFile(file, "utf8"), `${file} must not point into the checkout`).not.toContain(repo);
    }
    const tested = await run("npm", ["test"], project);
    expect(tested.code, printed(tested)).toBe(0);
    expect(tested.stdout).toMatch(/# pass 3\b/);
    const { r, report } = await checkJson(project);
    expect(r.code, printed(r)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(["world", "manifest", "index nearest", "time budget"]);
  }, 600_000);

  it("edited to v2 (persisted format 2, still reading 1) hot-reloads from v1 in a dry run", async () => {
    const v2 = await variant(project, "nearest-v2");
    await edit(join(v2, "manifest.json"), '"version": "1.0.0"', '"version": "2.0.0"');
    await edit(join(v2, "src/lib.rs"), "const FORMAT: u32 = 1;", "const FORMAT: u32 = 2;");
    const built = await cli(kit, ["build", "--quiet"], v2);
    expect(built.code, printed(built)).toBe(0);
    const r = await cli(
      kit,
      ["compat", join(project, "build/nearest-1.0.0.wasm"), "build/nearest-2.0.0.wasm", "--json"],
      v2,
    );
    expect(r.code, printed(r)).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.report.steps.map((s: { step: string }) => s.step)).toEqual([
      "validate",
      "instantiate",
      "check-manifest",
      "check-compat",
      "quiesce",
      "handoff",
      "commit",
      "retire",
    ]);
    expect(out.report.moved.indexes).toBe(1);
    expect(out.changes).toEqual([]);
    // And the other way round: v1 cannot read format 2, so the reload is refused before anything changes.
    const back = await cli(kit, ["compat", "build/nearest-2.0.0.wasm", join(project, "build/nearest-1.0.0.wasm")], v2);
    expect(back.code, printed(back)).toBe(1);
    expect(back.stdout).toMatch(
      /REFUSED at check-compat: index "nearest" is incompatible: .*persisted format 2 is newer than this version reads/,
    );
  }, 300_000);

  it("check fails, saying so, when persist drops a row", async () => {
    const broken = await variant(project, "nearest-drops");
    await edit(
      join(broken, "src/lib.rs"),
      "out.extend_from_slice(&(self.ids.len() as u64).to_le_bytes());\n        for (id, value) in self.ids.iter().zip(&self.values) {",
      "let kept = self.ids.len().saturating_sub(1);\n        out.extend_from_slice(&(kept as u64).to_le_bytes());\n        for (id, value) in self.ids.iter().zip(&self.values).take(kept) {",
    );
    const built = await cli(kit, ["build", "--quiet"], broken);
    expect(built.code, printed(built)).toBe(0);
    const { r, report } = await checkJson(broken);
    expect(r.code, printed(r)).toBe(1);
    const failed = report.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(["index nearest"]);
    expect(failed[0]?.error).toMatch(/after persist → open .* the same queries answer differently/);
  }, 300_000);

  it("build names the missing export macro and the line that adds it", async () => {
    const broken = await variant(project, "nearest-no-macro");
    await edit(
      join(broken, "src/lib.rs"),
      'uni_plugin_sdk::export_index_plugin!(Provider, manifest = include_str!("../manifest.json"));',
      "",
    );
    const r = await cli(kit, ["build", "--quiet"], broken);
    expect(r.code, printed(r)).toBe(1);
    expect(r.stderr).toContain("error: src/lib.rs exports none of index-plugin's functions");
    expect(r.stderr).toContain(
      'fix: add `uni_plugin_sdk::export_index_plugin!(YourProvider, manifest = include_str!("../manifest.json"));` to src/lib.rs',
    );
    expect(r.stderr).not.toMatch(/failed to find export|wasm-tools|at .*jco/);
  }, 300_000);

  it("build names the wrong world when the manifest declares another surface than the code exports", async () => {
    const broken = await variant(project, "nearest-wrong-world");
    await edit(join(broken, "manifest.json"), '"capabilities": ["index"]', '"capabilities": ["crdt"]');
    await edit(join(broken, "manifest.json"), '"index_kinds"', '"crdt_kinds"');
    const r = await cli(kit, ["build", "--quiet"], broken);
    expect(r.code, printed(r)).toBe(1);
    expect(r.stderr).toContain(
      "wrong world: manifest.json declares crdt, so the component is world crdt-plugin, but src/lib.rs exports uni:plugin/index@1.0.0",
    );
  }, 300_000);
});

describe("rust cdc template", () => {
  let project: string;

  it("scaffolds a project that builds, passes its own tests and check", async () => {
    const created = await cli(kit, [
      "new",
      "feed",
      "--surface",
      "cdc",
      "--lang",
      "rust",
      "--id",
      "dev.test.feed",
      "--skip-install",
    ]);
    expect(created.code, printed(created)).toBe(0);
    project = join(kit.root, "feed");
    const tested = await run("npm", ["test"], project);
    expect(tested.code, printed(tested)).toBe(0);
    expect(tested.stdout).toMatch(/# pass 2\b/);
    const { r, report } = await checkJson(project);
    expect(r.code, printed(r)).toBe(0);
    expect(report.checks.find((c) => c.name === "cdc feed")?.ok).toBe(true);
  }, 600_000);

  it("edited to v2 (buffering batches) hot-reloads from v1 with every LSN emitted once", async () => {
    const v2 = await variant(project, "feed-v2");
    await edit(join(v2, "manifest.json"), '"version": "1.0.0"', '"version": "2.0.0"');
    await edit(join(v2, "src/lib.rs"), "const BUFFER: usize = 1;", "const BUFFER: usize = 3;");
    const built = await cli(kit, ["build", "--quiet"], v2);
    expect(built.code, printed(built)).toBe(0);
    const checked = await checkJson(v2);
    expect(checked.report.ok, printed(checked.r)).toBe(true);
    const r = await cli(kit, ["compat", join(project, "build/feed-1.0.0.wasm"), "build/feed-2.0.0.wasm", "--json"], v2);
    expect(r.code, printed(r)).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.report.moved.cdcStreams).toBe(1);
    expect(out.problems).toEqual([]);
  }, 300_000);

  it("check fails, saying so, on an output that leaves an LSN gap", async () => {
    const broken = await variant(project, "feed-gap");
    await edit(
      join(broken, "src/lib.rs"),
      "for (lsn_start, lsn_end, payload) in std::mem::take(&mut self.pending) {",
      "for (lsn_start, lsn_end, payload) in std::mem::take(&mut self.pending) {\n            if lsn_start % 2 == 1 {\n                self.durable = lsn_end;\n                continue;\n            }",
    );
    const built = await cli(kit, ["build", "--quiet"], broken);
    expect(built.code, printed(built)).toBe(0);
    const { r, report } = await checkJson(broken);
    expect(r.code, printed(r)).toBe(1);
    const failed = report.checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(["cdc feed"]);
    expect(failed[0]?.error).toMatch(/LSN gap/);
  }, 300_000);
});
