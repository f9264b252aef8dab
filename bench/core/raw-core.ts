/**
 * The raw-core baseline: calls a component's core wasm exports directly, with
 * the canonical ABI done by hand and nothing else (no argument checks, no trap
 * handling, no resource tables). It is the floor every call layer is compared
 * against.
 *
 * This is the ONLY bench file that reaches past the public API: it reads
 * `ComponentInstance.core` (the raw exports, marked internal) and a handle's
 * private `rep`. When `src/` changes shape, adapt this file alone.
 *
 * @module
 */
import type { component } from "../../src/mod.ts";

type Instance = component.ComponentInstance;
type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;

const INDEX = "uni:plugin/index@1.0.0#";
const CRDT = "uni:plugin/crdt@1.0.0#";
const TYPES = "uni:plugin/logical-type@1.0.0#";

/** The core exports of an instance (internal to src/). */
function coreExports(instance: Instance): WebAssembly.Exports {
  const core = (instance as unknown as { core?: WebAssembly.Exports }).core;
  if (!core) throw new Error("raw-core: ComponentInstance.core is gone; adapt bench/core/raw-core.ts");
  return core;
}

/** The guest-side `rep` a resource handle passes to its core exports (a private field of the client). */
export function repOf(handle: object): number {
  const rep = (handle as { rep?: unknown }).rep;
  if (typeof rep !== "number" || !(rep > 0))
    throw new Error("raw-core: cannot read the handle's rep; adapt raw-core.ts");
  return rep;
}

export interface RawCore {
  /** `index-handle.supports-filter`: returns the i32 the export returns. */
  supportsFilter(rep: number): number;
  /** `index-handle.probe`: query IPC in, result IPC out (copied). */
  probe(rep: number, query: Uint8Array, k: number): Uint8Array;
  /** `crdt-state.apply` of one MessagePack op. */
  apply(rep: number, op: Uint8Array): void;
  /** `logical-type.cast-to`: name and target pre-encoded as UTF-8. */
  castTo(name: Uint8Array, column: Uint8Array, target: Uint8Array): Uint8Array;
}

export function rawCore(instance: Instance): RawCore {
  const x = coreExports(instance);
  const fn = <T>(name: string): T => {
    const f = x[name];
    if (typeof f !== "function") throw new Error(`raw-core: no core export ${name}`);
    return f as T;
  };
  const post = (name: string): ((area: number) => void) =>
    (x[`cabi_post_${name}`] as ((area: number) => void) | undefined) ?? (() => {});
  const memory = x.memory as WebAssembly.Memory;
  const realloc = fn<Realloc>("cabi_realloc");
  let buffer = memory.buffer;
  let u8 = new Uint8Array(buffer);
  let dv = new DataView(buffer);
  const fresh = () => {
    if (memory.buffer !== buffer) {
      buffer = memory.buffer;
      u8 = new Uint8Array(buffer);
      dv = new DataView(buffer);
    }
  };
  const write = (bytes: Uint8Array): number => {
    const ptr = realloc(0, 0, 1, bytes.length);
    fresh();
    u8.set(bytes, ptr);
    return ptr;
  };
  /** `result<list<u8>, fn-error>` at `area`: the list, copied out. */
  const list = (area: number, what: string): Uint8Array => {
    fresh();
    if (dv.getUint8(area) !== 0) throw new Error(`raw-core: ${what} returned an error`);
    const ptr = dv.getUint32(area + 4, true);
    const len = dv.getUint32(area + 8, true);
    return u8.slice(ptr, ptr + len);
  };

  const supportsFilter = x[`${INDEX}[method]index-handle.supports-filter`] as ((rep: number) => number) | undefined;
  const probe = x[`${INDEX}[method]index-handle.probe`] as
    | ((rep: number, qp: number, ql: number, k: number) => number)
    | undefined;
  const postProbe = post(`${INDEX}[method]index-handle.probe`);
  const apply = x[`${CRDT}[method]crdt-state.apply`] as ((rep: number, p: number, l: number) => number) | undefined;
  const postApply = post(`${CRDT}[method]crdt-state.apply`);
  const castTo = x[`${TYPES}cast-to`] as ((...args: number[]) => number) | undefined;
  const postCastTo = post(`${TYPES}cast-to`);
  const missing = (name: string) => () => {
    throw new Error(`raw-core: this component has no ${name} export`);
  };

  return {
    supportsFilter: supportsFilter ?? missing("supports-filter"),
    probe: probe
      ? (rep, query, k) => {
          const qp = write(query);
          const area = probe(rep, qp, query.length, k);
          const out = list(area, "probe");
          postProbe(area);
          return out;
        }
      : missing("probe"),
    apply: apply
      ? (rep, op) => {
          const p = write(op);
          const area = apply(rep, p, op.length);
          fresh();
          if (dv.getUint8(area) !== 0) throw new Error("raw-core: apply returned an error");
          postApply(area);
        }
      : missing("apply"),
    castTo: castTo
      ? (name, column, target) => {
          const np = write(name);
          const cp = write(column);
          const tp = write(target);
          const area = castTo(np, name.length, cp, column.length, tp, target.length);
          const out = list(area, "cast-to");
          postCastTo(area);
          return out;
        }
      : missing("cast-to"),
  };
}
