/**
 * The runtime-neutral half of every adapter: {@link BackedStore} turns a {@link StoreBackend} into a
 * {@link StateStore}: it validates input, enforces the shared limits, seals record values, hashes and verifies
 * blobs, collects unlinked blobs, and reports timings to the observer.
 *
 * @module
 */
import type { BackendCheck, BackendKey, BackendMutation, KeyRange, RawEntry, StoreBackend } from "./backend.ts";
import { envelopeOverhead, isVersionstamp, openRecord, sealRecord } from "./envelope.ts";
import { asStoreError, closed, invalid, notFound, StoreError, tooLarge } from "./errors.ts";
import { compareBytes, encodeKey, hasPrefix, normalizeKey, showKey, withByte } from "./keys.ts";
import { describeBlob, isBlobId, readManifest, verifyBlob } from "./manifest.ts";
import type {
  AtomicBatch,
  BlobInfo,
  Check,
  CommitBatch,
  CommitResult,
  Entry,
  GcOptions,
  GcReport,
  Key,
  ListOptions,
  ListSelector,
  Mutation,
  StateStore,
  StoreLimits,
  StoreOptions,
} from "./types.ts";

/**
 * The limits of every adapter: Deno KV's (keys 2048 bytes, values 65,536, 10 checks with `@deno/kv`, 1000
 * mutations, 800 KiB per commit, 80 KiB of keys per commit), less room for the envelope and an adapter's key
 * prefix, so a batch accepted here is accepted by every adapter.
 */
export const STORE_LIMITS: StoreLimits = Object.freeze({
  maxKeyBytes: 1024,
  maxValueBytes: 64_000,
  maxBlobsPerRecord: 16,
  maxChecks: 10,
  maxMutations: 1000,
  maxCommitKeyBytes: 48 * 1024,
  maxCommitBytes: 768 * 1024,
  maxBlobBytes: 1 << 30,
});

/** What one linked blob costs a commit in the limits: its touch record in the adapter. */
const LINK_COST_BYTES = 96;
const DEFAULT_GC_MIN_AGE_MS = 15 * 60_000;

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

/** A {@link StateStore} over a backend. Adapters construct it; users see only `StateStore`. */
export class BackedStore implements StateStore {
  readonly limits = STORE_LIMITS;
  readonly #backend: StoreBackend;
  readonly #options: StoreOptions;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(backend: StoreBackend, options: StoreOptions = {}) {
    this.#backend = backend;
    this.#options = options;
  }

  get adapter(): string {
    return this.#backend.adapter;
  }

  #open(): void {
    if (this.#closed) throw closed(this.#backend.adapter);
  }

  #key(key: unknown, what = "key"): BackendKey {
    const parts = normalizeKey(key, what);
    const bytes = encodeKey(parts);
    if (bytes.length > this.limits.maxKeyBytes) {
      throw tooLarge(`${what} ${showKey(parts)} encodes to ${bytes.length} bytes (max ${this.limits.maxKeyBytes})`);
    }
    return { parts, bytes };
  }

  #entry(raw: RawEntry): Entry {
    const { value, blobs } = openRecord(raw.value, showKey(raw.key));
    // A copy: adapters that keep records in memory would otherwise hand out their own bytes.
    return { key: raw.key.slice(), value: value.slice(), versionstamp: raw.versionstamp, blobs };
  }

  async get(key: Key): Promise<Entry | null> {
    const [entry] = await this.getMany([key]);
    return entry ?? null;
  }

  async getMany(keys: readonly Key[]): Promise<(Entry | null)[]> {
    this.#open();
    if (!Array.isArray(keys)) throw invalid("getMany takes an array of keys");
    const backendKeys = keys.map((k) => this.#key(k));
    let raws: (RawEntry | null)[];
    try {
      raws = await this.#backend.get(backendKeys);
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: get failed`);
    }
    return raws.map((raw) => (raw ? this.#entry(raw) : null));
  }

  list(selector: ListSelector, options: ListOptions = {}): AsyncIterable<Entry> {
    return this.#list(selector, options);
  }

  async *#list(selector: ListSelector, options: ListOptions): AsyncGenerator<Entry> {
    this.#open();
    const range = this.#range(selector);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 0)) throw invalid("list limit must be a non-negative number");
    if (limit === 0 || compareBytes(range.lo, range.hi) >= 0) return;
    const iter = this.#backend.list(range, { reverse: options.reverse === true, limit })[Symbol.asyncIterator]();
    for (;;) {
      let step: IteratorResult<RawEntry>;
      try {
        step = await iter.next();
      } catch (err) {
        throw asStoreError(err, `${this.adapter} store: list failed`);
      }
      if (step.done) return;
      let entry: Entry;
      try {
        entry = this.#entry(step.value);
      } catch (err) {
        if (!options.onCorrupt || !(err instanceof StoreError)) throw err;
        options.onCorrupt(step.value.key, err);
        continue;
      }
      yield entry;
      this.#open();
    }
  }

  #range(selector: ListSelector): KeyRange {
    if (typeof selector !== "object" || selector === null) throw invalid("list takes a selector object");
    const { prefix, start, end } = selector as { prefix?: unknown; start?: unknown; end?: unknown };
    if (prefix === undefined) {
      if (start === undefined || end === undefined) throw invalid("a list selector needs a prefix, or start and end");
      const s = this.#key(start, "start");
      const e = this.#key(end, "end");
      return { start: s.parts, end: e.parts, lo: s.bytes, hi: e.bytes };
    }
    if (start !== undefined && end !== undefined) {
      throw invalid("a list selector takes prefix with start or with end, not both (use start and end alone)");
    }
    const p = this.#key(prefix, "prefix");
    // Keys under the prefix continue with a type byte (>= 0x02): prefix+0x00 is below all, prefix+0xFF above all.
    let lo = withByte(p.bytes, 0x00);
    let hi = withByte(p.bytes, 0xff);
    const range: { prefix: Key; start?: Key; end?: Key } = { prefix: p.parts };
    if (start !== undefined) {
      const s = this.#key(start, "start");
      if (!hasPrefix(s.parts, p.parts) || s.parts.length === p.parts.length) {
        throw invalid(`start ${showKey(s.parts)} is not under prefix ${showKey(p.parts)}`);
      }
      range.start = s.parts;
      lo = s.bytes;
    }
    if (end !== undefined) {
      const e = this.#key(end, "end");
      if (!hasPrefix(e.parts, p.parts) || e.parts.length === p.parts.length) {
        throw invalid(`end ${showKey(e.parts)} is not under prefix ${showKey(p.parts)}`);
      }
      range.end = e.parts;
      hi = e.bytes;
    }
    return { ...range, lo, hi };
  }

  atomic(): AtomicBatch {
    const checks: Check[] = [];
    const mutations: Mutation[] = [];
    const batch: AtomicBatch = {
      check: (...more) => {
        checks.push(...more);
        return batch;
      },
      set: (key, value, options) => {
        mutations.push({ type: "set", key, value, ...(options?.blobs ? { blobs: options.blobs } : {}) });
        return batch;
      },
      delete: (key) => {
        mutations.push({ type: "delete", key });
        return batch;
      },
      commit: () => this.commit({ checks, mutations }),
    };
    return batch;
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    const t0 = performance.now();
    this.#open();
    const { checks, mutations, links, bytes } = this.#prepare(batch);
    for (const id of links) {
      if (!(await this.#backend.hasBlob(id)))
        throw notFound(`the commit links blob ${id}, which is not stored`, { blob: id });
    }
    this.#open();
    let result: CommitResult;
    try {
      result = await this.#backend.commit(checks, mutations, links);
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: commit failed`);
    }
    this.#options.observer?.onCommit?.({
      ok: result.ok,
      mutations: mutations.length,
      bytes,
      ms: performance.now() - t0,
    });
    return result;
  }

  /** Validates a batch against the shared limits and turns it into backend form. */
  #prepare(batch: CommitBatch) {
    if (typeof batch !== "object" || batch === null || !Array.isArray(batch.mutations)) {
      throw invalid("commit takes { checks?, mutations: [] }");
    }
    const rawChecks = batch.checks ?? [];
    if (!Array.isArray(rawChecks)) throw invalid("checks must be an array");
    const L = this.limits;
    if (rawChecks.length > L.maxChecks) throw tooLarge(`${rawChecks.length} checks in one commit (max ${L.maxChecks})`);
    let keyBytes = 0;
    let bytes = 0;
    const checks: BackendCheck[] = rawChecks.map((c: Check) => {
      if (typeof c !== "object" || c === null) throw invalid("a check is { key, versionstamp }");
      if (c.versionstamp !== null && !isVersionstamp(c.versionstamp)) {
        throw invalid(`check versionstamp must be null or 20 hex digits, got ${JSON.stringify(c.versionstamp)}`);
      }
      const key = this.#key(c.key, "check key");
      keyBytes += key.bytes.length;
      return { key, versionstamp: c.versionstamp };
    });
    const links = new Set<string>();
    const mutations: BackendMutation[] = batch.mutations.map((m: Mutation) => {
      if (typeof m !== "object" || m === null) throw invalid("a mutation is { type, key, ... }");
      const key = this.#key(m.key);
      keyBytes += key.bytes.length;
      bytes += key.bytes.length;
      if (m.type === "delete") return { type: "delete", key };
      if (m.type !== "set") throw invalid(`unknown mutation type ${JSON.stringify((m as { type: unknown }).type)}`);
      if (!isBytes(m.value)) throw invalid(`the value for ${showKey(key.parts)} must be a Uint8Array`);
      if (m.value.length > L.maxValueBytes) {
        throw tooLarge(
          `the value for ${showKey(key.parts)} is ${m.value.length} bytes (max ${L.maxValueBytes}; store large data as a blob)`,
        );
      }
      const blobs = m.blobs ?? [];
      if (!Array.isArray(blobs)) throw invalid("blobs must be an array of blob ids");
      if (blobs.length > L.maxBlobsPerRecord) {
        throw tooLarge(`${showKey(key.parts)} links ${blobs.length} blobs (max ${L.maxBlobsPerRecord})`);
      }
      for (const id of blobs) {
        if (!isBlobId(id)) throw invalid(`${JSON.stringify(id)} is not a blob id (64 hex digits)`);
        links.add(id);
      }
      const value = sealRecord(m.value, blobs);
      bytes += value.length;
      return { type: "set", key, value };
    });
    const linkList = [...links];
    keyBytes += linkList.length * LINK_COST_BYTES;
    bytes += linkList.length * LINK_COST_BYTES;
    if (mutations.length + linkList.length > L.maxMutations) {
      throw tooLarge(
        `${mutations.length} mutations and ${linkList.length} linked blobs in one commit (max ${L.maxMutations} together)`,
      );
    }
    if (keyBytes > L.maxCommitKeyBytes) {
      throw tooLarge(`the commit's keys take ${keyBytes} bytes (max ${L.maxCommitKeyBytes}; split the commit)`);
    }
    if (bytes > L.maxCommitBytes) {
      throw tooLarge(`the commit writes ${bytes} bytes (max ${L.maxCommitBytes}; split it or use blobs)`);
    }
    return { checks, mutations, links: linkList, bytes };
  }

  async putBlob(bytes: Uint8Array): Promise<BlobInfo> {
    const t0 = performance.now();
    this.#open();
    if (!isBytes(bytes)) throw invalid("putBlob takes a Uint8Array");
    if (bytes.length > this.limits.maxBlobBytes) {
      throw tooLarge(`a blob of ${bytes.length} bytes (max ${this.limits.maxBlobBytes})`);
    }
    const { id, manifest } = await describeBlob(bytes);
    try {
      await this.#backend.putBlob(id, manifest, bytes);
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: writing blob ${id} failed`);
    }
    this.#options.observer?.onBlob?.({ op: "put", bytes: bytes.length, ms: performance.now() - t0 });
    return { id, size: bytes.length };
  }

  async getBlob(id: string): Promise<Uint8Array> {
    const t0 = performance.now();
    this.#open();
    if (!isBlobId(id)) throw invalid(`${JSON.stringify(id)} is not a blob id (64 hex digits)`);
    let stored: Awaited<ReturnType<StoreBackend["getBlob"]>>;
    try {
      stored = await this.#backend.getBlob(id);
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: reading blob ${id} failed`);
    }
    if (!stored) throw notFound(`no blob ${id} in the ${this.adapter} store`, { blob: id });
    const manifest = await readManifest(id, stored.manifest);
    await verifyBlob(id, manifest, stored.data);
    this.#options.observer?.onBlob?.({ op: "get", bytes: stored.data.length, ms: performance.now() - t0 });
    return stored.data;
  }

  async hasBlob(id: string): Promise<boolean> {
    this.#open();
    if (!isBlobId(id)) throw invalid(`${JSON.stringify(id)} is not a blob id (64 hex digits)`);
    try {
      return await this.#backend.hasBlob(id);
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: reading blob ${id} failed`);
    }
  }

  async gc(options: GcOptions = {}): Promise<GcReport> {
    this.#open();
    const minAgeMs = options.minAgeMs ?? DEFAULT_GC_MIN_AGE_MS;
    if (!(minAgeMs >= 0)) throw invalid("gc minAgeMs must be a non-negative number");
    const cutoff = Date.now() - minAgeMs;
    const linked = new Set<string>();
    // A damaged record may link blobs we cannot read: then collect nothing rather than guess.
    for await (const entry of this.#list({ prefix: [] }, {})) for (const id of entry.blobs) linked.add(id);
    let live = 0;
    let deleted = 0;
    let young = 0;
    try {
      for await (const blob of this.#backend.listBlobs()) {
        if (linked.has(blob.id)) live++;
        else if (blob.touchedAt > cutoff) young++;
        else if (await this.#backend.deleteBlob(blob)) deleted++;
        else young++;
      }
    } catch (err) {
      throw asStoreError(err, `${this.adapter} store: blob collection failed`);
    }
    return { live, deleted, young };
  }

  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = Promise.resolve()
        .then(() => this.#backend.close())
        .catch((err) => {
          throw asStoreError(err, `${this.adapter} store: close failed`);
        });
    }
    return this.#closing;
  }
}

/** Bytes a set of `value` linking `links` blobs stores (for callers sizing batches against the limits). */
export function storedValueBytes(value: Uint8Array, links = 0): number {
  return value.length + envelopeOverhead(links);
}
