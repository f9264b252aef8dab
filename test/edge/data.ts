// Test data for the edge suites: component bytes, deterministic vectors, Arrow tables.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { tableFromIPC, tableToIPC, type Table } from "apache-arrow";
import { repoRoot } from "./edge-process.ts";

const cache = new Map<string, Uint8Array>();

/** A committed sample component (`plugins-wasm/dist/<name>.wasm`), or a path from the repository root. */
export async function component(name: string): Promise<Uint8Array> {
  let bytes = cache.get(name);
  if (!bytes) {
    const path = name.includes("/") ? join(repoRoot, name) : join(repoRoot, "plugins-wasm/dist", `${name}.wasm`);
    bytes = new Uint8Array(await readFile(path));
    cache.set(name, bytes);
  }
  return bytes;
}

/** The arrow-echo fixture: index kind `arrow.echo` over any schema (plugins-wasm/rust/arrow-echo). */
export const ARROW_ECHO = "plugins-wasm/rust/fixtures/arrow-echo.wasm";

/** Deterministic vectors (no Math.random: a failure reproduces). */
export function vectors(rows: number, dim: number, seed = 12345): number[][] {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: rows }, () => Array.from({ length: dim }, next));
}

export const ipc = (table: Table): Uint8Array => tableToIPC(table, "stream");
export const table = (bytes: Uint8Array): Table => tableFromIPC(bytes);

/** Every cell of a table as plain JSON-comparable values (bigints as strings, lists as arrays). */
export function cells(t: Table): unknown[][] {
  return t.toArray().map((row) => t.schema.fields.map((f) => plain((row as Record<string, unknown>)[f.name])));
}

function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "object" && Symbol.iterator in (v as object)) return [...(v as Iterable<unknown>)].map(plain);
  return v;
}
