// The worker scripts' build steps.
//
// `node scripts/build-worker.mjs dist` (the tail of `npm run build`): tsc copies
// `new URL("./entry.ts", import.meta.url)` into dist/worker/factory.js unchanged (it rewrites import
// specifiers only), and dist/ holds .js files: point that URL at ./entry.js.
//
// `buildNodeWorker()` (vitest's Node globalSetup): bundles src/adapters/node-worker.ts into
// dist/adapters/node-worker.js, the script the Node adapter runs in its workers, in well under a second,
// so tests run from source never start a stale worker. Packages stay external (they resolve from the
// repository's node_modules); the output is written atomically (tmp + rename).
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_URL = /new URL\((["'])\.\/entry\.ts\1, import\.meta\.url\)/g;

/** Rewrites the worker entry URL in `<dist>/worker/*.js`; returns the files changed. */
export async function rewriteEntryUrl(dist) {
  const dir = join(dist, "worker");
  const changed = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".js")) continue;
    const file = join(dir, name);
    const text = await readFile(file, "utf8");
    const next = text.replace(SOURCE_URL, 'new URL("./entry.js", import.meta.url)');
    if (next !== text) {
      await writeFile(file, next);
      changed.push(file);
    }
  }
  return changed;
}

/** Bundles the Node worker script into `outFile` (default dist/adapters/node-worker.js); returns its path. */
export async function buildNodeWorker(outFile = join(root, "dist", "adapters", "node-worker.js")) {
  const { build } = await import("rolldown");
  const tmp = `${outFile}.${process.pid}.tmp`;
  await build({
    input: join(root, "src", "adapters", "node-worker.ts"),
    platform: "node",
    external: (id) => /^node:/.test(id) || !/^[./]/.test(id), // builtins and packages load from node_modules
    logLevel: "warn",
    output: { file: tmp, format: "esm", codeSplitting: false },
  });
  await rename(tmp, outFile);
  return outFile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dist = process.argv[2] ?? join(root, "dist");
  const changed = await rewriteEntryUrl(dist);
  if (changed.length === 0) {
    console.error(`build-worker: no worker entry URL to rewrite under ${dist}/worker`);
    process.exit(1);
  }
}
