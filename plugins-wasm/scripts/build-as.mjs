// Builds the AssemblyScript sample plugins (plugins-wasm/assemblyscript) into components the way
// `uni-plugin build` builds an author's project: each entry's `<entry>.manifest.json` is checked strictly, gives
// the world and is compiled in; asc → canonical export names → preflight → jco; then the runtime opens the
// component and the build fails if the manifest and the code disagree.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileAssemblyScript } from "../../cli/lib/as-build.mjs";
import { toComponent, verifyComponent } from "../../cli/lib/build.mjs";
import { checkManifest, worldOf } from "../../cli/lib/project.mjs";

const root = fileURLToPath(new URL("../assemblyscript/", import.meta.url));
/** The SDK as the samples import it, relative to plugins-wasm/assemblyscript. */
const sdkDir = "../sdk/assemblyscript";

/** Output file -> entry file, relative to plugins-wasm/assemblyscript; its manifest sits next to it. */
export const plugins = [
  ["crdt-v1.wasm", "crdt/crdt-v1.ts"],
  ["crdt-v2.wasm", "crdt/crdt-v2.ts"],
  ["crdt-v2-incompatible.wasm", "crdt/crdt-v2-incompatible.ts"],
  ["types-v1.wasm", "types/types-v1.ts"],
  ["types-v2.wasm", "types/types-v2.ts"],
  ["types-v2-incompatible.wasm", "types/types-v2-incompatible.ts"],
  ["analytics-v1.wasm", "analytics/analytics-v1.ts"],
  ["analytics-v2.wasm", "analytics/analytics-v2.ts"],
  ["max-register-v1.wasm", "max-register/max-register-v1.ts"],
];

/** One sample as a project (what cli/lib/project.mjs reads from an author's folder). */
async function sampleProject(entry) {
  const manifestFile = entry.replace(/\.ts$/, ".manifest.json");
  const manifestJson = await readFile(join(root, manifestFile), "utf8");
  const manifest = checkManifest(manifestJson, manifestFile);
  return {
    root,
    lang: "assemblyscript",
    entry,
    sdkDir,
    sdkImport: `../${sdkDir}`,
    manifestJson,
    manifest,
    world: worldOf(manifest, manifestFile),
    manifestFile,
  };
}

export async function build(outDir, only) {
  await mkdir(outDir, { recursive: true });
  const written = [];
  for (const [file, entry] of plugins) {
    if (only && !only.includes(file)) continue;
    const project = await sampleProject(entry);
    // Relative paths only: nothing depends on the checkout path, so the bytes are the same in every clone.
    const core = await compileAssemblyScript({ baseDir: root, entry, sdkDir, manifestJson: project.manifestJson });
    const bytes = await toComponent(core, project);
    await verifyComponent(bytes, project);
    await writeFile(join(outDir, file), bytes);
    written.push(file);
  }
  return written;
}

// `node plugins-wasm/scripts/build-as.mjs [file…]` builds just these into dist/.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const only = process.argv.slice(2);
  const dist = fileURLToPath(new URL("../dist/", import.meta.url));
  console.log(await build(dist, only.length ? only : undefined));
}
