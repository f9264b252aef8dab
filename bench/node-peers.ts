/**
 * Node-only call-overhead peers: jco 1.35's transpiled glue for the same
 * component (`supports-filter` on a built index) — as shipped, and with its
 * debug logger disabled — and Extism's JS SDK calling a trivial Extism plugin
 * (test/fixtures/extism/noop.wat, built with jco `parse`).
 *
 * @module
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { toIPC } from "../src/mod.ts";
import { indexSource, randomVectors, sequentialIds } from "./core/data.ts";
import type { PeerCall } from "./core/types.ts";

type Instantiate = (
  getCoreModule: (path: string) => Promise<WebAssembly.Module>,
  imports: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

interface JcoIndex {
  build(kind: string, source: Uint8Array, options: string): { supportsFilter(): boolean };
}

/**
 * The line of jco 1.35's glue that makes every call read `process.env`: its debug logger's guard.
 * With the logger disabled the guard becomes a plain `return` (what the glue costs where there is no
 * `process`, as in browsers); the logger's argument objects are still built per call, as shipped.
 */
const DEBUG_GUARD = "if (!globalThis?.process?.env?.JCO_DEBUG) { return; }";

const transpiles = new Map<string, Promise<Record<string, Uint8Array> | [string, Uint8Array][]>>();

/** jco's transpile of one component, once per process (both glue variants start from the same output). */
function transpiled(componentPath: string) {
  let files = transpiles.get(componentPath);
  if (!files) {
    files = (async () => {
      // preview2-shim >= 0.25 starts with no preopens; jco's own tooling needs one before it loads.
      const { _setPreopens } = await import("@bytecodealliance/preview2-shim/filesystem");
      (_setPreopens as (preopens: Record<string, string>) => void)({ "/": "/" });
      const { transpile } = await import("@bytecodealliance/jco");
      const bytes = await readFile(componentPath);
      // jco 1.35's runtime takes `{ tag: "async" }` here (its typings say the bare string).
      const options = { name: "vf", instantiation: { tag: "async" }, noTypescript: true, quiet: true };
      const out = (await transpile(bytes, options as unknown as Parameters<typeof transpile>[1])) as {
        files: Record<string, Uint8Array> | [string, Uint8Array][];
      };
      return out.files;
    })();
    transpiles.set(componentPath, files);
  }
  return files;
}

export function jcoPeer(componentPath: string, options: { debugLogger: boolean }): PeerCall {
  const logger = options.debugLogger;
  return {
    id: logger ? "jco" : "jco-nolog",
    name: `jco 1.35 transpiled glue, same component and export${logger ? " (as shipped)" : ", debug logger disabled"}`,
    notes: logger
      ? "its debug logger reads process.env on every call"
      : "the glue's debug-logger guard (a process.env read per call) replaced by a plain return",
    async prepare() {
      const files = await transpiled(componentPath);
      const entries = Array.isArray(files) ? files : Object.entries(files);
      const dir = await mkdtemp(join(tmpdir(), "bench-jco-"));
      const modules = new Map<string, WebAssembly.Module>();
      for (const [path, content] of entries) {
        if (path.endsWith(".wasm")) modules.set(path, await WebAssembly.compile(content as Uint8Array<ArrayBuffer>));
        let body: Uint8Array | string = content as Uint8Array;
        if (path === "vf.js" && !logger) {
          const js = new TextDecoder().decode(body);
          if (!js.includes(DEBUG_GUARD))
            throw new Error("jco glue: its debug-logger guard was not found; cannot disable it");
          body = js.replaceAll(DEBUG_GUARD, "return;");
        }
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), body);
      }
      const glue = (await import(pathToFileURL(join(dir, "vf.js")).href)) as { instantiate: Instantiate };
      const exports = await glue.instantiate(async (p) => modules.get(p) as WebAssembly.Module, {
        "uni:plugin/host-log": { log: () => {} },
      });
      const index = exports.index as JcoIndex;
      const source = toIPC(indexSource(sequentialIds(8), randomVectors(8, 4, 1), 4));
      const handle = index.build("vector.flat", source, "{}");
      if (handle.supportsFilter() !== true) throw new Error("jco glue: supportsFilter() did not return true");
      return (n: number) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += handle.supportsFilter() ? 1 : 0;
        return s;
      };
    },
  };
}

export function extismPeer(pluginPath: string): PeerCall {
  return {
    id: "extism",
    name: "Extism JS SDK 1.0.3, trivial plugin export (async call)",
    async prepare() {
      const { default: createPlugin } = await import("@extism/extism");
      const wasm = new Uint8Array(await readFile(pluginPath));
      const plugin = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false });
      const out = await plugin.call("noop");
      if (out !== null && (out as unknown as DataView).byteLength !== 0)
        throw new Error("extism: noop returned output");
      return async (n: number) => {
        for (let i = 0; i < n; i++) await plugin.call("noop");
        return n;
      };
    },
  };
}
