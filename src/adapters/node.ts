/**
 * Node adapter: file loading for `PluginHost`. The only Node-specific code.
 *
 * @example
 * ```ts
 * import { createNodeHost } from "uni-plugin-runtime/node";
 * const host = createNodeHost();
 * await host.load("./plugins-wasm/dist/crdt-v1.wasm");
 * ```
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { type HostOptions, PluginHost } from "../host.ts";
import type { ReadFile } from "../sources.ts";

/** Reads a plugin file by path or `file:` URL. */
export const readPluginFile: ReadFile = async (path) => new Uint8Array(await readFile(path));

/** A `PluginHost` that can also load plugins from file paths. */
export function createNodeHost(options: HostOptions = {}): PluginHost {
  return new PluginHost({ readFile: readPluginFile, ...options });
}

export { fileStore, openFileStore, NodeDirectory, type LogStoreOptions, type LogOpenReport } from "./node-fs.ts";
