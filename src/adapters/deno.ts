/**
 * Deno adapter: file loading for `PluginHost` (needs `--allow-read`).
 *
 * @example
 * ```ts
 * import { createDenoHost } from "./src/adapters/deno.ts";
 * const host = createDenoHost();
 * await host.load("./plugins-wasm/dist/crdt-v1.wasm");
 * ```
 *
 * @module
 */
import { type HostOptions, PluginHost } from "../host.ts";
import type { ReadFile } from "../sources.ts";

declare const Deno: { readFile(path: string | URL): Promise<Uint8Array> };

/** Reads a plugin file by path or `file:` URL. */
export const readPluginFile: ReadFile = (path) => Deno.readFile(path);

/** A `PluginHost` that can also load plugins from file paths. */
export function createDenoHost(options: HostOptions = {}): PluginHost {
  return new PluginHost({ readFile: readPluginFile, ...options });
}
