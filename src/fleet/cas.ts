/**
 * Compare-and-set on one record: read it, compute the next value, commit with a check on the versionstamp read,
 * and start over when another writer got there first.
 *
 * @module
 */
import { ErrorCode } from "../errors.ts";
import type { Entry, Key, Mutation, StateStore } from "../store/types.ts";
import { FleetError } from "./errors.ts";

/** What an update decided: a new value (with the blobs it links and any other writes of the same commit), or none. */
export interface Next {
  value: Uint8Array;
  blobs?: readonly string[];
  also?: readonly Mutation[];
}

/**
 * Reads `key`, asks `next` what to write (null: nothing), and commits it checked against the versionstamp read.
 * Resolves with the entry as it is afterwards and whether this call changed it.
 *
 * # Errors
 * The store's; `Timeout` (retryable) after 50 lost races; whatever `next` throws.
 */
export async function casUpdate(
  store: StateStore,
  key: Key,
  next: (current: Entry | null) => Next | null,
): Promise<{ entry: Entry | null; changed: boolean }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const current = await store.get(key);
    const n = next(current);
    if (!n) return { entry: current, changed: false };
    const res = await store.commit({
      checks: [{ key, versionstamp: current?.versionstamp ?? null }],
      mutations: [
        { type: "set", key, value: n.value, ...(n.blobs?.length ? { blobs: n.blobs } : {}) },
        ...(n.also ?? []),
      ],
    });
    if (res.ok) {
      return { entry: { key, value: n.value, versionstamp: res.versionstamp, blobs: n.blobs ?? [] }, changed: true };
    }
    // Another writer won: back off a little (jittered) so a crowd of nodes does not keep colliding.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 2)));
  }
  throw new FleetError(ErrorCode.Timeout, `fleet: lost 50 races updating ${JSON.stringify(key.map(String))}`, {
    retryable: true,
  });
}
