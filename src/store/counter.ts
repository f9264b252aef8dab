/**
 * A durable counter (e.g. the host's generation counter, which must never repeat across restarts): a
 * compare-and-set loop on one record holding a u64.
 *
 * @module
 */
import { corrupt, StoreError } from "./errors.ts";
import { ErrorCode } from "../errors.ts";
import { normalizeKey, showKey } from "./keys.ts";
import type { Entry, Key, StateStore } from "./types.ts";

function encodeU64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

function decodeCounter(entry: Entry | null): bigint {
  if (!entry) return 0n;
  if (entry.value.length !== 8) throw corrupt(`counter ${showKey(entry.key)} holds ${entry.value.length} bytes, not 8`);
  return new DataView(entry.value.buffer, entry.value.byteOffset, 8).getBigUint64(0, true);
}

/** The counter under `key` (0n when absent). */
export async function readCounter(store: StateStore, key: Key): Promise<bigint> {
  return decodeCounter(await store.get(key));
}

/**
 * Adds `by` to the counter under `key` and resolves the new value, durably: no two calls (in any process sharing
 * the store) get the same value, and a value once returned is never returned again after a restart.
 *
 * # Errors
 * `Timeout` (retryable) after `attempts` lost races; store errors as they come.
 */
export async function incrementCounter(store: StateStore, key: Key, by = 1n, attempts = 100): Promise<bigint> {
  const k = normalizeKey(key, "counter key");
  if (typeof by !== "bigint" || by <= 0n)
    throw new StoreError(ErrorCode.TypeCoercion, "increment by a positive bigint");
  for (let i = 0; i < attempts; i++) {
    const entry = await store.get(k);
    const next = decodeCounter(entry) + by;
    const res = await store.commit({
      checks: [{ key: k, versionstamp: entry?.versionstamp ?? null }],
      mutations: [{ type: "set", key: k, value: encodeU64(next) }],
    });
    if (res.ok) return next;
    await new Promise((r) => setTimeout(r, Math.min(50, 2 ** i)));
  }
  throw new StoreError(
    ErrorCode.Timeout,
    `counter ${showKey(k)}: lost ${attempts} races in a row`,
    {},
    { retryable: true },
  );
}
