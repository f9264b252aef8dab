// Wraps a core wasm module that implements the canonical ABI of one `uni:plugin` world into a component, with
// jco's JS API (its CLI ignores --world-name and cannot read files here; see /docs/abi.md).
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CliError, messageOf } from "./errors.mjs";

/** The package's `wit/` folder: the single source of truth for every world. */
export const witPath = fileURLToPath(new URL("../../wit", import.meta.url));

/**
 * preview2-shim >= 0.25 starts with no preopened directories, so jco's wasm-tools cannot read `wit/` unless the
 * file system is opened first. The copy that matters is the one jco's wasm-tools (in jco-transpile) loads, and an
 * install may hold several (npm nests one per dependent when another version is hoisted): open each reachable one.
 */
async function openFileSystems(jcoEntry) {
  const SHIM = "@bytecodealliance/preview2-shim/filesystem";
  const from = [import.meta.url, jcoEntry];
  try {
    from.push(createRequire(jcoEntry).resolve("@bytecodealliance/jco-transpile/wasm-tools"));
  } catch {
    // an older jco without jco-transpile: its own copy is the one
  }
  const shims = new Set();
  for (const base of from) {
    try {
      shims.add(createRequire(base).resolve(SHIM));
    } catch {
      // not reachable from there
    }
  }
  for (const shim of shims) {
    const { _setPreopens } = await import(pathToFileURL(shim).href);
    _setPreopens({ "/": "/" });
  }
}

let jco;
/** jco, loaded on first use (check and compat never need it). */
export async function loadJco() {
  if (!jco) {
    try {
      const jcoEntry = createRequire(import.meta.url).resolve("@bytecodealliance/jco");
      await openFileSystems(jcoEntry);
      jco = await import(pathToFileURL(jcoEntry).href);
    } catch (err) {
      throw new CliError(`cannot load jco (@bytecodealliance/jco): ${messageOf(err)}`, {
        hint: "npm install --save-dev --save-exact @bytecodealliance/jco@1.35.0",
        cause: err,
      });
    }
  }
  return jco;
}

/**
 * @param {Uint8Array} core  core module exporting `memory`, `cabi_realloc`, `manifest`, `<iface>#<func>`…
 * @param {string} world     e.g. "index-plugin"
 * @returns {Promise<Uint8Array>} the component's bytes
 * @throws whatever jco throws (callers that face users translate it; see build.mjs)
 */
export async function componentize(core, world) {
  const { componentEmbed, componentNew } = await loadJco();
  const embedded = await componentEmbed({
    binary: core,
    witPath,
    world: `uni:plugin/${world}@1.0.0`,
    stringEncoding: "utf8",
  });
  return await componentNew(embedded, []);
}
