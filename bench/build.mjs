// Bundles a benchmark entry (TypeScript) into one ESM file with rolldown: Node 20
// cannot run .ts, and the browser page needs a bundle. Output goes under
// node_modules/.cache (ignored by git) so bare imports kept external still
// resolve from the repo's node_modules.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

export const repoRoot = fileURLToPath(new URL("..", import.meta.url));
export const cacheDir = join(repoRoot, "node_modules", ".cache", "uni-bench");

/**
 * @param {string} entry path relative to the repo root
 * @param {"node" | "browser"} platform
 * @returns {Promise<string>} the bundle's absolute path
 */
export async function bundle(entry, platform) {
  const file = join(cacheDir, `${platform}-${entry.replace(/[^a-zA-Z0-9]+/g, "_")}.mjs`);
  await mkdir(dirname(file), { recursive: true });
  await build({
    input: join(repoRoot, entry),
    platform,
    // Node: keep packages external (jco, Extism and node: builtins load from node_modules at run time).
    external: platform === "node" ? (id) => /^(node:|@bytecodealliance\/|@extism\/)/.test(id) : undefined,
    logLevel: "warn",
    output: { file, format: "esm", sourcemap: true, inlineDynamicImports: true },
  });
  return file;
}
