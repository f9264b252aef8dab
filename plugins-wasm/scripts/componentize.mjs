// Wraps a core wasm module that implements the canonical ABI of one
// `uni:plugin` world into a component, with jco's JS API (its CLI ignores
// --world-name; see docs/abi.md).
import { fileURLToPath } from "node:url";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";

// preview2-shim >= 0.25 starts with no preopened directories, so jco's
// wasm-tools cannot read `wit/` unless we open the file system first.
_setPreopens({ "/": "/" });
const { componentEmbed, componentNew } = await import("@bytecodealliance/jco");

/** Absolute path of the repository's `wit/` folder: the single source of truth. */
export const witPath = fileURLToPath(new URL("../../wit", import.meta.url));

/**
 * @param {Uint8Array} core  core module exporting `memory`, `cabi_realloc`, `manifest`, `<iface>#<func>`…
 * @param {string} world     e.g. "index-plugin"
 * @returns {Promise<Uint8Array>} the component's bytes
 */
export async function componentize(core, world) {
  const embedded = await componentEmbed({
    binary: core,
    witPath,
    world: `uni:plugin/${world}@1.0.0`,
    stringEncoding: "utf8",
  });
  return await componentNew(embedded, []);
}
