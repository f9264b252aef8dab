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
import { io } from "../store/errors.ts";
import type { StateStore } from "../store/types.ts";
import { type DenoKvLike, type DenoKvStoreOptions, denoKvStore } from "./deno-kv.ts";

declare const Deno: { readFile(path: string | URL): Promise<Uint8Array> };

/** Reads a plugin file by path or `file:` URL. */
export const readPluginFile: ReadFile = (path) => Deno.readFile(path);

/** A `PluginHost` that can also load plugins from file paths. */
export function createDenoHost(options: HostOptions = {}): PluginHost {
  return new PluginHost({ readFile: readPluginFile, ...options });
}

export { denoKvStore, type DenoKvLike, type DenoKvStoreOptions } from "./deno-kv.ts";

/**
 * Opens Deno KV at `path` (a local file, `":memory:"`, a `denokv` URL, or Deno Deploy's database when omitted) as a
 * store that closes the database when closed. Needs `--unstable-kv`, and read/write access to a local path.
 *
 * # Errors
 * `Io` when the database cannot be opened (missing flag or permission, unreadable file).
 */
export async function openDenoKvStore(path?: string, options: DenoKvStoreOptions = {}): Promise<StateStore> {
  const deno = (globalThis as unknown as { Deno: { openKv?(path?: string): Promise<DenoKvLike> } }).Deno;
  if (typeof deno.openKv !== "function")
    throw io("Deno.openKv is missing: run Deno with --unstable-kv", undefined, false);
  let kv: DenoKvLike;
  try {
    kv = await deno.openKv(path);
  } catch (err) {
    throw io(`cannot open Deno KV ${path ?? "(default)"}`, err, false);
  }
  return denoKvStore(kv, { ...options, closeKv: options.closeKv ?? true });
}
