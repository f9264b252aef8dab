/**
 * The sample plugin families the demo knows, where their committed components are served, and how to tell
 * the user about any failure (a typed error, never "[object Object]").
 */
import {
  type LoadOptions,
  PluginError,
  type PluginHandle,
  type PluginHost,
  ReloadError,
  type Surface,
} from "../../../src/mod.ts";

/**
 * How the demo loads the vector index plugin: in a worker of its own. Its reload's check-compat (v2 opens the
 * 25 MiB index from v1's shared snapshot into fresh memory: 15–30 ms of copying and page faults) then runs in the
 * new version's worker while v1 keeps answering, instead of holding up every plugin's calls on the page's thread.
 * `{}` would host it in the page's thread again, and the chart would show that stall.
 */
export const VECTOR_LOAD_OPTIONS: LoadOptions = { isolation: "worker" };

export interface Family {
  /** Short name used in the UI and in data-testid attributes. */
  readonly key: "vector" | "crdt" | "changelog" | "types";
  readonly title: string;
  readonly pluginId: string;
  /** One registry key the family provides: how the demo finds the serving version. */
  readonly surface: Surface;
  readonly provides: string;
  /** Component file stems in plugins-wasm/dist. */
  readonly v1: string;
  readonly v2: string;
  readonly incompatible: string;
  /** How the family's first version is loaded (`host.load(bytes, loadOptions)`). */
  readonly loadOptions: LoadOptions;
}

export const FAMILIES: readonly Family[] = [
  {
    key: "vector",
    title: "vector.flat index",
    pluginId: "dev.uni.vector-flat",
    surface: "index",
    provides: "vector.flat",
    v1: "vector-flat-v1",
    v2: "vector-flat-v2",
    incompatible: "vector-flat-v2-incompatible",
    loadOptions: VECTOR_LOAD_OPTIONS,
  },
  {
    key: "crdt",
    title: "CRDT kinds (pn-counter)",
    pluginId: "dev.uni.crdt",
    surface: "crdt",
    provides: "pn-counter",
    v1: "crdt-v1",
    v2: "crdt-v2",
    incompatible: "crdt-v2-incompatible",
    loadOptions: {},
  },
  {
    key: "changelog",
    title: "changelog CDC output",
    pluginId: "dev.uni.changelog",
    surface: "cdc",
    provides: "changelog",
    v1: "changelog-v1",
    v2: "changelog-v2",
    incompatible: "changelog-v2-incompatible",
    loadOptions: {},
  },
  {
    key: "types",
    title: "logical types (geo.point)",
    pluginId: "dev.uni.types",
    surface: "logical-type",
    provides: "geo.point",
    v1: "types-v1",
    v2: "types-v2",
    incompatible: "types-v2-incompatible",
    loadOptions: {},
  },
];

/** Component stems present in plugins-wasm/dist right now (some are still being built by others). */
export async function availableComponents(): Promise<Set<string>> {
  const res = await fetch("/plugins/index.json");
  if (!res.ok) return new Set();
  const files = (await res.json()) as string[];
  return new Set(files.map((f) => f.replace(/\.wasm$/, "")));
}

export async function componentBytes(stem: string): Promise<Uint8Array> {
  const res = await fetch(`/plugins/${stem}.wasm`);
  if (!res.ok) throw new Error(`GET /plugins/${stem}.wasm: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Where a plugin's instance runs, in words, from the options it was loaded with. */
export function placement(options: LoadOptions): string {
  const isolation = (options as { isolation?: string }).isolation;
  return isolation === "worker" ? "its own worker" : "the page's thread";
}

/** The version of `family` serving right now, if loaded. */
export function servingHandle(host: PluginHost, family: Family): PluginHandle | undefined {
  return host.provider(family.surface, family.provides);
}

/** One line for the user: class, code (hex, as in docs), message, retryable; the reload step when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof ReloadError) {
    return `ReloadError at step "${err.step}" (code 0x${err.code.toString(16)}): ${err.message}`;
  }
  if (err instanceof PluginError) {
    return `${err.name} (code 0x${err.code.toString(16)}${err.retryable ? ", retryable" : ""}): ${err.message}`;
  }
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return typeof err === "string" ? err : JSON.stringify(err);
}
