/**
 * Checks of what callers pass to `PluginHost`, up front: a bad name or option
 * is a typed `PluginError(TypeCoercion)` naming the argument, before any
 * plugin is called and before anything is recorded.
 *
 * @module
 */
import { ErrorCode, PluginError } from "./errors.ts";

function refuse(message: string, cause?: unknown): never {
  throw new PluginError(ErrorCode.TypeCoercion, message, cause === undefined ? {} : { cause });
}

/** A live resource's name: a non-empty string. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0) {
    refuse(`${what}: the name must be a non-empty string, got ${typeof name === "string" ? '""' : typeof name}`);
  }
  return name;
}

/** A registry key (index kind, CRDT kind, CDC output, logical type): a non-empty string. */
export function checkKey(key: unknown, what: string): string {
  if (typeof key !== "string" || key.length === 0) {
    refuse(`${what}: expected a non-empty string, got ${typeof key === "string" ? '""' : typeof key}`);
  }
  return key;
}

/** Plugin options as the JSON text the plugin reads: a plain object whose every value JSON can write. */
export function optionsJson(options: unknown, what: string): string {
  if (options === undefined) return "{}";
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    refuse(`${what}: options must be a plain object, got ${Array.isArray(options) ? "an array" : String(options)}`);
  }
  try {
    return JSON.stringify(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    refuse(
      `${what}: options cannot be written as JSON (${reason}); use plain numbers, strings, booleans, arrays and objects`,
      err,
    );
  }
}

/** Bytes the caller hands over (persisted state): a `Uint8Array`. */
export function checkBytes(bytes: unknown, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array))
    refuse(`${what}: expected a Uint8Array, got ${bytes === null ? "null" : typeof bytes}`);
  return bytes;
}

const U64_LIMIT = 1n << 64n;

/** An LSN: a bigint in [0, 2^64). */
export function checkLsn(lsn: unknown, what: string): bigint {
  if (typeof lsn !== "bigint" || lsn < 0n || lsn >= U64_LIMIT) {
    refuse(`${what}: expected a bigint in [0, 2^64), got ${typeof lsn === "bigint" ? lsn : typeof lsn}`);
  }
  return lsn;
}

/** A count option: an integer in [1, 2^31). */
export function checkCount(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
    refuse(`${what}: expected an integer >= 1, got ${typeof n === "number" ? n : typeof n}`);
  }
  return n;
}
