// Checks a core module against its world before jco sees it, so every mistake is reported as what is wrong and
// the line that fixes it ("add export_index_plugin!(…)"), never as a wit-component trace.
import { CliError } from "./errors.mjs";
import { BASE_EXPORTS, interfaceName, SDK_EXPORTS, SURFACE_FUNCTIONS, surfaceOfExport, WORLDS } from "./worlds.mjs";

const RESOURCE = { index: "index-handle", cdc: "cdc-stream", crdt: "crdt-state" };

/** The core imports a world's module may have (docs/abi.md, "Imports"). */
function allowedImports(world) {
  const allowed = new Set([`${interfaceName("host-log")} log`]);
  if (world === "cdc-plugin" || world === "multi-plugin") allowed.add(`${interfaceName("cdc-sink")} emit`);
  for (const surface of WORLDS[world]) {
    const r = RESOURCE[surface];
    if (!r) continue;
    for (const op of ["new", "rep", "drop"]) allowed.add(`[export]${interfaceName(surface)} [resource-${op}]${r}`);
  }
  return allowed;
}

/**
 * @param {Uint8Array} core the core module, with canonical export names
 * @param {{ world: string, lang: "rust" | "assemblyscript", entry: string, sdkImport: string, manifestFile: string }} project
 * @throws {CliError} naming the missing or unexpected export/import and the fix
 */
export function preflight(core, project) {
  let module;
  try {
    module = new WebAssembly.Module(core);
  } catch (err) {
    throw new CliError(`the compiler's output is not a valid wasm module: ${err.message}`);
  }
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module} ${i.name}`);
  const { world, lang, entry, sdkImport, manifestFile } = project;
  const wanted = WORLDS[world];
  const fixFor = (surface) => {
    const fix = SDK_EXPORTS[lang]?.[surface];
    return fix
      ? fix(entry, sdkImport)
      : `the ${lang} SDK has no ${surface} exports; write this surface in ${lang === "rust" ? "AssemblyScript" : "Rust"}`;
  };

  // Surfaces the code exports that the manifest does not declare: the world is wrong one way or the other.
  const extra = new Set();
  for (const name of exports) {
    const surface = surfaceOfExport(name);
    if (surface && !wanted.includes(surface)) extra.add(surface);
  }
  const missingSurfaces = wanted.filter(
    (s) => !SURFACE_FUNCTIONS[s].some((fn) => exports.has(`${interfaceName(s)}#${fn}`)),
  );
  if (extra.size > 0) {
    const list = [...extra].map(interfaceName).join(", ");
    throw new CliError(
      `wrong world: ${manifestFile} declares ${wanted.join(" + ")}, so the component is world ${world}, but ${entry} exports ${list}`,
      {
        hint:
          missingSurfaces.length > 0
            ? `either declare what the code implements in ${manifestFile} ("provides"), or ${missingSurfaces.map(fixFor).join("; ")} and remove the other export`
            : `declare it in ${manifestFile} ("provides" and "capabilities"), or stop exporting it`,
      },
    );
  }
  if (missingSurfaces.length === wanted.length && !exports.has("manifest")) {
    throw new CliError(
      `${entry} exports none of ${world}'s functions (no \`manifest\`, no ${wanted.map(interfaceName).join(", ")})`,
      {
        hint: wanted.map(fixFor).join("; "),
      },
    );
  }
  for (const surface of wanted) {
    const missing = SURFACE_FUNCTIONS[surface]
      .map((fn) => `${interfaceName(surface)}#${fn}`)
      .filter((n) => !exports.has(n));
    if (missing.length > 0) {
      throw new CliError(`the core module lacks ${missing.map((n) => `\`${n}\``).join(", ")} (world ${world})`, {
        hint: fixFor(surface),
      });
    }
  }
  const missingBase = BASE_EXPORTS.filter((n) => !exports.has(n));
  if (missingBase.length > 0) {
    throw new CliError(`the core module lacks ${missingBase.map((n) => `\`${n}\``).join(", ")}`, {
      hint: fixFor(wanted[0]),
    });
  }
  const allowed = allowedImports(world);
  for (const imp of imports) {
    if (allowed.has(imp)) continue;
    const [mod, name] = imp.split(" ");
    throw new CliError(`the core module imports ${mod}.${name}, which world ${world} does not provide`, {
      hint:
        mod === "env"
          ? lang === "assemblyscript"
            ? `an AssemblyScript \`declare function\`, \`console.*\`, \`trace\` or \`Date\` needs the host's env: plugins are pure (docs/abi.md, "Imports"), so remove that call`
            : 'an `extern` block or a crate that needs the platform: plugins are pure (docs/abi.md, "Imports"), so remove it'
          : mod.startsWith("wasi")
            ? "plugins are pure and import no WASI: remove the code that reads files, clocks, randomness or the environment"
            : mod.includes("cdc-sink")
              ? `cdc-sink is linked only into CDC worlds: declare a cdc output in ${manifestFile}, or stop calling sink::emit`
              : `only ${[...allowed].join(", ")} are linked for ${world}`,
    });
  }
}
