/**
 * Deno KV adapter: a `StateStore` over any `Deno.Kv`-shaped database — Deno's own (`Deno.openKv`, local SQLite,
 * Deno Deploy, or a self-hosted `denokv` by URL) or Node's `@deno/kv` (`openKv`), which reads the same files.
 *
 * Layout under the adapter's key prefix `P` (default `["uni-store"]`):
 * - `[...P, "r", ...key]`: a record (the sealed value, raw bytes);
 * - `[...P, "bt", id]`: a blob's touched time (8-byte float64 ms), written first when a blob is put;
 * - `[...P, "bd", id, i]`: the blob's data in chunks of 64 KiB (KV's value limit), twelve chunks per commit
 *   (KV's 800 KiB commit limit);
 * - `[...P, "bm", id]`: the blob's manifest, written last: a blob is present once its manifest is.
 *
 * Limits (measured, Deno 2.9 and `@deno/kv` 0.14): keys 2048 bytes, values 65,536 bytes, 1000 mutations and
 * 819,200 bytes per commit; checks per commit 100 in Deno but 10 in `@deno/kv`; 81,920 bytes of keys per commit
 * in Deno. The store's shared limits stay under all of these with a prefix of up to 24 encoded bytes.
 *
 * Change notification is not part of the store: a local SQLite KV's `watch` never sees other processes' writes.
 *
 * @example
 * ```ts
 * // Deno
 * const store = denoKvStore(await Deno.openKv("./state.db"), { closeKv: true });
 * // Node
 * import { openKv } from "@deno/kv";
 * const store = denoKvStore(await openKv("./state.db"), { closeKv: true });
 * ```
 *
 * @module
 */
import type {
  BackendCheck,
  BackendKey,
  BackendMutation,
  BlobListing,
  KeyRange,
  RawEntry,
  StoreBackend,
} from "../store/backend.ts";
import { corrupt, invalid, io, tooLarge } from "../store/errors.ts";
import { encodeKey, normalizeKey, showKey } from "../store/keys.ts";
import { BackedStore } from "../store/store.ts";
import type { CommitResult, Key, StateStore, StoreOptions } from "../store/types.ts";

/** A part of a Deno KV key. */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean;
/** A Deno KV key. */
export type KvKey = readonly KvKeyPart[];

interface KvEntryMaybe {
  readonly key: KvKey;
  readonly value: unknown;
  readonly versionstamp: string | null;
}

interface KvAtomic {
  check(...checks: { key: KvKey; versionstamp: string | null }[]): KvAtomic;
  set(key: KvKey, value: unknown): KvAtomic;
  delete(key: KvKey): KvAtomic;
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
}

type KvSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey };

/** The slice of `Deno.Kv` the adapter uses; Deno's `Deno.Kv` and `@deno/kv`'s `Kv` both have it. */
export interface DenoKvLike {
  get(key: KvKey): Promise<KvEntryMaybe>;
  // biome-ignore lint/suspicious/noExplicitAny: Deno.Kv declares getMany with a mapped tuple type
  getMany(keys: any): Promise<readonly KvEntryMaybe[]>;
  list(
    selector: KvSelector,
    options?: { limit?: number; reverse?: boolean; batchSize?: number },
  ): AsyncIterable<{ key: KvKey; value: unknown; versionstamp: string }>;
  atomic(): KvAtomic;
  close(): void;
}

export interface DenoKvStoreOptions extends StoreOptions {
  /** Where in the database the store lives; at most 24 encoded bytes. Default `["uni-store"]`. */
  readonly prefix?: Key;
  /** Close the database when the store is closed (when the store owns it). Default false. */
  readonly closeKv?: boolean;
}

/** KV's value limit: every data chunk is exactly this big except a blob's last. */
const CHUNK = 65_536;
/** 12 × 64 KiB = 768 KiB, under KV's 800 KiB per commit with room for the keys. */
const CHUNKS_PER_COMMIT = 12;
/** Deletes per commit when removing a blob's chunks. */
const DELETES_PER_COMMIT = 500;
/** KV's getMany reads at most 10 keys. */
const GET_MANY = 10;
/** Entries per list round trip (`@deno/kv` caps it at 500). */
const BATCH = 500;
const MAX_PREFIX_BYTES = 24;

/**
 * The keys strictly under `prefix`, as a start/end range: from `[...prefix, empty bytes]` (the least part there is)
 * to `[...prefix, true]` (booleans sort after every part a store key may hold). Not a `{ prefix }` selector:
 * `@deno/kv` 0.14 loops forever listing a prefix whose own key exists when a page holds one entry.
 */
function underPrefix(prefix: KvKey): { start: KvKey; end: KvKey } {
  return { start: [...prefix, new Uint8Array(0)], end: [...prefix, true] };
}

/**
 * A local SQLite KV shared by several processes answers "database is locked" when another process holds the
 * write lock (measured with Deno 2.9 and `@deno/kv` 0.14 writing one file at once). Nothing was applied then, so
 * the operation is retried with a growing pause, up to about two seconds in all.
 */
async function whileLocked<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= 40 || !/database (table )?is locked|SQLITE_BUSY/i.test(message)) throw err;
      // Jittered, so two processes retrying at once do not keep colliding (or one keep losing).
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 + attempt * 3)));
    }
  }
}

function bytesOf(value: unknown, where: string): Uint8Array {
  // Node's @deno/kv returns Buffers; hand out plain Uint8Arrays over the same memory.
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw corrupt(`${where} holds a ${typeof value}, not bytes`, { where });
}

function timeBytes(ms: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, ms, true);
  return out;
}

function timeOf(value: unknown): number {
  return value instanceof Uint8Array && value.length === 8
    ? new DataView(value.buffer, value.byteOffset, 8).getFloat64(0, true)
    : 0;
}

class DenoKvBackend implements StoreBackend {
  readonly adapter = "deno-kv";
  readonly #kv: DenoKvLike;
  readonly #prefix: Key;
  readonly #records: Key;
  readonly #closeKv: boolean;

  constructor(kv: DenoKvLike, prefix: Key, closeKv: boolean) {
    this.#kv = kv;
    this.#prefix = prefix;
    this.#records = [...prefix, "r"];
    this.#closeKv = closeKv;
  }

  #rec(key: Key): KvKey {
    return [...this.#records, ...key];
  }
  #touch(id: string): KvKey {
    return [...this.#prefix, "bt", id];
  }
  #manifest(id: string): KvKey {
    return [...this.#prefix, "bm", id];
  }
  #chunks(id: string): KvKey {
    return [...this.#prefix, "bd", id];
  }

  #raw(e: { key: KvKey; value: unknown; versionstamp: string | null }): RawEntry | null {
    if (e.versionstamp === null) return null;
    const key = e.key.slice(this.#records.length) as Key;
    return { key, value: bytesOf(e.value, `record ${showKey(key)}`), versionstamp: e.versionstamp };
  }

  async get(keys: readonly BackendKey[]): Promise<(RawEntry | null)[]> {
    const out: (RawEntry | null)[] = [];
    for (let i = 0; i < keys.length; i += GET_MANY) {
      const group = keys.slice(i, i + GET_MANY).map((k) => this.#rec(k.parts));
      for (const e of await whileLocked(() => this.#kv.getMany(group))) out.push(this.#raw(e));
    }
    return out;
  }

  async *list(range: KeyRange, options: { reverse: boolean; limit: number }): AsyncGenerator<RawEntry> {
    let selector: KvSelector;
    if (range.prefix === undefined) {
      selector = { start: this.#rec(range.start as Key), end: this.#rec(range.end as Key) };
    } else {
      const under = underPrefix(this.#rec(range.prefix));
      selector = {
        start: range.start ? this.#rec(range.start) : under.start,
        end: range.end ? this.#rec(range.end) : under.end,
      };
    }
    const limit = Number.isFinite(options.limit) ? options.limit : undefined;
    const iter = this.#kv.list(selector, {
      reverse: options.reverse,
      batchSize: Math.min(BATCH, limit ?? BATCH),
      ...(limit === undefined ? {} : { limit }),
    });
    for await (const e of iter) {
      const raw = this.#raw(e);
      if (raw) yield raw;
    }
  }

  async commit(
    checks: readonly BackendCheck[],
    mutations: readonly BackendMutation[],
    links: readonly string[],
  ): Promise<CommitResult> {
    const res = await this.#commit(() => {
      const op = this.#kv.atomic();
      for (const c of checks) op.check({ key: this.#rec(c.key.parts), versionstamp: c.versionstamp });
      for (const m of mutations) {
        if (m.type === "set") op.set(this.#rec(m.key.parts), m.value);
        else op.delete(this.#rec(m.key.parts));
      }
      const now = timeBytes(Date.now());
      for (const id of links) op.set(this.#touch(id), now);
      return op;
    });
    return res.ok ? { ok: true, versionstamp: res.versionstamp as string } : { ok: false };
  }

  async putBlob(id: string, manifest: Uint8Array, data: Uint8Array): Promise<void> {
    const existing = await whileLocked(() => this.#kv.get(this.#manifest(id)));
    if (existing.versionstamp !== null) {
      // Present: refresh its age, unless a collection removed it meanwhile (then write it again).
      const res = await this.#commit(() =>
        this.#kv
          .atomic()
          .check({ key: this.#manifest(id), versionstamp: existing.versionstamp })
          .set(this.#touch(id), timeBytes(Date.now())),
      );
      if (res.ok) return;
    }
    // The touch record first, so a write cut short is listed (and collected); the manifest last.
    await this.#must(() => this.#kv.atomic().set(this.#touch(id), timeBytes(Date.now())), id);
    const chunks = Math.ceil(data.length / CHUNK);
    for (let first = 0; first < chunks; first += CHUNKS_PER_COMMIT) {
      await this.#must(() => {
        const op = this.#kv.atomic();
        for (let i = first; i < Math.min(chunks, first + CHUNKS_PER_COMMIT); i++) {
          op.set([...this.#chunks(id), i], data.subarray(i * CHUNK, (i + 1) * CHUNK));
        }
        return op;
      }, id);
    }
    await this.#must(() => this.#kv.atomic().set(this.#manifest(id), manifest), id);
  }

  /** Commits the operation `build` makes, building it afresh for each retry. */
  #commit(build: () => KvAtomic): Promise<{ ok: boolean; versionstamp?: string }> {
    return whileLocked(() => build().commit());
  }

  async #must(build: () => KvAtomic, id: string): Promise<string> {
    const res = await this.#commit(build);
    if (!res.ok) throw io(`Deno KV refused an unconditional write of blob ${id}`, undefined, true, { blob: id });
    return res.versionstamp as string;
  }

  async getBlob(id: string): Promise<{ manifest: Uint8Array; data: Uint8Array } | null> {
    const m = await whileLocked(() => this.#kv.get(this.#manifest(id)));
    if (m.versionstamp === null) return null;
    const manifest = bytesOf(m.value, `blob ${id} manifest`);
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const e of this.#kv.list(underPrefix(this.#chunks(id)), { batchSize: BATCH })) {
      const index = e.key[e.key.length - 1];
      if (index !== parts.length) {
        throw corrupt(`blob ${id}: chunk ${parts.length} is missing (next stored is ${String(index)})`, { blob: id });
      }
      const chunk = bytesOf(e.value, `blob ${id} chunk ${index}`);
      parts.push(chunk);
      size += chunk.length;
    }
    const data = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { manifest, data };
  }

  async hasBlob(id: string): Promise<boolean> {
    return (await whileLocked(() => this.#kv.get(this.#manifest(id)))).versionstamp !== null;
  }

  async *listBlobs(): AsyncGenerator<BlobListing> {
    const prefix = [...this.#prefix, "bt"];
    for await (const e of this.#kv.list(underPrefix(prefix), { batchSize: BATCH })) {
      yield { id: e.key[prefix.length] as string, touchedAt: timeOf(e.value), token: e.versionstamp };
    }
  }

  /**
   * Removes the manifest and marks the touch record (one atomic step, checked against the listing), then the
   * chunks, each step checked against the mark: a `putBlob` of the same blob meanwhile rewrites the touch record
   * first, which stops the deletion before it can remove the chunks being written.
   */
  async deleteBlob(listing: BlobListing): Promise<boolean> {
    const touch = this.#touch(listing.id);
    const marked = await this.#commit(() =>
      this.#kv
        .atomic()
        .check({ key: touch, versionstamp: listing.token as string })
        .delete(this.#manifest(listing.id))
        .set(touch, timeBytes(0)),
    );
    if (!marked.ok) return false;
    const mark = marked.versionstamp as string;
    for (;;) {
      const keys: KvKey[] = [];
      for await (const e of this.#kv.list(underPrefix(this.#chunks(listing.id)), { limit: DELETES_PER_COMMIT })) {
        keys.push(e.key);
      }
      if (keys.length === 0) break;
      const res = await this.#commit(() => {
        const op = this.#kv.atomic().check({ key: touch, versionstamp: mark });
        for (const k of keys) op.delete(k);
        return op;
      });
      if (!res.ok) return true; // written again meanwhile: the new write owns the chunks
    }
    await this.#commit(() => this.#kv.atomic().check({ key: touch, versionstamp: mark }).delete(touch));
    return true;
  }

  async close(): Promise<void> {
    if (this.#closeKv) this.#kv.close();
  }
}

/**
 * A store in a Deno KV database (Deno's `Deno.openKv`, or `openKv` from `@deno/kv` in Node).
 *
 * # Errors
 * Throws `TypeCoercion` for an invalid prefix and `ResourceLimit` for one over 24 encoded bytes (synchronously: this
 * function returns no Promise).
 */
export function denoKvStore(kv: DenoKvLike, options: DenoKvStoreOptions = {}): StateStore {
  const prefix = normalizeKey(options.prefix ?? ["uni-store"], "prefix");
  const bytes = encodeKey(prefix).length;
  if (bytes > MAX_PREFIX_BYTES)
    throw tooLarge(`the store's KV prefix encodes to ${bytes} bytes (max ${MAX_PREFIX_BYTES})`);
  if (typeof kv?.atomic !== "function")
    throw invalid("denoKvStore takes a Deno.Kv (Deno.openKv, or openKv from @deno/kv)");
  return new BackedStore(new DenoKvBackend(kv, prefix, options.closeKv === true), options);
}
