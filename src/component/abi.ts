/**
 * docs/abi.md as data: every core export and import a `uni:plugin@1.0.0`
 * module must have. Each surface function is written here once, as its WIT
 * parameters and result; the flattened core signature (`"iii>i"` = three i32
 * params, one i32 result; `I` is i64) is derived from that. The validator
 * checks modules against the signatures, and the surface clients bind their
 * typed calls ({@link ../surfaces/typed-func.ts}) from the same entries, so the
 * two cannot drift apart.
 *
 * @module
 */
import type { SurfaceName } from "./types.ts";

export const PACKAGE = "uni:plugin";
export const VERSION = "1.0.0";

/** `uni:plugin/<iface>@1.0.0` */
export function interfaceName(iface: string): string {
  return `${PACKAGE}/${iface}@${VERSION}`;
}

export const SURFACES: readonly SurfaceName[] = ["index", "cdc", "crdt", "logical-type"];

/** The resource each surface exports, if any. */
export const SURFACE_RESOURCE: Readonly<Record<SurfaceName, string | undefined>> = {
  index: "index-handle",
  cdc: "cdc-stream",
  crdt: "crdt-state",
  "logical-type": undefined,
};

/**
 * How one WIT parameter crosses: `self` is a borrowed handle of the surface's own resource (its rep);
 * `string`/`bytes` are `(ptr, len)` allocated through the callee's `cabi_realloc`; `option<u64>` is
 * `(is-some, value)`.
 */
export type ParamKind = "self" | "string" | "bytes" | "u32" | "u64" | "s64" | "option<u64>";

/**
 * How the result comes back. All but `bool` and `none` are a return-area pointer (with an optional
 * `cabi_post_<export>` to free it): `result<list<u8>, fn-error>` is `list`, `result<string, …>` is `string`,
 * `result<_, …>` is `unit`, `result<own<R>, …>` is `own`, `result<u64, …>` is `u64` (payload at 8);
 * `list<string>` is `strings` and a plain `list<u8>` is `bytes`. `bool` is the i32 itself; `none` is nothing.
 */
export type ResultKind = "list" | "string" | "unit" | "own" | "u64" | "strings" | "bytes" | "bool" | "none";

/** One surface function: its WIT parameters (name → kind, in order) and its result. */
export interface FnSpec {
  readonly params: Readonly<Record<string, ParamKind>>;
  readonly result: ResultKind;
}

const fn = (params: Record<string, ParamKind>, result: ResultKind): FnSpec => ({ params, result });

/** Per surface: function name (as after `#` in the core export) → its spec. The WIT in `wit/` is the source. */
export const SURFACE_SPECS = {
  index: {
    kinds: fn({}, "strings"),
    build: fn({ kind: "string", source: "bytes", optionsJson: "string" }, "own"),
    open: fn({ kind: "string", persisted: "bytes" }, "own"),
    "[method]index-handle.probe": fn({ self: "self", query: "bytes", k: "u32" }, "list"),
    "[method]index-handle.supports-filter": fn({ self: "self" }, "bool"),
    "[method]index-handle.probe-filtered": fn({ self: "self", query: "bytes", k: "u32", mask: "bytes" }, "list"),
    "[method]index-handle.persist": fn({ self: "self" }, "list"),
    "[method]index-handle.schema": fn({ self: "self" }, "bytes"),
    "[dtor]index-handle": fn({ self: "self" }, "none"),
  },
  cdc: {
    outputs: fn({}, "strings"),
    start: fn({ output: "string", fromLsn: "option<u64>" }, "own"),
    "[method]cdc-stream.deliver": fn(
      { self: "self", lsnStart: "u64", lsnEnd: "u64", mutations: "bytes", commitMicros: "s64" },
      "unit",
    ),
    "[method]cdc-stream.checkpoint": fn({ self: "self" }, "u64"),
    "[method]cdc-stream.shutdown": fn({ self: "self" }, "unit"),
    "[dtor]cdc-stream": fn({ self: "self" }, "none"),
  },
  crdt: {
    kinds: fn({}, "strings"),
    empty: fn({ kind: "string" }, "own"),
    "from-persisted": fn({ kind: "string", persisted: "bytes" }, "own"),
    "[method]crdt-state.apply": fn({ self: "self", op: "bytes" }, "unit"),
    "[method]crdt-state.merge": fn({ self: "self", other: "bytes" }, "unit"),
    "[method]crdt-state.value": fn({ self: "self" }, "list"),
    "[method]crdt-state.persist": fn({ self: "self" }, "list"),
    "[dtor]crdt-state": fn({ self: "self" }, "none"),
  },
  "logical-type": {
    names: fn({}, "strings"),
    "arrow-type": fn({ name: "string" }, "string"),
    "encoding-version": fn({ name: "string" }, "string"),
    "from-literal": fn({ name: "string", literals: "bytes" }, "list"),
    "to-display": fn({ name: "string", column: "bytes" }, "list"),
    "cast-to": fn({ name: "string", column: "bytes", target: "string" }, "list"),
    "cast-from": fn({ name: "string", column: "bytes" }, "list"),
  },
} as const satisfies Record<SurfaceName, Record<string, FnSpec>>;

/** The function names of one surface. */
export type SurfaceFn<S extends SurfaceName> = keyof (typeof SURFACE_SPECS)[S] & string;

const FLAT: Record<ParamKind, string> = {
  self: "i",
  string: "ii",
  bytes: "ii",
  u32: "i",
  u64: "I",
  s64: "I",
  "option<u64>": "iI",
};

/** The flattened core signature of a spec, e.g. `"iiii>i"`. */
export function coreSignature(spec: FnSpec): string {
  const params = Object.values(spec.params)
    .map((p) => FLAT[p])
    .join("");
  return `${params}>${spec.result === "none" ? "" : "i"}`;
}

/** Whether the result travels through a return area (and so may have a `cabi_post_*`). */
export function usesReturnArea(spec: FnSpec): boolean {
  return spec.result !== "bool" && spec.result !== "none";
}

/** `<interface>#<function>`: the core export's name. */
export function coreExportName(surface: SurfaceName, fnName: string): string {
  return `${interfaceName(surface)}#${fnName}`;
}

/**
 * Per surface: function name → flattened signature (derived from {@link SURFACE_SPECS}). Every function
 * returning `>i` through a return area may also have `cabi_post_<export>`; those in {@link DIRECT_RESULT} do not.
 */
export const SURFACE_FUNCTIONS: Readonly<Record<SurfaceName, Readonly<Record<string, string>>>> = Object.fromEntries(
  SURFACES.map((s) => [
    s,
    Object.fromEntries(Object.entries(SURFACE_SPECS[s]).map(([name, spec]) => [name, coreSignature(spec)])),
  ]),
) as Record<SurfaceName, Record<string, string>>;

/** Functions whose i32 result is the value itself (a bool), not a return-area pointer. */
export const DIRECT_RESULT: ReadonlySet<string> = new Set(
  SURFACES.flatMap((s) =>
    Object.entries(SURFACE_SPECS[s] as Record<string, FnSpec>)
      .filter(([, spec]) => spec.result === "bool")
      .map(([name]) => name),
  ),
);

/** Exports every module has. `cabi_post_*` are optional (a guest whose results are all lent may omit them). */
export const BASE_EXPORTS: Readonly<Record<string, string | "memory">> = {
  memory: "memory",
  cabi_realloc: "iiii>i",
  manifest: ">i",
};

/** Extra core exports toolchains emit and wit-component tolerates. `_initialize` is run once after instantiation. */
export const TOLERATED_EXPORTS: ReadonlySet<string> = new Set([
  "_initialize",
  "__data_end",
  "__heap_base",
  "__indirect_function_table",
  "__stack_pointer",
]);

export const HOST_LOG = interfaceName("host-log");
export const CDC_SINK = interfaceName("cdc-sink");
export const TYPES = interfaceName("types");

/** Core imports the host can link: module → name → signature. Resource intrinsics are added per surface. */
export const HOST_IMPORTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [HOST_LOG]: { log: "iii>" },
  [CDC_SINK]: { emit: "iiIIiii>" },
};

/** The resource intrinsics the host links for a surface's resource. */
export function resourceIntrinsics(resource: string): Record<string, string> {
  return {
    [`[resource-new]${resource}`]: "i>i",
    [`[resource-rep]${resource}`]: "i>i",
    [`[resource-drop]${resource}`]: "i>",
  };
}

/** Component-level imports a `uni:plugin` world may have (`types` comes along with any `use`). */
export const ALLOWED_COMPONENT_IMPORTS: ReadonlySet<string> = new Set([HOST_LOG, CDC_SINK, TYPES]);
