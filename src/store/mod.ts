/**
 * Durable state for plugin hosts: the {@link StateStore} contract, the memory store, and the runtime-neutral
 * helpers (group-committed journal, counters). Runtime adapters live in `src/adapters/` (`fileStore` for Node,
 * `denoKvStore` for Deno KV in Deno and Node, `indexedDbStore` for browsers). See `src/store/README.md`.
 *
 * @example
 * ```ts
 * import { memoryStore } from "uni-plugin-runtime/store";
 * const store = memoryStore();
 * const snapshot = await store.putBlob(bytes);
 * const res = await store.atomic()
 *   .check({ key: ["plugin", "crdt"], versionstamp: null })
 *   .set(["plugin", "crdt"], encode({ version: "1.0.0" }), { blobs: [snapshot.id] })
 *   .commit();
 * ```
 *
 * @module
 */
export type {
  AtomicBatch,
  BlobInfo,
  Check,
  CommitBatch,
  CommitEvent,
  CommitResult,
  DeleteMutation,
  Entry,
  GcOptions,
  GcReport,
  Key,
  KeyPart,
  ListOptions,
  ListSelector,
  Mutation,
  SetMutation,
  StateStore,
  StoreLimits,
  StoreObserver,
  StoreOptions,
} from "./types.ts";
export { StoreError, type StoreErrorDetail } from "./errors.ts";
export { STORE_LIMITS, storedValueBytes } from "./store.ts";
export { MemoryStorage, memoryStore, type MemoryStoreOptions } from "./memory.ts";
export { Journal, type JournalEntry, type JournalStats } from "./journal.ts";
export { incrementCounter, readCounter } from "./counter.ts";
export { LatencyRecorder, type LatencySummary } from "./metrics.ts";
