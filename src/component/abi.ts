/**
 * docs/abi.md as data: the core exports and imports a `uni:plugin@1.0.0`
 * module must have, with their flattened signatures (`"iii>i"` = three i32
 * params, one i32 result; `I` is i64). The validator and the surface clients
 * both read names from here so they cannot drift apart.
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
 * Per surface: function name (as after `#` in the core export) → signature.
 * Every function returning `>i` through a return area also has `cabi_post_<export>`
 * except those listed in {@link DIRECT_RESULT}.
 */
export const SURFACE_FUNCTIONS: Readonly<Record<SurfaceName, Readonly<Record<string, string>>>> = {
  index: {
    kinds: ">i",
    build: "iiiiii>i",
    open: "iiii>i",
    "[method]index-handle.probe": "iiii>i",
    "[method]index-handle.supports-filter": "i>i",
    "[method]index-handle.probe-filtered": "iiiiii>i",
    "[method]index-handle.persist": "i>i",
    "[method]index-handle.schema": "i>i",
    "[dtor]index-handle": "i>",
  },
  cdc: {
    outputs: ">i",
    start: "iiiI>i",
    "[method]cdc-stream.deliver": "iIIiiI>i",
    "[method]cdc-stream.checkpoint": "i>i",
    "[method]cdc-stream.shutdown": "i>i",
    "[dtor]cdc-stream": "i>",
  },
  crdt: {
    kinds: ">i",
    empty: "ii>i",
    "from-persisted": "iiii>i",
    "[method]crdt-state.apply": "iii>i",
    "[method]crdt-state.merge": "iii>i",
    "[method]crdt-state.value": "i>i",
    "[method]crdt-state.persist": "i>i",
    "[dtor]crdt-state": "i>",
  },
  "logical-type": {
    names: ">i",
    "arrow-type": "ii>i",
    "encoding-version": "ii>i",
    "from-literal": "iiii>i",
    "to-display": "iiii>i",
    "cast-to": "iiiiii>i",
    "cast-from": "iiii>i",
  },
};

/** Functions whose i32 result is the value itself (a bool), not a return-area pointer. */
export const DIRECT_RESULT: ReadonlySet<string> = new Set(["[method]index-handle.supports-filter"]);

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
