/**
 * The memory store: everything in this process's memory, nothing survives it. For tests, and for handing state
 * to a restarted in-process instance: a {@link MemoryStorage} outlives the stores opened on it, so closing one
 * store and opening another on the same storage is a restart that keeps every committed write.
 *
 * @module
 */
import type { BackendCheck, BackendMutation, BlobListing, KeyRange, RawEntry, StoreBackend } from "./backend.ts";
import { ownCopy } from "./bytes-io.ts";
import { versionstampOf } from "./envelope.ts";
import { byteString, SortedIndex } from "./sorted-index.ts";
import { BackedStore } from "./store.ts";
import type { CommitResult, StateStore, StoreOptions } from "./types.ts";

/** Entries handed out per page of a listing: each page is a consistent snapshot. */
const PAGE = 256;

export interface MemoryRecord {
  /** The encoded key as a binary string (its place in the index). */
  readonly id: string;
  readonly key: RawEntry["key"];
  value: Uint8Array;
  versionstamp: string;
}

export interface MemoryBlob {
  manifest: Uint8Array;
  data: Uint8Array;
  touchedAt: number;
}

/** The data of a memory store; open any number of stores on it, one after another. */
export class MemoryStorage {
  /** Records by encoded key (a binary string). */
  readonly records = new SortedIndex<MemoryRecord>();
  /** Blobs by id. */
  readonly blobs = new Map<string, MemoryBlob>();
  /** The last commit's counter. */
  counter = 0n;
}

class MemoryBackend implements StoreBackend {
  readonly adapter = "memory";
  constructor(readonly storage: MemoryStorage) {}

  async get(keys: readonly { bytes: Uint8Array }[]): Promise<(RawEntry | null)[]> {
    return keys.map((k) => {
      const r = this.storage.records.get(byteString(k.bytes));
      return r ? { key: r.key, value: r.value, versionstamp: r.versionstamp } : null;
    });
  }

  async *list(range: KeyRange, options: { reverse: boolean; limit: number }): AsyncGenerator<RawEntry> {
    let lo = byteString(range.lo);
    let hi = byteString(range.hi);
    let left = options.limit;
    while (left > 0) {
      const page = this.storage.records.range(lo, hi, options.reverse, Math.min(PAGE, left));
      if (page.length === 0) return;
      for (const r of page) yield { key: r.key, value: r.value, versionstamp: r.versionstamp };
      left -= page.length;
      const last = (page[page.length - 1] as MemoryRecord).id;
      if (options.reverse) hi = last;
      else lo = `${last}\0`;
    }
  }

  async commit(
    checks: readonly BackendCheck[],
    mutations: readonly BackendMutation[],
    links: readonly string[],
  ): Promise<CommitResult> {
    const records = this.storage.records;
    for (const c of checks) {
      const current = records.get(byteString(c.key.bytes))?.versionstamp ?? null;
      if (current !== c.versionstamp) return { ok: false };
    }
    const versionstamp = versionstampOf(++this.storage.counter);
    for (const m of mutations) {
      const k = byteString(m.key.bytes);
      if (m.type === "delete") records.delete(k);
      else records.set(k, { id: k, key: m.key.parts, value: ownCopy(m.value), versionstamp });
    }
    const now = Date.now();
    for (const id of links) {
      const blob = this.storage.blobs.get(id);
      if (blob) blob.touchedAt = now;
    }
    return { ok: true, versionstamp };
  }

  async putBlob(id: string, manifest: Uint8Array, data: Uint8Array): Promise<void> {
    const existing = this.storage.blobs.get(id);
    if (existing) existing.touchedAt = Date.now();
    else this.storage.blobs.set(id, { manifest: ownCopy(manifest), data: ownCopy(data), touchedAt: Date.now() });
  }

  async getBlob(id: string): Promise<{ manifest: Uint8Array; data: Uint8Array } | null> {
    const blob = this.storage.blobs.get(id);
    // Copies: the caller may change what it gets without changing the store.
    return blob ? { manifest: ownCopy(blob.manifest), data: ownCopy(blob.data) } : null;
  }

  async hasBlob(id: string): Promise<boolean> {
    return this.storage.blobs.has(id);
  }

  async *listBlobs(): AsyncGenerator<BlobListing> {
    for (const [id, blob] of [...this.storage.blobs]) yield { id, touchedAt: blob.touchedAt, token: blob.touchedAt };
  }

  async deleteBlob(listing: BlobListing): Promise<boolean> {
    const blob = this.storage.blobs.get(listing.id);
    if (!blob || blob.touchedAt !== listing.token) return false;
    return this.storage.blobs.delete(listing.id);
  }

  async close(): Promise<void> {}
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Open the store on this storage (to reopen what an earlier store wrote); a fresh one by default. */
  readonly storage?: MemoryStorage;
}

/** A store in this process's memory. */
export function memoryStore(options: MemoryStoreOptions = {}): StateStore {
  return new BackedStore(new MemoryBackend(options.storage ?? new MemoryStorage()), options);
}
