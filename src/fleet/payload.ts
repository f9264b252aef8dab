/**
 * Bytes a fleet record carries: inline when they fit in one record beside its other fields, else as a blob put
 * first (durably) and linked by the record's commit, so a record never names bytes the store does not hold.
 *
 * @module
 */
import type { StateStore } from "../store/types.ts";
import type { Payload } from "./records.ts";

/** Up to this many bytes go inline (a record is at most 64,000 bytes with its envelope and other fields). */
export const INLINE_PAYLOAD_BYTES = 48 * 1024;

/** The payload for `bytes`, and the blobs the record must link. */
export async function storePayload(
  store: StateStore,
  bytes: Uint8Array,
): Promise<{ payload: Payload; blobs: string[] }> {
  if (bytes.length <= INLINE_PAYLOAD_BYTES) return { payload: { inline: bytes.slice() }, blobs: [] };
  const blob = await store.putBlob(bytes);
  return { payload: { blob: blob.id, size: blob.size }, blobs: [blob.id] };
}

/**
 * The bytes of a payload.
 *
 * # Errors
 * The store's: `NotFound` when the blob is gone, `Corrupt` when it fails its checksums.
 */
export async function loadPayload(store: StateStore, payload: Payload): Promise<Uint8Array> {
  return "inline" in payload ? payload.inline : await store.getBlob(payload.blob);
}
