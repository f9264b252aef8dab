// The whole path a new author takes, with a real `npm install` (from the npm registry or its cache): the package
// as `npm pack` makes it, `uni-plugin new` installing the project's dependencies itself, then the project's own
// `npm test` and `npm run check`. The other CLI tests link this checkout's node_modules instead, which cannot show
// how npm lays out a fresh install (it hoists other versions of jco's dependencies, for one).
// Node only: spawns npm.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, installKit, type Kit, printed, repo, run } from "./kit.ts";

let kit: Kit;
let packed: string;
beforeAll(async () => {
  kit = await installKit();
  const dir = await mkdtemp(join(tmpdir(), "uni-pack-"));
  const r = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], repo);
  if (r.code !== 0) throw new Error(printed(r));
  packed = join(dir, (await readdir(dir)).find((f) => f.endsWith(".tgz")) as string);
}, 120_000);
afterAll(async () => {
  await kit?.dispose();
  if (packed) await rm(join(packed, ".."), { recursive: true, force: true });
});

describe("a project from the packed package, installed by npm", () => {
  it("installs, builds, passes its own tests and check", async () => {
    const created = await cli(kit, [
      "new",
      "fresh",
      "--surface",
      "crdt",
      "--lang",
      "assemblyscript",
      "--id",
      "dev.test.fresh",
      "--runtime",
      `file:${packed}`,
    ]);
    expect(created.code, printed(created)).toBe(0);
    const project = join(kit.root, "fresh");
    expect((await readdir(join(project, "node_modules", "uni-plugin-runtime"))).sort()).toContain("cli");
    const tested = await run("npm", ["test"], project);
    expect(tested.code, printed(tested)).toBe(0);
    expect(tested.stdout).toMatch(/# pass 3\b/);
    const checked = await run("npm", ["run", "check"], project);
    expect(checked.code, printed(checked)).toBe(0);
    expect(checked.stdout).toContain("all 4 checks passed");
  }, 480_000);
});
