// The checks every fuzzed boundary shares (test/shared/fuzz-*.test.ts): each call's outcome is a value or a
// typed PluginError (an async API rejects, never throws synchronously), no call takes a second, and after
// every `checkEvery` cases a known-good workload on the same host gives the very results it gave first.
// Runtime-neutral: no node: imports, no Deno.*, so the same properties run in Node, Chromium and Deno.
import { Field, FixedSizeList, Float32, makeData, makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import { PluginError, type PluginHandle, PluginHost, TrapError } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

/**
 * Cases per boundary: a few hundred in the suite; `npm run fuzz` sets FUZZ_RUNS (10,000). Read defensively:
 * the browser has no `process`, and Deno refuses env access it was not granted.
 */
export function fuzzRuns(fallback = 200): number {
  try {
    const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FUZZ_RUNS;
    const n = Number(raw);
    return Number.isInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/** The slowest a single call may be, well above what any case needs on a loaded machine. */
export const CALL_LIMIT_MS = 1000;

/** A property violation: a plain Error, so fast-check reports it with the input that caused it. */
export class Violation extends Error {
  override name = "Violation";
}

/** What a fuzzed call came to. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: PluginError };

export interface CallOptions {
  /** The API returns a promise: a synchronous throw is a violation. Default true. */
  async?: boolean;
  /** Whether the plugin may trap. The samples never may: bad input must be a fn-error. Default false. */
  traps?: boolean;
}

/**
 * Runs one call into the API under test and checks it: a synchronous throw from an async API, an error that
 * is not a well-formed PluginError, a trap where none is allowed, or a call over {@link CALL_LIMIT_MS} is a
 * {@link Violation}.
 */
export async function typedCall<T>(
  what: string,
  call: () => Promise<T> | T,
  options: CallOptions = {},
): Promise<Outcome<T>> {
  const async = options.async ?? true;
  const start = performance.now();
  let pending: Promise<T> | T;
  try {
    pending = call();
  } catch (error) {
    if (async) throw new Violation(`${what} threw synchronously instead of rejecting: ${describe(error)}`);
    return settle(what, Promise.reject(error), start, options.traps ?? false);
  }
  if (async && !(pending instanceof Promise)) throw new Violation(`${what} did not return a promise`);
  return settle(what, Promise.resolve(pending), start, options.traps ?? false);
}

async function settle<T>(what: string, pending: Promise<T>, start: number, traps: boolean): Promise<Outcome<T>> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await pending };
  } catch (error) {
    if (!(error instanceof PluginError))
      throw new Violation(`${what} failed with an untyped error: ${describe(error)}`);
    if (typeof error.code !== "number" || typeof error.retryable !== "boolean" || !error.message) {
      throw new Violation(`${what} failed with a malformed PluginError: ${describe(error)}`);
    }
    if (error.message.includes("[object Object]")) throw new Violation(`${what}: "${error.message}"`);
    if (!traps && error instanceof TrapError) throw new Violation(`${what}: the plugin trapped: ${error.message}`);
    outcome = { ok: false, error };
  }
  const ms = performance.now() - start;
  if (ms > CALL_LIMIT_MS) throw new Violation(`${what} took ${Math.round(ms)} ms (limit ${CALL_LIMIT_MS} ms)`);
  return outcome;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return typeof error;
  }
}

// ------------------------------------------------------------------ the known-good workload

const DIM = 4;
const VECTORS = Float32Array.from({ length: 40 * DIM }, (_, i) => Math.sin(i * 1.7));
const QUERY = Float32Array.from({ length: 2 * DIM }, (_, i) => Math.cos(i * 0.9));

export function vectors(values: Float32Array, dim: number) {
  const child = makeData({ type: new Float32(), length: values.length, data: values });
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  return makeVector(makeData({ type, length: values.length / dim, nullCount: 0, child }));
}

export function vectorSource(): Table {
  const ids = BigInt64Array.from({ length: VECTORS.length / DIM }, (_, i) => BigInt(10 * i + 1));
  return new Table({ id: makeVector(ids), vector: vectors(VECTORS, DIM) });
}

export function mutationTable(rows: number): Table {
  return new Table({
    op: vectorFromArray(
      Array.from({ length: rows }, (_, i) => ["insert", "update", "delete"][i % 3] as string),
      new Utf8(),
    ),
  });
}

/** The samples every fuzzing host serves. */
export const SAMPLES = ["vector-flat-v1", "crdt-v1", "types-v1", "changelog-v1"] as const;

/** A host with the four samples loaded, the handles by sample name. */
export async function sampleHost(): Promise<{ host: PluginHost; handles: Map<string, PluginHandle> }> {
  const host = new PluginHost({ onLog: () => {} });
  const handles = new Map<string, PluginHandle>();
  for (const name of SAMPLES) handles.set(name, await host.load(await loadPlugin(name)));
  return { host, handles };
}

let round = 0;

/**
 * One pass over every surface of the samples with fixed inputs, on fresh resources that are dropped after:
 * its results (as JSON) must never change while a host is being fuzzed.
 */
export async function knownGood(host: PluginHost): Promise<string> {
  const n = round++;
  const index = await host.createIndex(`known-good-index-${n}`, "vector.flat", vectorSource(), { metric: "l2" });
  const hits = (await index.probe(new Table({ vector: vectors(QUERY, DIM) }), 3)).toArray().map((r) => r.toJSON());
  await index.drop();
  const counter = await host.createCrdt(`known-good-crdt-${n}`, "pn-counter");
  await counter.apply(["a", 5]);
  await counter.apply(["b", -2]);
  const value = await counter.value();
  await counter.drop();
  const geo = host.logicalType("geo.point");
  const points = await geo.fromLiteral(["POINT(13.4 52.5)", null, "POINT(-1 2)"]);
  const display = await geo.toDisplay(points);
  const cdc = await host.attachCdc(`known-good-cdc-${n}`, "changelog");
  const emitted: string[] = [];
  cdc.onEmit((e) => emitted.push(`${e.lsnStart}-${e.lsnEnd}:${e.payload.length}`));
  const lsns = [await cdc.publish(mutationTable(3), 1n), await cdc.publish(mutationTable(1), 2n)];
  await cdc.checkpoint();
  await cdc.drop();
  return JSON.stringify({ hits, value, display, lsns, emitted }, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
}

/**
 * Counts cases and re-runs {@link knownGood} every `checkEvery` of them (and on {@link finish}), comparing
 * with the first result.
 */
export class WorkloadCheck {
  readonly #host: PluginHost;
  readonly #checkEvery: number;
  #baseline = "";
  #cases = 0;
  checks = 0;

  constructor(host: PluginHost, runs: number) {
    this.#host = host;
    this.#checkEvery = Math.max(1, Math.min(1000, Math.ceil(runs / 2)));
  }

  async start(): Promise<void> {
    this.#baseline = await knownGood(this.#host);
  }

  async afterCase(): Promise<void> {
    if (++this.#cases % this.#checkEvery === 0) await this.check();
  }

  async finish(): Promise<void> {
    await this.check();
  }

  async check(): Promise<void> {
    const now = await knownGood(this.#host);
    this.checks++;
    if (now !== this.#baseline) {
      throw new Violation(
        `after ${this.#cases} cases the known-good workload changed:\n${now}\nwas\n${this.#baseline}`,
      );
    }
  }
}

/** Byte-level mutations of a valid input: bit flips, overwritten words, truncation, insertion. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "word"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "splice"; at: number; length: number };

export function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = input.slice();
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.kind) {
      case "flip":
        out[at] = (out[at] as number) ^ (1 << m.bit);
        break;
      case "word":
        if (at + 4 <= out.length) new DataView(out.buffer, out.byteOffset).setUint32(at, m.value >>> 0, true);
        break;
      case "truncate":
        out = out.slice(0, at);
        break;
      case "insert": {
        const next = new Uint8Array(out.length + m.bytes.length);
        next.set(out.subarray(0, at));
        next.set(m.bytes, at);
        next.set(out.subarray(at), at + m.bytes.length);
        out = next;
        break;
      }
      case "splice":
        out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + m.length))]);
        break;
    }
  }
  return out;
}
