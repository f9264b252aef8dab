/**
 * Shared pieces of the surface clients: argument checks (bad input is a typed
 * error before anything enters wasm) and result lifting that copies out once,
 * runs `cabi_post_*`, and hands a plugin's fn-error back as a value so the
 * caller can throw it *outside* the trap handler (a fn-error never poisons).
 *
 * @module
 */
import { ErrorCode, PluginCallError, PluginError } from "../errors.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";

export type CoreFn = (...args: never[]) => unknown;
export type Post = (area: number) => void;

/** Looks up a core export the validator has already checked. */
export function coreFn<T>(exports: WebAssembly.Exports, name: string): T {
  return exports[name] as T;
}

/** `cabi_post_<name>` or a no-op when the guest omits it. */
export function postFn(exports: WebAssembly.Exports, name: string): Post {
  return (exports[`cabi_post_${name}`] as Post | undefined) ?? noPost;
}
function noPost(): void {}

function badArg(g: Guest, what: string, message: string): never {
  throw new PluginError(ErrorCode.TypeCoercion, `${what}: ${message}`, { pluginId: g.pluginId });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : typeof value;
}

export function checkBytes(g: Guest, value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) badArg(g, what, `expected a Uint8Array, got ${describe(value)}`);
  return value;
}

export function checkString(g: Guest, value: unknown, what: string): string {
  if (typeof value !== "string") badArg(g, what, `expected a string, got ${describe(value)}`);
  return value;
}

export function checkU32(g: Guest, value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    badArg(g, what, `expected an integer in [0, 2^32), got ${typeof value === "number" ? value : describe(value)}`);
  }
  return value;
}

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/** A u64 as the signed i64 wasm takes. */
export function checkU64(g: Guest, value: unknown, what: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
    badArg(g, what, `expected a bigint in [0, 2^64), got ${typeof value === "bigint" ? value : describe(value)}`);
  }
  return BigInt.asIntN(64, value);
}

export function checkS64(g: Guest, value: unknown, what: string): bigint {
  if (typeof value !== "bigint" || value < S64_MIN || value > S64_MAX) {
    badArg(g, what, `expected a bigint in the s64 range, got ${typeof value === "bigint" ? value : describe(value)}`);
  }
  return value;
}

/**
 * A lent view dies when the lending call's post-return runs, right after the
 * callback returns; an async callback would read freed memory later.
 */
export function refuseAsync<T>(g: Guest, value: T, what: string): T {
  if (typeof (value as { then?: unknown } | null)?.then === "function") {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `${what}: the callback returned a promise; a lent view is only valid synchronously, inside the callback`,
      { pluginId: g.pluginId },
    );
  }
  return value;
}

// -------------------------------------------------------------- lifting; call inside the trap handler

/** `result<list<u8>, fn-error>` → bytes (copied) or the plugin's error. */
export function takeList(g: Guest, area: number, post: Post): Uint8Array | PluginCallError {
  const err = g.resultError(area);
  const out = err ?? g.copyList(area + 4);
  post(area);
  return out;
}

/** `result<string, fn-error>`. */
export function takeString(g: Guest, area: number, post: Post): string | PluginCallError {
  const err = g.resultError(area);
  const out = err ?? g.string(area + 4);
  post(area);
  return out;
}

/** `result<_, fn-error>`. */
export function takeUnit(g: Guest, area: number, post: Post): PluginCallError | undefined {
  const err = g.resultError(area);
  post(area);
  return err;
}

/** `result<own<R>, fn-error>` → the handle (already checked against the table) or the plugin's error. */
export function takeHandle(g: Guest, table: ResourceTable, area: number, post: Post): number | PluginCallError {
  const err = g.resultError(area);
  let handle = 0;
  if (!err) {
    handle = g.view().getInt32(area + 4, true);
    table.rep(handle); // throws (→ trap) if the guest returned a handle it never created
  }
  post(area);
  return err ?? handle;
}

/** A plain `list<u8>` (not a result). */
export function takePlainList(g: Guest, area: number, post: Post): Uint8Array {
  const out = g.copyList(area);
  post(area);
  return out;
}

/** A plain `list<string>`. */
export function takeStrings(g: Guest, area: number, post: Post): string[] {
  const out = g.strings(area);
  post(area);
  return out;
}

/** Calls a `() -> list<string>` export (`kinds`, `outputs`, `names`): the keys a surface implements. */
export function listNames(g: Guest, call: () => number, post: Post, what: string): string[] {
  if (!g.live) g.refuse(what);
  try {
    return takeStrings(g, call(), post);
  } catch (e) {
    throw g.trap(e, what);
  }
}

/** Drops the host's handle to a guest resource and runs the guest's destructor (unless the guest is gone). */
export function dropOwned(g: Guest, table: ResourceTable, handle: number, dtor: (rep: number) => void, what: string) {
  if (g.inImport) g.refuse("drop");
  const rep = table.remove(handle);
  if (!g.live) return;
  try {
    dtor(rep);
  } catch (e) {
    throw g.trap(e, what);
  }
}

/**
 * Calls a `persist`-shaped export (`self -> result<list<u8>, fn-error>`) and lends the bytes: `use` gets a view
 * straight into the guest's memory, valid only during the callback (post-return runs after it), so passing it to
 * another instance's `open`/`from-persisted` moves the bytes with one memcpy. `use` must not call into this
 * instance: memory growth would detach the view.
 */
export function lendPersisted<T>(
  g: Guest,
  persist: (rep: number) => number,
  post: Post,
  rep: number,
  what: string,
  use: (view: Uint8Array) => T,
): T {
  if (!g.live || rep === 0) g.refuse(what, rep === 0);
  let area = 0;
  let view: Uint8Array | undefined;
  try {
    area = persist(rep);
    const err = g.resultError(area);
    if (err) {
      post(area);
      throw err;
    }
    view = g.lendList(area + 4);
  } catch (e) {
    if (e instanceof PluginCallError) throw e;
    throw g.trap(e, what);
  }
  try {
    return refuseAsync(g, use(view as Uint8Array), `${what} (lent)`);
  } finally {
    if (g.live) {
      try {
        post(area);
      } catch (e) {
        // biome-ignore lint/correctness/noUnsafeFinally: a trap in post-return must surface and poison
        throw g.trap(e, `${what} (post-return)`);
      }
    }
  }
}
