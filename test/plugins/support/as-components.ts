/**
 * Loads the committed AssemblyScript sample components through jco's
 * in-process `transpile` (until the project's own host lands) and wraps
 * their `fn-error` results into typed errors.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { loadPlugin } from "../../support/fixtures.ts";

// preview2-shim >= 0.25 starts with no preopened directories (toolchain.md):
// open the file system before jco loads.
// (its published typings disagree with its implementation across builds: call it as documented)
(_setPreopens as unknown as (preopens: Record<string, string>) => void)({ "/": "/" });
const { transpile } = await import("@bytecodealliance/jco");

/** A `fn-error` a plugin returned, as a real Error (never "[object Object]"). */
export class FnError extends Error {
  override name = "FnError";
  constructor(
    readonly code: number,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`fn-error ${code}: ${message}`);
  }
}

/** Runs `fn`; a jco ComponentError carrying a fn-error payload becomes an FnError. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const payload = (err as { payload?: { code?: unknown; message?: unknown; retryable?: unknown } }).payload;
    if (payload && typeof payload.code === "number" && typeof payload.message === "string") {
      throw new FnError(payload.code, payload.message, payload.retryable === true);
    }
    throw err;
  }
}

/** Calls `fn` and returns the FnError it must produce (fails the test on success or a trap). */
export function fnErrorOf(fn: () => unknown): FnError {
  try {
    call(fn);
  } catch (err) {
    if (err instanceof FnError) return err;
    throw new Error(`expected a fn-error, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a fn-error, but the call succeeded");
}

export interface LogLine {
  level: string;
  message: string;
}

const transpiled = new Map<string, Promise<string>>();

/** Transpiles a component once per process and returns the URL of its glue module. */
async function glueFor(name: string): Promise<string> {
  let glue = transpiled.get(name);
  if (!glue) {
    glue = (async () => {
      const bytes = await loadPlugin(name);
      const { files } = await transpile(bytes, {
        name,
        instantiation: "async",
        noTypescript: true,
        base64Cutoff: 0,
        quiet: true,
      });
      const dir = await mkdtemp(join(tmpdir(), `as-${name}-`));
      for (const [file, contents] of Object.entries(files)) {
        const path = join(dir, file);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, contents as Uint8Array);
      }
      return pathToFileURL(join(dir, `${name}.js`)).href;
    })();
    transpiled.set(name, glue);
  }
  return glue;
}

/** A fresh instance of a sample component; `logs` collects its host-log lines. */
export async function instantiateAs<T>(name: string, logs: LogLine[] = []): Promise<T> {
  const url = await glueFor(name);
  const dir = new URL(".", url);
  const mod = (await import(url)) as {
    instantiate(getCore: (f: string) => Promise<WebAssembly.Module>, imports: object): Promise<T>;
  };
  const { readFile } = await import("node:fs/promises");
  const hostLog = { log: (level: string, message: string) => logs.push({ level, message }) };
  return await mod.instantiate(async (file) => await WebAssembly.compile(await readFile(new URL(file, dir))), {
    "uni:plugin/host-log": hostLog,
    "uni:plugin/host-log@1.0.0": hostLog,
  });
}

/** The component's core module imports and exports (docs/abi.md is the contract). */
export async function coreInterface(name: string): Promise<{ imports: string[]; exports: string[] }> {
  const url = await glueFor(name);
  const { readFile } = await import("node:fs/promises");
  const core = await WebAssembly.compile(await readFile(new URL(`${name}.core.wasm`, url)));
  return {
    imports: WebAssembly.Module.imports(core).map((i) => `${i.module} ${i.name}`),
    exports: WebAssembly.Module.exports(core).map((e) => e.name),
  };
}

export interface CrdtState {
  apply(op: Uint8Array): void;
  merge(other: Uint8Array): void;
  value(): Uint8Array;
  persist(): Uint8Array;
  [Symbol.dispose]?(): void;
}

export interface CrdtPlugin {
  manifest(): string;
  crdt: {
    kinds(): string[];
    empty(kind: string): CrdtState;
    fromPersisted(kind: string, persisted: Uint8Array): CrdtState;
  };
}

export interface TypePlugin {
  manifest(): string;
  logicalType: {
    names(): string[];
    arrowType(name: string): string;
    encodingVersion(name: string): string;
    fromLiteral(name: string, literals: Uint8Array): Uint8Array;
    toDisplay(name: string, column: Uint8Array): Uint8Array;
    castTo(name: string, column: Uint8Array, target: string): Uint8Array;
    castFrom(name: string, column: Uint8Array): Uint8Array;
  };
}
