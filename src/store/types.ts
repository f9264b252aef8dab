/**
 * The `StateStore` contract: what every storage adapter (memory, file system, Deno KV, IndexedDB) offers the host.
 *
 * - **Keys** are tuples of strings, numbers and bigints, ordered part by part (string < bigint < number, as in
 *   Deno KV; strings by their UTF-8 bytes, numbers and bigints numerically) and listed by prefix or range.
 * - **Values** are small byte arrays (at most {@link StoreLimits.maxValueBytes}), each with the versionstamp of
 *   the commit that wrote it.
 * - **Commits** are atomic batches of sets and deletes, guarded by optional checks (a key's versionstamp, or its
 *   absence); a commit either applies whole and returns its new versionstamp, or applies nothing.
 * - **Blobs** are large byte arrays stored in checksummed chunks and addressed by content (a SHA-256). A record
 *   links the blobs it needs; blobs no record links are collected by {@link StateStore.gc}.
 *
 * @module
 */

/** One part of a key. Numbers must not be NaN; `-0` is stored as `0`. */
export type KeyPart = string | number | bigint;

/** A key: a tuple of parts, e.g. `["resource", "crdt", "votes"]`. */
export type Key = readonly KeyPart[];

/** A stored record. */
export interface Entry {
  readonly key: Key;
  readonly value: Uint8Array;
  /** The versionstamp of the commit that wrote this value: 20 hex digits, rising with every commit. */
  readonly versionstamp: string;
  /** Ids of the blobs this record links (see {@link SetMutation.blobs}). */
  readonly blobs: readonly string[];
}

/**
 * A commit succeeds only if `key` currently has this versionstamp; `null` requires the key to be absent.
 */
export interface Check {
  readonly key: Key;
  readonly versionstamp: string | null;
}

/** Writes `value` under `key`. */
export interface SetMutation {
  readonly type: "set";
  readonly key: Key;
  readonly value: Uint8Array;
  /**
   * Blobs this record needs (ids from {@link StateStore.putBlob}). A linked blob is never collected while a record
   * links it; the commit refuses ids of blobs the store does not hold.
   */
  readonly blobs?: readonly string[];
}

/** Removes `key` (a no-op when absent). */
export interface DeleteMutation {
  readonly type: "delete";
  readonly key: Key;
}

export type Mutation = SetMutation | DeleteMutation;

/** One atomic batch: every check passes and every mutation applies, or nothing happens. */
export interface CommitBatch {
  readonly checks?: readonly Check[];
  readonly mutations: readonly Mutation[];
}

/** `ok: false` means a check failed and nothing was written. Errors (limits, I/O) reject instead. */
export type CommitResult = { readonly ok: true; readonly versionstamp: string } | { readonly ok: false };

/**
 * Which keys {@link StateStore.list} returns, in the shapes Deno KV accepts:
 * - `{ prefix }`: every key that starts with `prefix` and is longer than it;
 * - `{ prefix, start }` / `{ prefix, end }`: the same, from `start` (inclusive) / before `end` (exclusive);
 * - `{ start, end }`: every key from `start` (inclusive) to `end` (exclusive).
 */
export type ListSelector =
  | { readonly prefix: Key; readonly start?: Key; readonly end?: undefined }
  | { readonly prefix: Key; readonly start?: undefined; readonly end?: Key }
  | { readonly prefix?: undefined; readonly start: Key; readonly end: Key };

export interface ListOptions {
  /** At most this many entries. */
  readonly limit?: number;
  /** Highest key first. */
  readonly reverse?: boolean;
  /**
   * Called for a record whose stored bytes fail their checksum; the record is then skipped. Without it, such a
   * record makes the listing reject with a `Corrupt` {@link StoreError} (never a silently wrong value).
   */
  readonly onCorrupt?: (key: Key, error: Error) => void;
}

/** What {@link StateStore.putBlob} stored. */
export interface BlobInfo {
  /** 64 lowercase hex digits: SHA-256 of the blob's manifest (its size, chunk size and each chunk's SHA-256). */
  readonly id: string;
  readonly size: number;
}

export interface GcOptions {
  /**
   * Blobs written or linked more recently than this are kept even when no record links them, so a blob put just
   * before the commit that links it survives a concurrent collection. Default 15 minutes.
   */
  readonly minAgeMs?: number;
}

export interface GcReport {
  /** Blobs some record links. */
  readonly live: number;
  /** Blobs deleted (unlinked and older than `minAgeMs`). */
  readonly deleted: number;
  /** Unlinked blobs kept because they are younger than `minAgeMs`. */
  readonly young: number;
}

/** What one commit cost; see {@link StoreObserver}. */
export interface CommitEvent {
  readonly ok: boolean;
  readonly mutations: number;
  /** Bytes of keys and values written. */
  readonly bytes: number;
  /** From the call to the durable result. */
  readonly ms: number;
}

/** Hooks for measuring a store: every commit and blob transfer is reported once it has finished. */
export interface StoreObserver {
  onCommit?(event: CommitEvent): void;
  onBlob?(event: { readonly op: "put" | "get"; readonly bytes: number; readonly ms: number }): void;
}

/** Options every adapter accepts. */
export interface StoreOptions {
  readonly observer?: StoreObserver;
}

/**
 * Per-commit and per-value limits. They are the same in every adapter (Deno KV's, less the room each adapter
 * needs for its own bookkeeping), so code that works on the memory store works on Deno KV.
 */
export interface StoreLimits {
  /** Encoded bytes of one key. */
  readonly maxKeyBytes: number;
  /** Bytes of one value. */
  readonly maxValueBytes: number;
  /** Blob links of one record. */
  readonly maxBlobsPerRecord: number;
  /** Checks in one commit. */
  readonly maxChecks: number;
  /** Mutations in one commit, plus one per distinct blob the commit links. */
  readonly maxMutations: number;
  /** Encoded key bytes of one commit (checks and mutations). */
  readonly maxCommitKeyBytes: number;
  /** Key and value bytes of one commit. */
  readonly maxCommitBytes: number;
  /** Bytes of one blob. */
  readonly maxBlobBytes: number;
}

/** Builds one atomic commit; see {@link StateStore.atomic}. */
export interface AtomicBatch {
  check(...checks: Check[]): AtomicBatch;
  set(key: Key, value: Uint8Array, options?: { blobs?: readonly string[] }): AtomicBatch;
  delete(key: Key): AtomicBatch;
  commit(): Promise<CommitResult>;
}

/**
 * The storage every adapter provides. Every method that returns a Promise reports bad input and failures as a
 * rejected {@link StoreError} (a `PluginError`), never a synchronous throw.
 */
export interface StateStore {
  /** The adapter: `"memory"`, `"fs"`, `"deno-kv"`, `"indexeddb"`. */
  readonly adapter: string;
  readonly limits: StoreLimits;

  /**
   * The record under `key`, or `null`.
   *
   * # Errors
   * `TypeCoercion` for an invalid key; `Corrupt` when the stored record fails its checksum; `Disposed` after close.
   */
  get(key: Key): Promise<Entry | null>;

  /** Several records read at one point in time (one snapshot), in the order of `keys`. Errors as {@link get}. */
  getMany(keys: readonly Key[]): Promise<(Entry | null)[]>;

  /**
   * Records in key order. Pages are read lazily, so a long listing is not one snapshot: each page is consistent.
   *
   * # Errors
   * The iteration rejects (never throws synchronously) with `TypeCoercion` for an invalid selector and `Corrupt`
   * for a damaged record (unless {@link ListOptions.onCorrupt} takes it).
   */
  list(selector: ListSelector, options?: ListOptions): AsyncIterable<Entry>;

  /** A builder for {@link commit}. */
  atomic(): AtomicBatch;

  /**
   * Applies `batch` atomically and durably: when the promise resolves `ok: true`, the writes survive a crash.
   *
   * # Errors
   * `TypeCoercion` for invalid keys or values; `ResourceLimit` beyond {@link limits}; `NotFound` for a link to a
   * blob the store does not hold; `Io` (retryable) when the storage fails.
   */
  commit(batch: CommitBatch): Promise<CommitResult>;

  /**
   * Stores `bytes` durably as a blob and returns its id. Idempotent: the same bytes give the same id, and
   * storing them again refreshes the blob's age for {@link gc}. Link it from a record in a later commit.
   *
   * # Errors
   * `ResourceLimit` beyond `maxBlobBytes`; `Io` when the storage fails.
   */
  putBlob(bytes: Uint8Array): Promise<BlobInfo>;

  /**
   * The bytes of blob `id`, every chunk checked against its SHA-256. The array is the caller's to keep, but may be a
   * view into a larger buffer (mind `byteOffset` before handing its `buffer` on).
   *
   * # Errors
   * `NotFound` when no such blob is stored; `Corrupt` when it is stored but damaged (a flipped bit, a truncated or
   * missing chunk, a damaged manifest).
   */
  getBlob(id: string): Promise<Uint8Array>;

  /** Whether blob `id` is stored (its manifest is present; chunks are checked by {@link getBlob}). */
  hasBlob(id: string): Promise<boolean>;

  /** Deletes blobs no record links (see {@link GcOptions.minAgeMs}). */
  gc(options?: GcOptions): Promise<GcReport>;

  /** Finishes pending writes and releases the storage; later calls reject with `Disposed`. Idempotent. */
  close(): Promise<void>;
}
