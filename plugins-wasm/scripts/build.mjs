// `npm run build:plugins` rebuilds every sample component from source into
// plugins-wasm/dist; `npm run check:plugins` rebuilds into a scratch folder and
// fails if any byte differs from the committed components.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist", import.meta.url));
const check = process.argv.includes("--check");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7); // rust | as

const builders = [
  ["rust", () => import("./build-rust.mjs")],
  ["as", () => import("./build-as.mjs")],
].filter(([name]) => !only || only === name);

const outDir = check ? await mkdtemp(join(tmpdir(), "uni-plugins-")) : dist;
let built = [];
for (const [name, load] of builders) {
  const t0 = performance.now();
  const files = await (await load()).build(outDir);
  console.log(`${name}: built ${files.length} components in ${Math.round(performance.now() - t0)} ms`);
  built = built.concat(files);
}

if (check) {
  const committed = new Set((await readdir(dist)).filter((f) => f.endsWith(".wasm")));
  const differing = [];
  for (const file of built) {
    committed.delete(file);
    const fresh = await readFile(join(outDir, file));
    const old = await readFile(join(dist, file)).catch(() => null);
    if (!old || Buffer.compare(fresh, old) !== 0) differing.push(file);
  }
  await rm(outDir, { recursive: true, force: true });
  if (!only && committed.size) differing.push(...[...committed].map((f) => `${f} (committed, not built)`));
  if (differing.length) {
    console.error(`plugins-wasm/dist is stale; run npm run build:plugins. Differs: ${differing.join(", ")}`);
    process.exit(1);
  }
  console.log(`check:plugins: ${built.length} rebuilt components match the committed bytes`);
}
