/**
 * One typed call path for every surface function, in the spirit of wasmtime's
 * `TypedFunc`: bound once per instance from its entry in `component/abi.ts`,
 * it checks the arguments (bad input is a typed error before anything enters
 * wasm), refuses calls on a poisoned/disposed instance or a dropped handle,
 * lowers the arguments into guest memory (one copy each), calls the core
 * export, lifts the result (one copy out), runs `cabi_post_*`, turns anything
 * escaping wasm into a trap that poisons the instance, and throws a plugin's
 * own `fn-error` *outside* the trap handler (a fn-error never poisons).
 *
 * Hot-path rules (call overhead is benchmarked against a raw core call): no
 * closures or arrays allocated per call, kinds switched on as small integers,
 * and short entry points for the commonest shapes (`call0`, `callSelf`,
 * `callSelfBytes`) so V8 inlines the whole path; `call` is the general case.
 *
 * @module
 */
import {
  coreExportName,
  type FnSpec,
  type ParamKind,
  type ResultKind,
  SURFACE_SPECS,
  type SurfaceFn,
  usesReturnArea,
} from "../component/abi.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import type { SurfaceName } from "../component/types.ts";
import { ErrorCode, PluginCallError, PluginError } from "../errors.ts";

/** Param kinds as small integers: switching on them is cheaper than on strings. */
const SELF = 0;
const STRING = 1;
const BYTES = 2;
const U32 = 3;
const U64 = 4;
const S64 = 5;
const OPTION_U64 = 6;
const PARAM_CODE: Record<ParamKind, number> = {
  self: SELF,
  string: STRING,
  bytes: BYTES,
  u32: U32,
  u64: U64,
  s64: S64,
  "option<u64>": OPTION_U64,
};

/** Result kinds as small integers, for the same reason. */
const R_LIST = 0;
const R_UNIT = 1;
const R_BOOL = 2;
const R_STRING = 3;
const R_OWN = 4;
const R_U64 = 5;
const R_STRINGS = 6;
const R_BYTES = 7;
const R_NONE = 8;
const RESULT_CODE: Record<ResultKind, number> = {
  list: R_LIST,
  unit: R_UNIT,
  bool: R_BOOL,
  string: R_STRING,
  own: R_OWN,
  u64: R_U64,
  strings: R_STRINGS,
  bytes: R_BYTES,
  none: R_NONE,
};

type Core = (...args: never[]) => unknown;
type Post = (area: number) => void;
function noPost(): void {}

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/** What error messages call a function: `index.build`, `index-handle.probe`, `index-handle drop`. */
export function callName(surface: SurfaceName, fnName: string): string {
  if (fnName.startsWith("[method]")) return fnName.slice("[method]".length);
  if (fnName.startsWith("[dtor]")) return `${fnName.slice("[dtor]".length)} drop`;
  return `${surface}.${fnName}`;
}

/**
 * A bound surface function. `call(a, b, …)` takes the WIT parameters in order (`self` as the resource's rep,
 * 0 once dropped); the result is lifted per the spec. `call0()`, `callSelf(rep)` and `callSelfBytes(rep, bytes)`
 * are the same call for functions of exactly those parameters. A `list` result can instead be lent with
 * {@link lend}.
 *
 * # Errors
 * - `PluginError(TypeCoercion)` for a badly typed argument (nothing entered wasm);
 * - `PluginError(StaleHandle)` for a dropped handle, `TrapError(Poisoned)` / `PluginError(Disposed)` for a
 *   poisoned / disposed instance, `PluginError(Forbidden)` from inside one of the instance's own host imports;
 * - `TrapError(Trap)` when wasm traps or breaks the ABI (the instance is poisoned);
 * - `PluginCallError` with the plugin's own code when it returns a `fn-error`.
 */
export class TypedFunc<R> {
  /** The name used in messages, e.g. `index-handle.probe`. */
  readonly what: string;
  // Assigned once, never redeclared as class fields, so V8 keeps the shapes stable.
  declare private readonly g: Guest;
  declare private readonly core: Core;
  declare private readonly post: Post;
  declare private readonly kinds: readonly number[];
  declare private readonly labels: readonly string[];
  /** The result kind as one of the R_* codes. */
  declare private readonly result: number;
  declare private readonly table: ResourceTable | undefined;
  declare private readonly hasSelf: boolean;
  /** Flattened core arguments; holds only numbers and bigints (pointers, lengths, scalars), never inputs. */
  declare private readonly flat: (number | bigint)[];

  constructor(
    g: Guest,
    exports: WebAssembly.Exports,
    surface: SurfaceName,
    fnName: string,
    spec: FnSpec,
    table?: ResourceTable,
  ) {
    const exportName = coreExportName(surface, fnName);
    this.what = callName(surface, fnName);
    this.g = g;
    this.core = exports[exportName] as Core;
    this.post = usesReturnArea(spec) ? ((exports[`cabi_post_${exportName}`] as Post | undefined) ?? noPost) : noPost;
    const names = Object.keys(spec.params);
    this.kinds = names.map((n) => PARAM_CODE[spec.params[n] as ParamKind]);
    this.labels = names.map((n) => `${this.what} ${n}`);
    this.result = RESULT_CODE[spec.result];
    this.table = table;
    this.hasSelf = this.kinds[0] === SELF;
    this.flat = [0, 0, 0, 0, 0, 0, 0, 0];
  }

  /** Calls a function of no parameters; see the class doc for the errors. */
  call0(): R {
    const g = this.g;
    if (!g.live) g.refuse(this.what);
    let out: unknown;
    try {
      out = this.lift((this.core as () => number)());
    } catch (err) {
      throw g.trap(err, this.what);
    }
    if (out instanceof PluginCallError) throw out;
    return out as R;
  }

  /** Calls a method whose only parameter is `self` (the handle's rep, 0 once dropped). */
  callSelf(rep: number): R {
    const g = this.g;
    if (!g.live || rep === 0) g.refuse(this.what, rep === 0);
    let out: unknown;
    try {
      out = this.lift((this.core as (rep: number) => number)(rep));
    } catch (err) {
      throw g.trap(err, this.what);
    }
    if (out instanceof PluginCallError) throw out;
    return out as R;
  }

  /** Calls a method taking `self` and one `list<u8>` (CRDT `apply`, `merge`). */
  callSelfBytes(rep: number, bytes: Uint8Array): R {
    const g = this.g;
    this.check(1, bytes);
    if (!g.live || rep === 0) g.refuse(this.what, rep === 0);
    let out: unknown;
    try {
      const ptr = g.writeBytes(bytes);
      out = this.lift((this.core as (rep: number, ptr: number, len: number) => number)(rep, ptr, bytes.length));
    } catch (err) {
      throw g.trap(err, this.what);
    }
    if (out instanceof PluginCallError) throw out;
    return out as R;
  }

  /** Calls a function of up to five parameters (the general case). */
  call(a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): R {
    const g = this.g;
    const n = this.kinds.length;
    if (n > 0) a = this.check(0, a);
    if (n > 1) b = this.check(1, b);
    if (n > 2) c = this.check(2, c);
    if (n > 3) d = this.check(3, d);
    if (n > 4) e = this.check(4, e);
    const dropped = this.hasSelf && a === 0;
    if (!g.live || dropped) g.refuse(this.what, dropped);
    let out: unknown;
    try {
      const f = this.flat;
      let k = 0;
      if (n > 0) k = this.lower(f, k, 0, a);
      if (n > 1) k = this.lower(f, k, 1, b);
      if (n > 2) k = this.lower(f, k, 2, c);
      if (n > 3) k = this.lower(f, k, 3, d);
      if (n > 4) k = this.lower(f, k, 4, e);
      out = this.lift(this.dispatch(f, k));
    } catch (err) {
      throw g.trap(err, this.what);
    }
    if (out instanceof PluginCallError) throw out;
    return out as R;
  }

  /**
   * Calls a `list`-result function and lends the bytes: `use` gets a view straight into the guest's memory,
   * valid only during the callback (post-return runs after it), so passing it to another instance's
   * `open`/`from-persisted` moves the bytes with one memcpy. `use` must not call into this instance (memory
   * growth would detach the view), and must not return a promise (it would read freed memory later).
   */
  lend<T>(self: number, use: (view: Uint8Array) => T): T {
    const g = this.g;
    if (!g.live || self === 0) g.refuse(this.what, self === 0);
    let area = 0;
    let view: Uint8Array | undefined;
    try {
      this.flat[0] = self;
      area = this.dispatch(this.flat, 1);
      const err = g.resultError(area);
      if (err) {
        this.post(area);
        throw err;
      }
      view = g.lendList(area + 4);
    } catch (err) {
      if (err instanceof PluginCallError) throw err;
      throw g.trap(err, this.what);
    }
    try {
      const result = use(view as Uint8Array);
      if (typeof (result as { then?: unknown } | null)?.then === "function") {
        throw new PluginError(
          ErrorCode.TypeCoercion,
          `${this.what} (lent): the callback returned a promise; a lent view is only valid synchronously, inside the callback`,
          { pluginId: g.pluginId },
        );
      }
      return result;
    } finally {
      if (g.live) {
        try {
          this.post(area);
        } catch (err) {
          // biome-ignore lint/correctness/noUnsafeFinally: a trap in post-return must surface and poison
          throw g.trap(err, `${this.what} (post-return)`);
        }
      }
    }
  }

  /**
   * For a destructor: forgets `handle` in `table`, then runs the guest's destructor on its rep — unless the
   * guest is gone (poisoned or disposed), when forgetting is all there is to do. Refused inside a host import.
   */
  dropHandle(table: ResourceTable, handle: number): void {
    const g = this.g;
    if (g.inImport) g.refuse("drop");
    const rep = table.remove(handle);
    if (g.live) this.callSelf(rep);
  }

  /** Checks one argument; strings come back UTF-8 encoded, u64s as the signed i64 wasm takes. */
  private check(i: number, v: unknown): unknown {
    switch (this.kinds[i]) {
      case SELF:
        return v;
      case STRING:
        if (typeof v !== "string") this.badArg(i, "a string", v);
        return this.g.encode(v as string);
      case BYTES:
        if (!(v instanceof Uint8Array)) this.badArg(i, "a Uint8Array", v);
        return v;
      case U32:
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          this.badArg(i, "an integer in [0, 2^32)", v);
        }
        return v;
      case U64:
        if (typeof v !== "bigint" || v < 0n || v > U64_MAX) this.badArg(i, "a bigint in [0, 2^64)", v);
        return BigInt.asIntN(64, v as bigint);
      case S64:
        if (typeof v !== "bigint" || v < S64_MIN || v > S64_MAX) this.badArg(i, "a bigint in the s64 range", v);
        return v;
      default: // OPTION_U64
        if (v === undefined) return undefined;
        if (typeof v !== "bigint" || v < 0n || v > U64_MAX) this.badArg(i, "a bigint in [0, 2^64)", v);
        return BigInt.asIntN(64, v as bigint);
    }
  }

  private badArg(i: number, expected: string, got: unknown): never {
    const shown = typeof got === "number" || typeof got === "bigint" ? String(got) : describe(got);
    throw new PluginError(ErrorCode.TypeCoercion, `${this.labels[i]}: expected ${expected}, got ${shown}`, {
      pluginId: this.g.pluginId,
    });
  }

  /** Calls the core export with the `k` flattened arguments in `f`. Runs inside the trap handler. */
  private dispatch(f: (number | bigint)[], k: number): number {
    const core = this.core as (...args: (number | bigint)[]) => number;
    switch (k) {
      case 0:
        return core();
      case 1:
        return core(f[0] as number);
      case 2:
        return core(f[0] as number, f[1] as number);
      case 3:
        return core(f[0] as number, f[1] as number, f[2] as number);
      case 4:
        return core(f[0] as number, f[1] as number, f[2] as number, f[3] as number);
      case 5:
        return core(f[0] as number, f[1] as number, f[2] as number, f[3] as number, f[4] as number);
      default:
        return core(f[0] as number, f[1] as number, f[2] as number, f[3] as number, f[4] as number, f[5] as number);
    }
  }

  private lower(f: (number | bigint)[], k: number, i: number, v: unknown): number {
    switch (this.kinds[i]) {
      case STRING:
      case BYTES: {
        const bytes = v as Uint8Array;
        f[k] = this.g.writeBytes(bytes);
        f[k + 1] = bytes.length;
        return k + 2;
      }
      case OPTION_U64:
        f[k] = v === undefined ? 0 : 1;
        f[k + 1] = v === undefined ? 0n : (v as bigint);
        return k + 2;
      default: // self, u32, u64, s64: one core value as is
        f[k] = v as number | bigint;
        return k + 1;
    }
  }

  /** Lifts the result from its return area (or the i32 itself) and runs post-return. */
  private lift(area: number): unknown {
    const g = this.g;
    switch (this.result) {
      case R_NONE:
        return undefined;
      case R_BOOL:
        return area !== 0;
      case R_LIST: {
        const err = g.resultError(area);
        const out = err ?? g.copyList(area + 4);
        this.post(area);
        return out;
      }
      case R_UNIT: {
        const err = g.resultError(area);
        this.post(area);
        return err;
      }
      case R_STRING: {
        const err = g.resultError(area);
        const out = err ?? g.string(area + 4);
        this.post(area);
        return out;
      }
      case R_OWN: {
        const err = g.resultError(area);
        let handle = 0;
        if (!err) {
          handle = g.view().getInt32(area + 4, true);
          (this.table as ResourceTable).rep(handle); // throws (→ trap) if the guest returned a handle it never created
        }
        this.post(area);
        return err ?? handle;
      }
      case R_U64: {
        // result<u64, fn-error>: 24 bytes, align 8; the payload (ok or err) starts at 8.
        const err = g.resultError(area, 8);
        const out = err ?? g.view().getBigUint64(area + 8, true);
        this.post(area);
        return out;
      }
      case R_STRINGS: {
        const out = g.strings(area);
        this.post(area);
        return out;
      }
      default: {
        // bytes: a plain list<u8>
        const out = g.copyList(area);
        this.post(area);
        return out;
      }
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : typeof value;
}

/** Every function of one surface, bound: `fns.probe.call(rep, query, k)`. */
export type SurfaceFuncs<S extends SurfaceName> = { readonly [F in SurfaceFn<S>]: TypedFunc<unknown> };

/** Binds all of a surface's functions for one instance (names and specs from `component/abi.ts`). */
export function bindSurface<S extends SurfaceName>(
  g: Guest,
  exports: WebAssembly.Exports,
  surface: S,
  table?: ResourceTable,
): SurfaceFuncs<S> {
  const out: Record<string, TypedFunc<unknown>> = {};
  for (const [name, spec] of Object.entries(SURFACE_SPECS[surface] as Record<string, FnSpec>)) {
    out[name] = new TypedFunc(g, exports, surface, name, spec, table);
  }
  return out as SurfaceFuncs<S>;
}
