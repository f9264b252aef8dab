/**
 * Loads a built component through jco's in-process `transpile` API, until the
 * project's own host lands. Each call to {@link instantiateComponent} gives an
 * independent instance (its own linear memory), like two plugin versions
 * living side by side during a hot reload.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";

// preview2-shim >= 0.25 starts with no preopened directories; jco's own wasm
// tooling needs one before it is imported. (The package's types describe its
// browser build; under Node the call takes host paths.)
(_setPreopens as unknown as (preopens: Record<string, string>) => void)({ "/": "/" });
const { transpile } = await import("@bytecodealliance/jco");

/** plugins-wasm/dist, where the committed components live. */
export const distDir = fileURLToPath(new URL("../../../plugins-wasm/dist", import.meta.url));

/** `record fn-error` as jco surfaces it. */
export interface FnErrorPayload {
  code: number;
  message: string;
  retryable: boolean;
}

interface Transpiled {
  instantiate: (
    getCoreModule: (path: string) => Promise<WebAssembly.Module>,
    imports: Record<string, unknown>,
  ) => Promise<Record<string, unknown>>;
  modules: Map<string, WebAssembly.Module>;
}

const cache = new Map<string, Promise<Transpiled>>();

async function transpileFile(file: string): Promise<Transpiled> {
  const bytes = await readFile(isAbsolute(file) ? file : join(distDir, file));
  const name = (file.split("/").pop() ?? file).replace(/\.wasm$/, "").replace(/[^a-zA-Z0-9]/g, "_");
  const { files } = (await transpile(bytes, {
    name,
    instantiation: "async",
    noTypescript: true,
    quiet: true,
  })) as { files: Record<string, Uint8Array> | [string, Uint8Array][] };
  const entries: [string, Uint8Array][] = Array.isArray(files) ? files : Object.entries(files);
  const dir = await mkdtemp(join(tmpdir(), `jco-${name}-`));
  const modules = new Map<string, WebAssembly.Module>();
  for (const [path, content] of entries) {
    if (path.endsWith(".wasm")) modules.set(path, await WebAssembly.compile(content as Uint8Array<ArrayBuffer>));
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  const module = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as Pick<Transpiled, "instantiate">;
  return { instantiate: module.instantiate, modules };
}

/**
 * A fresh instance of `plugins-wasm/dist/<file>` (or of an absolute path);
 * `imports` maps WIT import
 * names (e.g. `uni:plugin/host-log`) to implementations.
 */
export async function instantiateComponent<T>(file: string, imports: Record<string, unknown>): Promise<T> {
  let pending = cache.get(file);
  if (!pending) {
    pending = transpileFile(file);
    cache.set(file, pending);
  }
  const { instantiate, modules } = await pending;
  const getCoreModule = async (path: string): Promise<WebAssembly.Module> => {
    const module = modules.get(path);
    if (!module) throw new Error(`transpiled ${file} has no core module ${path}`);
    return module;
  };
  return (await instantiate(getCoreModule, imports)) as T;
}

/** A log line the component sent through `uni:plugin/host-log`. */
export interface LogLine {
  level: string;
  message: string;
}

/** A host-log import that records what it is given. */
export function recordingHostLog(lines: LogLine[] = []): { log: (level: string, message: string) => void } {
  return { log: (level, message) => void lines.push({ level, message }) };
}

/**
 * Runs `call`, which must fail with a `fn-error`; returns the error record.
 * Anything else (success, a trap, a plain Error) fails the test with a
 * message that says what happened instead.
 */
export function fnErrorOf(call: () => unknown): FnErrorPayload {
  let result: unknown;
  try {
    result = call();
  } catch (err) {
    const payload = (err as { payload?: unknown }).payload;
    if (payload && typeof payload === "object" && "code" in payload && "message" in payload)
      return payload as FnErrorPayload;
    throw new Error(`expected a fn-error, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  throw new Error(`expected a fn-error, but the call returned ${String(result)}`);
}
