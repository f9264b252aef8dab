// Damages a record of the edge server's Deno KV file while the server is down, through a second connection to the
// same database (test/support/kv-damage.ts: one flipped bit, which the record's CRC-32 catches).
import type { DenoKvLike } from "../../src/adapters/deno-kv.ts";
import type { Key } from "../../src/store/mod.ts";
import { kvDamage } from "../support/kv-damage.ts";

type OpenKv = (path: string) => Promise<DenoKvLike & { close(): void }>;

/** The store's keys under `prefix` (a store key, e.g. `["edge", "quarantine"]`), read straight from the KV file. */
export async function storeKeys(kvPath: string, prefix: Key): Promise<Key[]> {
  const openKv = (globalThis as unknown as { Deno: { openKv: OpenKv } }).Deno.openKv;
  const kv = await openKv(kvPath);
  try {
    const keys: Key[] = [];
    for await (const e of kv.list({ prefix: ["uni-store", "r", ...prefix] })) keys.push(e.key.slice(2) as Key);
    return keys;
  } finally {
    kv.close();
  }
}

/** Flips one bit of the record under `key` (a key of the store, e.g. `["uni", "host", "res", "crdt", "likes"]`). */
export async function damageRecord(kvPath: string, key: Key): Promise<void> {
  const openKv = (globalThis as unknown as { Deno: { openKv: OpenKv } }).Deno.openKv;
  const kv = await openKv(kvPath);
  try {
    await kvDamage(kv).flipRecordBit?.(key);
  } finally {
    kv.close();
  }
}
