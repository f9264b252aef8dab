/**
 * What an adapter implements: raw storage of records (sealed values under encoded keys), of blobs (a manifest plus
 * data) and of each blob's last-touched time. The core ({@link ./store.ts}) does everything runtime-neutral on top:
 * validation, limits, record envelopes, blob hashing and verification, garbage collection, observation.
 *
 * @module
 */
import type { CommitResult, Key } from "./types.ts";

/** A key both as parts (for Deno KV) and as its order-preserving bytes (for byte-ordered storage). */
export interface BackendKey {
  readonly parts: Key;
  readonly bytes: Uint8Array;
}

/** A stored record as the backend holds it: the value is the sealed envelope. */
export interface RawEntry {
  readonly key: Key;
  readonly value: Uint8Array;
  readonly versionstamp: string;
}

/**
 * A key range, in both forms: the selector as Deno KV takes it (prefix / start / end parts) and the same range
 * as bytes, `lo` inclusive and `hi` exclusive.
 */
export interface KeyRange {
  readonly prefix?: Key;
  readonly start?: Key;
  readonly end?: Key;
  readonly lo: Uint8Array;
  readonly hi: Uint8Array;
}

export type BackendMutation =
  | { readonly type: "set"; readonly key: BackendKey; readonly value: Uint8Array }
  | { readonly type: "delete"; readonly key: BackendKey };

export interface BackendCheck {
  readonly key: BackendKey;
  readonly versionstamp: string | null;
}

/** A blob as stored: the manifest and the data, unverified (the core verifies). */
export interface StoredBlob {
  readonly manifest: Uint8Array;
  readonly data: Uint8Array;
}

/** One stored blob as {@link StoreBackend.listBlobs} sees it; `token` goes back to `deleteBlob`. */
export interface BlobListing {
  readonly id: string;
  /** When the blob was last written or linked by a commit (ms since the epoch). */
  readonly touchedAt: number;
  readonly token: unknown;
}

export interface StoreBackend {
  readonly adapter: string;

  /** The records under `keys`, read at one point in time. */
  get(keys: readonly BackendKey[]): Promise<(RawEntry | null)[]>;

  /** Records in `range`, in key order (or reverse), at most `limit`. */
  list(range: KeyRange, options: { readonly reverse: boolean; readonly limit: number }): AsyncIterable<RawEntry>;

  /**
   * Atomically: if every check holds, applies the mutations in order and refreshes the touched time of each blob in
   * `links`; resolves once durable. The core has validated everything and kept within its limits.
   */
  commit(
    checks: readonly BackendCheck[],
    mutations: readonly BackendMutation[],
    links: readonly string[],
  ): Promise<CommitResult>;

  /**
   * Stores blob `id` durably (idempotent; refreshes its touched time). A crash part-way must leave the blob either
   * absent or listable by {@link listBlobs}, so that garbage collection finds the remains.
   */
  putBlob(id: string, manifest: Uint8Array, data: Uint8Array): Promise<void>;

  /**
   * Blob `id` as stored, or `null` when its manifest is absent. The data may be damaged (the core checks it);
   * a backend that stores chunks separately throws a `Corrupt` StoreError when one is missing.
   */
  getBlob(id: string): Promise<StoredBlob | null>;

  hasBlob(id: string): Promise<boolean>;

  /** Every blob, complete or the remains of an interrupted write. */
  listBlobs(): AsyncIterable<BlobListing>;

  /** Deletes the blob unless it was touched since it was listed; resolves whether it was deleted. */
  deleteBlob(listing: BlobListing): Promise<boolean>;

  /** Finishes pending writes and releases resources. */
  close(): Promise<void>;
}
