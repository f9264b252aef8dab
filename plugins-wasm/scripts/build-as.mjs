// Builds the AssemblyScript sample plugins (plugins-wasm/assemblyscript) into
// components: asc -> canonical export names -> jco componentize.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { canonicalizeCore } from "./as-exports.mjs";
import { componentize } from "./componentize.mjs";

const root = fileURLToPath(new URL("../assemblyscript/", import.meta.url));

/** Output file -> [entry file relative to plugins-wasm/assemblyscript, world]. */
export const plugins = [
  ["crdt-v1.wasm", "crdt/crdt-v1.ts", "crdt-plugin"],
  ["crdt-v2.wasm", "crdt/crdt-v2.ts", "crdt-plugin"],
  ["crdt-v2-incompatible.wasm", "crdt/crdt-v2-incompatible.ts", "crdt-plugin"],
  ["types-v1.wasm", "types/types-v1.ts", "type-plugin"],
  ["types-v2.wasm", "types/types-v2.ts", "type-plugin"],
  ["types-v2-incompatible.wasm", "types/types-v2-incompatible.ts", "type-plugin"],
  ["analytics-v1.wasm", "analytics/analytics-v1.ts", "analytics-plugin"],
  ["analytics-v2.wasm", "analytics/analytics-v2.ts", "analytics-plugin"],
  ["max-register-v1.wasm", "max-register/max-register-v1.ts", "crdt-plugin"],
];

// incremental GC: live states are rooted in the SDK's rep tables, and long-lived
// states with many ops must not leak (see sdk/assemblyscript/README.md).
const ascFlags = ["-O3", "--noAssert", "--runtime", "incremental", "--use", "abort="];

/** Compiles one entry to a core module (relative paths only: nothing depends on the checkout path). */
export async function compileCore(entry) {
  let binary = null;
  const stderr = [];
  const { error } = await asc.main([entry, "--baseDir", root, "--outFile", "out.wasm", ...ascFlags], {
    stdout: { write: () => true },
    stderr: {
      write(s) {
        stderr.push(String(s));
        return true;
      },
    },
    writeFile(name, contents) {
      if (name.endsWith(".wasm")) binary = contents;
    },
  });
  if (error || !binary) throw new Error(`asc ${entry} failed: ${error?.message ?? "no output"}\n${stderr.join("")}`);
  return binary;
}

export async function build(outDir, only) {
  await mkdir(outDir, { recursive: true });
  const written = [];
  for (const [file, entry, world] of plugins) {
    if (only && !only.includes(file)) continue;
    const core = canonicalizeCore(await compileCore(entry), world);
    await writeFile(join(outDir, file), await componentize(core, world));
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
