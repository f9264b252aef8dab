/**
 * `ComponentModule`: a validated, compiled `uni:plugin@1.0.0` component,
 * ready to instantiate any number of times. Compiles are cached by SHA-256
 * of the bytes plus the memory ceiling, so loading the same bytes again
 * compiles nothing.
 *
 * @module
 */
import { sameBytes } from "../bytes.ts";
import { ErrorCode, LoadError } from "../errors.ts";
import { type CoreModuleSummary, readComponent, readCoreModule, withMemoryCeiling } from "./binary.ts";
import { DEFAULT_MEMORY_PAGES_CEILING, type CompileOptions, type HostImportName, type SurfaceName } from "./types.ts";
import { validateComponentNames, validateCoreModule } from "./validate.ts";

/** How many compiled modules the cache keeps (oldest evicted first). */
const CACHE_LIMIT = 64;
const cache = new Map<string, Promise<ComponentModule>>();
let compileCount = 0;

export class ComponentModule {
  /** @internal Use {@link ComponentModule.compile}. */
  constructor(
    /** Lowercase hex SHA-256 of the component bytes. */
    readonly hash: string,
    /** The compiled main core module (memory limits already capped). */
    readonly module: WebAssembly.Module,
    /** Surfaces the component exports. */
    readonly surfaces: ReadonlySet<SurfaceName>,
    /** Host imports the core module needs (`host-log`, `cdc-sink`). */
    readonly requiredImports: ReadonlySet<HostImportName>,
    /** The host ceiling this module was compiled under, in 64 KiB pages. */
    readonly memoryPagesCeiling: number,
    /** Initial and (capped) maximum memory size in pages. */
    readonly memoryPages: { readonly initial: number; readonly maximum: number },
    /** Core export names (to know which optional `cabi_post_*` exist). */
    readonly coreExports: ReadonlySet<string>,
    /** Component-level import and export names, as read from the binary. */
    readonly componentImports: readonly string[],
    readonly componentExports: readonly string[],
  ) {}

  /** Alias of {@link requiredImports}. */
  get imports(): ReadonlySet<HostImportName> {
    return this.requiredImports;
  }

  /**
   * Validates and compiles component bytes. Throws `LoadError` with
   * `InvalidComponent`, `WrongWorld` or `ResourceLimit`.
   */
  static async compile(bytes: Uint8Array, options: CompileOptions = {}): Promise<ComponentModule> {
    if (!(bytes instanceof Uint8Array)) {
      throw new LoadError(
        ErrorCode.InvalidComponent,
        "invalid component: expected the component's bytes as a Uint8Array",
      );
    }
    // crypto.subtle and WebAssembly.compile refuse views of a SharedArrayBuffer: take a private copy.
    if (!(bytes.buffer instanceof ArrayBuffer)) bytes = bytes.slice();
    const ceiling = options.memoryPagesCeiling ?? DEFAULT_MEMORY_PAGES_CEILING;
    if (!Number.isInteger(ceiling) || ceiling < 1 || ceiling > 65536) {
      throw new LoadError(
        ErrorCode.ResourceLimit,
        `memoryPagesCeiling must be an integer in [1, 65536], got ${ceiling}`,
      );
    }
    const hash = await contentHash(bytes);
    const key = `${hash}:${ceiling}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key); // re-insert: most recently used last
      cache.set(key, hit);
      return hit;
    }
    const pending = compileUncached(bytes, hash, ceiling);
    cache.set(key, pending);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    // A failed compile is not cached: the same bytes fail the same way, but cheaply and without pinning memory.
    pending.catch(() => cache.delete(key));
    return pending;
  }

  /** How many real compiles ran in this process (cache misses), for tests and diagnostics. */
  static get compileCount(): number {
    return compileCount;
  }

  /** Forgets every cached compile. */
  static clearCache(): void {
    cache.clear();
    seen.clear();
  }
}

async function compileUncached(bytes: Uint8Array, hash: string, ceiling: number): Promise<ComponentModule> {
  const component = readComponent(bytes);
  const surfaces = validateComponentNames(component);
  const main = findMainModule(component.coreModules);
  const required = validateCoreModule(main.summary, surfaces);
  const memory = checkMemory(main.summary, ceiling);
  const capped = withMemoryCeiling(main.bytes, main.summary, ceiling);
  let module: WebAssembly.Module;
  try {
    compileCount++;
    module = await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LoadError(ErrorCode.InvalidComponent, `invalid component: its core module does not compile: ${reason}`, {
      cause: err,
    });
  }
  return new ComponentModule(
    hash,
    module,
    surfaces,
    required,
    ceiling,
    memory,
    new Set(main.summary.exports.map((e) => e.name)),
    component.imports,
    component.exports,
  );
}

/** The main module is the one exporting `memory`, `cabi_realloc` and `manifest`; the rest are wit-component shims. */
function findMainModule(modules: Uint8Array[]): { bytes: Uint8Array; summary: CoreModuleSummary } {
  for (const bytes of modules) {
    const summary = readCoreModule(bytes);
    const names = new Set(summary.exports.map((e) => e.name));
    if (names.has("memory") && names.has("cabi_realloc") && names.has("manifest")) return { bytes, summary };
  }
  throw new LoadError(
    ErrorCode.WrongWorld,
    `wrong world: none of the component's ${modules.length} core module(s) exports memory + cabi_realloc + manifest, so it is not a uni:plugin@1.0.0 component built per docs/abi.md`,
  );
}

function checkMemory(summary: CoreModuleSummary, ceiling: number): { initial: number; maximum: number } {
  if (summary.imports.some((i) => i.kind === "memory")) {
    throw new LoadError(
      ErrorCode.WrongWorld,
      "wrong world: the core module imports its memory; it must define and export it",
    );
  }
  const [memory, ...more] = summary.memories;
  if (!memory || more.length > 0) {
    throw new LoadError(
      ErrorCode.InvalidComponent,
      `invalid component: the core module must define exactly one memory, it defines ${summary.memories.length}`,
    );
  }
  if (memory.memory64 || memory.shared) {
    throw new LoadError(
      ErrorCode.InvalidComponent,
      `invalid component: the memory must be 32-bit and unshared (it is ${memory.memory64 ? "64-bit" : "shared"})`,
    );
  }
  if (memory.min > ceiling) {
    throw new LoadError(
      ErrorCode.ResourceLimit,
      `the module's initial memory (${memory.min} pages) exceeds the host ceiling of ${ceiling} pages`,
    );
  }
  return { initial: memory.min, maximum: Math.min(memory.max ?? ceiling, ceiling) };
}

/**
 * Bytes already hashed, by a cheap fingerprint, so loading the same component again (every reload to a cached
 * version) skips SHA-256 — a quarter of a warm load. A hit still compares every byte with the copy kept here,
 * so the fingerprint only finds candidates: the answer is always the SHA-256 of exactly these bytes.
 */
const seen = new Map<string, { bytes: Uint8Array; hash: string }>();

async function contentHash(bytes: Uint8Array): Promise<string> {
  const print = fingerprint(bytes);
  const known = seen.get(print);
  if (known && sameBytes(known.bytes, bytes)) return known.hash;
  const hash = await sha256Hex(bytes);
  seen.set(print, { bytes: bytes.slice(), hash });
  if (seen.size > CACHE_LIMIT) seen.delete(seen.keys().next().value as string);
  return hash;
}

/** Length plus a sample of 64 words spread over the bytes: cheap, and only ever a candidate key. */
function fingerprint(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  const step = Math.max(1, Math.floor(bytes.length / 64));
  for (let i = 0; i < bytes.length; i += step) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}
