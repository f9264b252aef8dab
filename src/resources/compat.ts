/**
 * How reload checks word a refusal: every incompatibility is a
 * `PluginError(Reload)` naming the surface, the kind and what differs.
 *
 * @module
 */
import { sameBytes } from "../bytes.ts";
import { ErrorCode, PluginError, toPluginError } from "../errors.ts";

/** Runs a compat probe, turning a plugin error into one that names the kind at fault. */
export function naming<T>(surface: string, key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = toPluginError(err);
    if (e.code === ErrorCode.Reload) throw e;
    throw new PluginError(ErrorCode.Reload, `${surface} "${key}" is incompatible: ${e.message}`, { cause: e });
  }
}

/** {@link naming} for a probe that answers asynchronously (a worker-hosted version). */
export async function namingAsync<T>(surface: string, key: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = toPluginError(err);
    if (e.code === ErrorCode.Reload) throw e;
    throw new PluginError(ErrorCode.Reload, `${surface} "${key}" is incompatible: ${e.message}`, { cause: e });
  }
}

export function incompatible(surface: string, key: string, reason: string): never {
  throw new PluginError(ErrorCode.Reload, `${surface} "${key}" is incompatible: ${reason}`);
}

/** Refuses unless `got` equals `want` (decoded MessagePack values: bigints, bytes, arrays, maps). */
export function sameValue(surface: string, key: string, what: string, want: unknown, got: unknown): void {
  if (!deepEqual(want, got)) {
    incompatible(surface, key, `state ${what} has value ${show(got)}, expected ${show(want)}`);
  }
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? [...x] : x));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") {
    const [x, y] = [integer(a), integer(b)];
    return x !== undefined && x === y;
  }
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return sameBytes(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      deepEqual(ka, kb) &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

/** An integer as a bigint (MessagePack decodes small ones as numbers, large ones as bigints); else undefined. */
function integer(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  return typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined;
}
