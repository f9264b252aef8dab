// AssemblyScript → core module: asc with the SDK's abort handler and the project's manifest.json compiled in,
// then the export names rewritten to their canonical form (as-exports.mjs). The samples in plugins-wasm build
// through this same function.
import { readFile } from "node:fs/promises";
import { isAbsolute, join, posix } from "node:path";
import { canonicalizeCore } from "./as-exports.mjs";
import { CliError, messageOf } from "./errors.mjs";

// incremental GC: live states are rooted in the SDK's rep tables, and long-lived states with many ops must not
// leak (see plugins-wasm/sdk/assemblyscript/README.md). --noAssert drops assert(); a throw still aborts.
const ASC_FLAGS = ["-O3", "--noAssert", "--runtime", "incremental"];

let asc;
async function loadAsc() {
  if (!asc) {
    try {
      asc = (await import("assemblyscript/asc")).default;
    } catch (err) {
      throw new CliError(`cannot load the AssemblyScript compiler: ${messageOf(err)}`, {
        hint: "npm install --save-dev --save-exact assemblyscript@0.28.20",
        cause: err,
      });
    }
  }
  return asc;
}

/** The module asc reads for `<sdk>/manifest-json.ts`: the manifest as one string constant. */
export function manifestModule(manifestJson) {
  const minified = JSON.stringify(JSON.parse(manifestJson));
  return `export const MANIFEST_JSON: string = ${JSON.stringify(minified)};\n`;
}

/**
 * Compiles `entry` to a core module with canonical export names. Paths are relative to `baseDir` and never
 * reach the binary as absolute paths, so the bytes do not depend on where the project lives.
 * @param {{ baseDir: string, entry: string, sdkDir: string, manifestJson: string }} options
 *   sdkDir: the SDK folder relative to baseDir (posix separators)
 * @returns {Promise<Uint8Array>}
 * @throws {CliError} with asc's diagnostics
 */
export async function compileAssemblyScript({ baseDir, entry, sdkDir, manifestJson }) {
  const compiler = await loadAsc();
  const manifestFile = posix.normalize(posix.join(sdkDir, "manifest-json.ts"));
  const manifestSource = manifestModule(manifestJson);
  let binary = null;
  const diagnostics = [];
  const { error } = await compiler.main(
    // abort.ts is a second entry so its handler exists whatever the entry imports (even nothing of the SDK).
    [
      entry,
      `${sdkDir}/abort.ts`,
      "--baseDir",
      baseDir,
      "--outFile",
      "out.wasm",
      ...ASC_FLAGS,
      "--use",
      `abort=${sdkDir}/abort/uniAbort`,
    ],
    {
      stdout: { write: () => true },
      stderr: {
        write(s) {
          diagnostics.push(String(s));
          return true;
        },
      },
      async readFile(name, dir) {
        if (posix.normalize(name) === manifestFile) return manifestSource;
        try {
          return await readFile(isAbsolute(name) ? name : join(dir, name), "utf8");
        } catch {
          return null;
        }
      },
      writeFile(name, contents) {
        if (name.endsWith(".wasm")) binary = contents;
      },
    },
  );
  if (error || !binary) {
    const text = diagnostics.join("").trim();
    throw new CliError(`asc could not compile ${entry}${text ? `:\n${text}` : `: ${error?.message ?? "no output"}`}`, {
      hint: /abort\.ts|uniAbort/.test(text)
        ? `the SDK in ${sdkDir} lacks abort.ts: copy it from uni-plugin-runtime's plugins-wasm/sdk/assemblyscript`
        : undefined,
    });
  }
  return canonicalizeCore(binary);
}
