/**
 * Checks of what a request names and asks for, run before anything is created or stored: resource names, query
 * parameters, and whether a loaded plugin provides the kind or output a body names.
 *
 * @module
 */
import type { PluginHost, Surface } from "../../src/mod.ts";
import { RequestError, unprocessable } from "./http-errors.ts";

/** Longest resource name, in UTF-8 bytes (store keys are bounded; see src/store/README.md). */
const MAX_NAME_BYTES = 200;

/** A resource name from the URL: 1..200 UTF-8 bytes, no control characters, no `/`. */
export function checkName(name: string, what: string): string {
  const bytes = new TextEncoder().encode(name).byteLength;
  if (bytes === 0 || bytes > MAX_NAME_BYTES) {
    throw new RequestError(`${what} name must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8, got ${bytes}`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f/]/.test(name)) {
    throw new RequestError(`${what} name ${JSON.stringify(name)} holds a control character or "/"`);
  }
  return name;
}

const SURFACE_NAMES: Record<Surface, string> = {
  index: "index kind",
  crdt: "CRDT kind",
  cdc: "CDC output",
  "logical-type": "logical type",
};

/** The kind a request names, checked against what the loaded plugins provide (422 naming the choices if none). */
export function provided(host: PluginHost, surface: Surface, key: unknown, field: string): string {
  if (typeof key !== "string" || key === "") {
    throw new RequestError(`\`${field}\` must be a non-empty string naming a ${SURFACE_NAMES[surface]}`);
  }
  if (!host.provider(surface, key)) {
    const known = host.plugins().flatMap((p) => p.registered[surface]);
    throw unprocessable(
      `no loaded plugin provides ${SURFACE_NAMES[surface]} "${key}"` +
        (known.length ? ` (loaded: ${known.sort().join(", ")})` : " (none is loaded)") +
        "; upload one with POST /plugins",
    );
  }
  return key;
}

/** A boolean query parameter: absent, `true` or `false`. */
export function flag(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  if (v === null || v === "false") return false;
  if (v === "true" || v === "") return true;
  throw new RequestError(`query parameter ${name} must be true or false, got ${JSON.stringify(v)}`);
}

/** An integer query parameter in [min, max], or `fallback` when absent. */
export function intParam(url: URL, name: string, min: number, max: number, fallback: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new RequestError(
      `query parameter ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** An LSN from the URL: a non-negative decimal integer below 2^64. */
export function lsnParam(text: string | null, what: string, fallback = 0n): bigint {
  if (text === null) return fallback;
  if (!/^\d{1,20}$/.test(text) || BigInt(text) >= 1n << 64n) {
    throw new RequestError(
      `${what} must be an LSN (a decimal integer from 0 to 2^64 - 1), got ${JSON.stringify(text)}`,
    );
  }
  return BigInt(text);
}

/** Index options: a JSON object from the body's `options` or the `options` query parameter (not both). */
export function indexOptions(url: URL, body: Record<string, unknown> | undefined): object {
  const query = url.searchParams.get("options");
  if (query !== null && body?.options !== undefined) {
    throw new RequestError("give options in the body or in the `options` query parameter, not both");
  }
  let options: unknown = body?.options ?? {};
  if (query !== null) {
    try {
      options = JSON.parse(query);
    } catch (err) {
      throw new RequestError(`query parameter options is not JSON: ${(err as Error).message}`);
    }
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new RequestError('options must be a JSON object, e.g. {"metric": "cosine"}');
  }
  return options;
}

/** A value that may come from the body or the query string (not both, unless equal). */
export function oneOf(url: URL, name: string, body: Record<string, unknown> | undefined): unknown {
  const query = url.searchParams.get(name);
  const fromBody = body?.[name];
  if (query !== null && fromBody !== undefined && String(fromBody) !== query) {
    throw new RequestError(`\`${name}\` is ${JSON.stringify(fromBody)} in the body but ${query} in the query string`);
  }
  return fromBody ?? query ?? undefined;
}
