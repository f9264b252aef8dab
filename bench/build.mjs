// Bundles a benchmark entry (TypeScript) into one ESM file with rolldown: Node 20
// cannot run .ts, and the browser page needs a bundle. Output goes under
// node_modules/.cache (ignored by git) so bare imports kept external still
// resolve from the repo's node_modules.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
export const cacheDir = join(repoRoot, "node_modules", ".cache", "uni-bench");

/**
 * A clean copy of the tree at git `ref` (e.g. HEAD), to benchmark committed code
 * while others' uncommitted edits are half-way in the working tree. Its
 * node_modules is a link to the repo's. It lives in the system temp dir, not
 * under node_modules: Deno refuses to run TypeScript from inside node_modules.
 * Returns the copy's root.
 * @param {string} ref
 */
export async function snapshot(ref) {
  const sha = execFileSync("git", ["rev-parse", ref], { cwd: repoRoot, encoding: "utf8" }).trim();
  const dir = join(tmpdir(), "uni-bench", `tree-${sha.slice(0, 12)}`);
  if (!existsSync(join(dir, "package.json"))) {
    await mkdir(dir, { recursive: true });
    execFileSync("sh", ["-c", `git archive ${sha} | tar -x -C "${dir}"`], { cwd: repoRoot });
    await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  }
  return dir;
}

/**
 * @param {string} entry path relative to `root`
 * @param {"node" | "browser"} platform
 * @param {string} [root] the tree to bundle from (default: the working tree)
 * @returns {Promise<string>} the bundle's absolute path
 */
export async function bundle(entry, platform, root = repoRoot) {
  const file = join(cacheDir, `${platform}-${entry.replace(/[^a-zA-Z0-9]+/g, "_")}.mjs`);
  await mkdir(dirname(file), { recursive: true });
  await build({
    input: join(root, entry),
    platform,
    // Node: keep packages external (jco, Extism, hnswlib-wasm and node: builtins load from node_modules at run time).
    external:
      platform === "node" ? (id) => /^(node:|@bytecodealliance\/|@extism\/|hnswlib-wasm(\/|$))/.test(id) : undefined,
    logLevel: "warn",
    output: { file, format: "esm", sourcemap: true, codeSplitting: false },
  });
  return file;
}
