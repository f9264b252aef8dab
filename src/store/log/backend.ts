/**
 * The log-structured store: records live in memory and in an append-only log of committed batches; blobs are
 * files. Runtime-neutral: the runtime supplies a {@link LogDirectory} (Node's is `src/adapters/node-fs.ts`).
 *
 * - **Commit**: checks run against the latest state (including commits queued for the disk), the batch is framed
 *   with a CRC-32 and queued. One writer appends everything queued in one write and one fsync (group commit), then
 *   applies the batches to the readable state and resolves them. A reader never sees a write that is not durable.
 * - **Open**: the log is replayed. A damaged record at the end (a write torn by a crash) is cut off; damage followed
 *   by valid records is corruption and fails the open with a `Corrupt` error (or, with `recover`, the file is kept
 *   aside as `<log>.corrupt-<time>` and the store opens with the records before the damage).
 * - **Compaction**: when the log is much larger than the live records, the writer writes a new log generation
 *   holding only them (temporary file, fsync, rename, directory fsync), then deletes the old one. The newest
 *   generation wins at open, so a crash at any point leaves one complete log.
 * - **Blobs** are files written atomically (temporary file, fsync, rename), so a blob file is complete or absent.
 *
 * @module
 */
import type { BackendCheck, BackendMutation, BlobListing, KeyRange, RawEntry, StoreBackend } from "../backend.ts";
import { closed, corrupt, io, StoreError } from "../errors.ts";
import { versionstampOf } from "../envelope.ts";
import { decodeKey } from "../keys.ts";
import { isBlobId } from "../manifest.ts";
import { byteString, SortedIndex } from "../sorted-index.ts";
import { BackedStore } from "../store.ts";
import type { CommitResult, Key, StateStore, StoreOptions } from "../types.ts";
import type { AppendFile, LogDirectory } from "./directory.ts";
import {
  DELETE,
  decodeBlobFile,
  decodeHeader,
  encodeBlobFileHeader,
  encodeCommit,
  encodeHeader,
  encodeSnapshot,
  HEADER_BYTES,
  type LogMutation,
  logFileName,
  logGeneration,
  readRecord,
  SET,
  type SnapshotRecord,
  validRecordAfter,
} from "./format.ts";

const PAGE = 256;
/** Snapshot records written by compaction are cut at about this size. */
const SNAPSHOT_RECORD_BYTES = 1 << 20;
/** Per-record bookkeeping counted in the live size (frame, counter, lengths). */
const RECORD_OVERHEAD = 32;
const BLOBS = "blobs";

interface Rec {
  readonly id: string;
  readonly keyBytes: Uint8Array;
  readonly key: Key;
  readonly value: Uint8Array;
  readonly counter: bigint;
}

interface Queued {
  readonly bytes: Uint8Array;
  readonly seq: number;
  readonly apply: () => void;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface LogStoreOptions extends StoreOptions {
  /** Compact once the log exceeds this many bytes and twice the live records. Default 8 MiB. */
  readonly compactAtBytes?: number;
  /** Open a log damaged in the middle by dropping everything from the damage on (kept aside as a file). */
  readonly recover?: boolean;
  /** Told what opening found: a torn tail cut off, or damage recovered from. */
  readonly onOpen?: (report: LogOpenReport) => void;
}

export interface LogOpenReport {
  readonly file: string;
  readonly records: number;
  /** Bytes cut off the end (a write torn by a crash); 0 when the log ended cleanly. */
  readonly tornBytes: number;
  /** With `recover`: where the damaged log was kept, and the offset of the damage. */
  readonly recovered?: { readonly keptAs: string; readonly offset: number };
}

export class LogBackend implements StoreBackend {
  readonly adapter = "fs";
  readonly #dir: LogDirectory;
  readonly #lock: { release(): Promise<void> };
  readonly #compactAt: number;
  readonly #index = new SortedIndex<Rec>();
  /** Latest state of keys written by commits not yet durable: checks see these. */
  readonly #overlay = new Map<string, { counter: bigint | null; seq: number }>();
  #counter: bigint;
  #generation: bigint;
  #file: AppendFile;
  #size: number;
  #liveBytes = 0;
  #seq = 0;
  #queue: Queued[] = [];
  #writer: Promise<void> | undefined;
  #failure: StoreError | undefined;
  #closed = false;
  readonly #blobs = new Set<string>();
  /** Blobs written or linked in this session: ms; older ones use the file's mtime. */
  readonly #touched = new Map<string, number>();

  private constructor(
    dir: LogDirectory,
    lock: { release(): Promise<void> },
    compactAt: number,
    state: { generation: bigint; counter: bigint; file: AppendFile; size: number },
  ) {
    this.#dir = dir;
    this.#lock = lock;
    this.#compactAt = compactAt;
    this.#generation = state.generation;
    this.#counter = state.counter;
    this.#file = state.file;
    this.#size = state.size;
  }

  /**
   * # Errors
   * As {@link logStore}.
   */
  static async open(dir: LogDirectory, options: LogStoreOptions): Promise<LogBackend> {
    let lock: { release(): Promise<void> };
    try {
      lock = await dir.lock();
    } catch (err) {
      throw err instanceof StoreError ? err : io(`cannot lock ${dir.location}`, err);
    }
    try {
      return await LogBackend.#open(dir, lock, options);
    } catch (err) {
      await lock.release().catch(() => {});
      throw err instanceof StoreError ? err : io(`cannot open the store in ${dir.location}`, err);
    }
  }

  static async #open(dir: LogDirectory, lock: { release(): Promise<void> }, options: LogStoreOptions) {
    const names = await dir.list("");
    let generation = 0n;
    for (const name of names) {
      const g = logGeneration(name);
      if (g !== null && g > generation) generation = g;
    }
    // Leftovers of interrupted writes and of compactions that finished renaming but not deleting.
    for (const name of names) {
      const g = logGeneration(name);
      if (name.includes(".tmp-") || (g !== null && g < generation)) await dir.remove(name);
    }
    for (const name of await dir.list(BLOBS)) if (name.includes(".tmp-")) await dir.remove(`${BLOBS}/${name}`);
    if (generation === 0n) {
      generation = 1n;
      await dir.writeAtomic(logFileName(generation), [encodeHeader({ generation, counter: 0n })]);
    }
    const name = logFileName(generation);
    const where = `${dir.location}/${name}`;
    const bytes = (await dir.read(name)) ?? new Uint8Array();
    const header = decodeHeader(bytes, where);
    const state = { counter: header.counter, records: 0 };
    const replay = new SortedIndex<Rec>();
    let offset = HEADER_BYTES;
    let liveBytes = 0;
    const put = (keyBytes: Uint8Array, value: Uint8Array | null, counter: bigint) => {
      const id = byteString(keyBytes);
      const old = replay.get(id);
      if (old) liveBytes -= old.keyBytes.length + old.value.length + RECORD_OVERHEAD;
      if (value === null) {
        replay.delete(id);
        return;
      }
      const key = decodeKey(keyBytes);
      replay.set(id, { id, keyBytes, key, value, counter });
      liveBytes += keyBytes.length + value.length + RECORD_OVERHEAD;
    };
    for (;;) {
      const step = readRecord(bytes, offset);
      if (!step) break;
      const rec = step.record;
      if (rec.type === 1) {
        for (const m of rec.mutations) put(m.key, m.op === SET ? (m.value as Uint8Array) : null, rec.counter);
        if (rec.counter > state.counter) state.counter = rec.counter;
      } else {
        for (const r of rec.records) {
          put(r.key, r.value, r.counter);
          if (r.counter > state.counter) state.counter = r.counter;
        }
      }
      state.records++;
      offset = step.next;
    }
    const report: { file: string; records: number; tornBytes: number; recovered?: LogOpenReport["recovered"] } = {
      file: where,
      records: state.records,
      tornBytes: 0,
    };
    if (offset < bytes.length) {
      const next = validRecordAfter(bytes, offset);
      if (next !== null) {
        if (!options.recover) {
          throw corrupt(
            `${where}: damaged record at byte ${offset} with valid records after it (at ${next}); ` +
              "open with { recover: true } to keep the records before the damage",
            { where: `${where}@${offset}` },
          );
        }
        const keptAs = `${name}.corrupt-${Date.now()}`;
        await dir.writeAtomic(keptAs, [bytes]);
        report.recovered = { keptAs, offset };
      } else {
        report.tornBytes = bytes.length - offset;
      }
    }
    const file = await dir.openAppend(name);
    if (offset < bytes.length) await file.truncate(offset);
    options.onOpen?.(report);
    const b = new LogBackend(dir, lock, options.compactAtBytes ?? 8 << 20, {
      generation,
      counter: state.counter,
      file,
      size: offset,
    });
    for (const r of replay.values()) b.#index.set(r.id, r);
    b.#liveBytes = liveBytes;
    for (const name of await dir.list(BLOBS)) if (isBlobId(name)) b.#blobs.add(name);
    return b;
  }

  #usable(): void {
    if (this.#closed) throw closed(this.adapter);
    if (this.#failure) throw this.#failure;
  }

  async get(keys: readonly { bytes: Uint8Array }[]): Promise<(RawEntry | null)[]> {
    this.#usable();
    return keys.map((k) => {
      const r = this.#index.get(byteString(k.bytes));
      return r ? raw(r) : null;
    });
  }

  async *list(range: KeyRange, options: { reverse: boolean; limit: number }): AsyncGenerator<RawEntry> {
    this.#usable();
    let lo = byteString(range.lo);
    let hi = byteString(range.hi);
    let left = options.limit;
    while (left > 0) {
      const page = this.#index.range(lo, hi, options.reverse, Math.min(PAGE, left));
      if (page.length === 0) return;
      for (const r of page) yield raw(r);
      left -= page.length;
      const last = (page[page.length - 1] as Rec).id;
      if (options.reverse) hi = last;
      else lo = `${last}\0`;
    }
  }

  #current(id: string): bigint | null {
    const pending = this.#overlay.get(id);
    if (pending) return pending.counter;
    return this.#index.get(id)?.counter ?? null;
  }

  commit(
    checks: readonly BackendCheck[],
    mutations: readonly BackendMutation[],
    links: readonly string[],
  ): Promise<CommitResult> {
    return new Promise((resolve, reject) => {
      this.#usable();
      for (const c of checks) {
        const current = this.#current(byteString(c.key.bytes));
        if ((current === null ? null : versionstampOf(current)) !== c.versionstamp) return resolve({ ok: false });
      }
      const counter = ++this.#counter;
      const seq = ++this.#seq;
      const logged: LogMutation[] = mutations.map((m) =>
        m.type === "set" ? { op: SET, key: m.key.bytes, value: m.value } : { op: DELETE, key: m.key.bytes },
      );
      for (const m of mutations) {
        this.#overlay.set(byteString(m.key.bytes), { counter: m.type === "set" ? counter : null, seq });
      }
      const apply = () => {
        for (const m of mutations) {
          const id = byteString(m.key.bytes);
          const old = this.#index.get(id);
          if (old) this.#liveBytes -= old.keyBytes.length + old.value.length + RECORD_OVERHEAD;
          if (m.type === "set") {
            this.#index.set(id, { id, keyBytes: m.key.bytes, key: m.key.parts, value: m.value, counter });
            this.#liveBytes += m.key.bytes.length + m.value.length + RECORD_OVERHEAD;
          } else this.#index.delete(id);
          if (this.#overlay.get(id)?.seq === seq) this.#overlay.delete(id);
        }
        const now = Date.now();
        for (const id of links) this.#touched.set(id, now);
      };
      this.#queue.push({
        bytes: encodeCommit(counter, logged),
        seq,
        apply,
        resolve: () => resolve({ ok: true, versionstamp: versionstampOf(counter) }),
        reject,
      });
      this.#writer ??= this.#write();
    });
  }

  /** The one writer: appends whatever is queued in one write and one fsync, until the queue is empty. */
  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failure) {
        const group = this.#queue.splice(0);
        const bytes = concat(group.map((q) => q.bytes));
        try {
          await this.#file.write(bytes, this.#size);
          await this.#file.sync();
        } catch (err) {
          // After a failed fsync the file's state is unknown: stop, as Postgres does, rather than guess.
          this.#failure = io(`${this.#dir.location}: log write failed; reopen the store`, err, false);
          for (const q of [...group, ...this.#queue.splice(0)]) q.reject(this.#failure);
          this.#overlay.clear();
          return;
        }
        this.#size += bytes.length;
        for (const q of group) {
          q.apply();
          q.resolve();
        }
        if (this.#size > this.#compactAt && this.#size > 2 * (this.#liveBytes + HEADER_BYTES)) await this.#compact();
      }
    } finally {
      this.#writer = undefined;
      if (this.#queue.length > 0 && !this.#failure) this.#writer = this.#write();
    }
  }

  /** Writes the live records as a new log generation and switches to it. Runs inside the writer. */
  async #compact(): Promise<void> {
    const generation = this.#generation + 1n;
    const name = logFileName(generation);
    const parts: Uint8Array[] = [encodeHeader({ generation, counter: this.#counter })];
    let batch: SnapshotRecord[] = [];
    let batchBytes = 0;
    let size = parts[0]?.length ?? 0;
    const flush = () => {
      if (batch.length === 0) return;
      const rec = encodeSnapshot(batch);
      parts.push(rec);
      size += rec.length;
      batch = [];
      batchBytes = 0;
    };
    for (const r of this.#index.values()) {
      batch.push({ counter: r.counter, key: r.keyBytes, value: r.value });
      batchBytes += r.keyBytes.length + r.value.length + 16;
      if (batchBytes >= SNAPSHOT_RECORD_BYTES) flush();
    }
    flush();
    const oldName = logFileName(this.#generation);
    try {
      await this.#dir.writeAtomic(name, parts);
      const file = await this.#dir.openAppend(name);
      await this.#file.close();
      this.#file = file;
      this.#generation = generation;
      this.#size = size;
      await this.#dir.remove(oldName);
    } catch (err) {
      // The old log is still complete and current unless the switch happened; either way nothing is lost, but
      // the writer cannot tell which file later appends should go to: stop.
      this.#failure = io(`${this.#dir.location}: compaction failed; reopen the store`, err, false);
      for (const q of this.#queue.splice(0)) q.reject(this.#failure);
      this.#overlay.clear();
    }
  }

  async putBlob(id: string, manifest: Uint8Array, data: Uint8Array): Promise<void> {
    this.#usable();
    const path = `${BLOBS}/${id}`;
    if (this.#blobs.has(id) && (await this.#dir.modifiedAt(path)) !== null) {
      await this.#dir.touch(path);
    } else {
      await this.#dir.writeAtomic(path, [encodeBlobFileHeader(manifest), manifest, data]);
      this.#blobs.add(id);
    }
    this.#touched.set(id, Date.now());
  }

  async getBlob(id: string): Promise<{ manifest: Uint8Array; data: Uint8Array } | null> {
    this.#usable();
    const file = await this.#dir.read(`${BLOBS}/${id}`);
    return file ? decodeBlobFile(file, id) : null;
  }

  async hasBlob(id: string): Promise<boolean> {
    this.#usable();
    return this.#blobs.has(id);
  }

  async #touchedAt(id: string): Promise<number | null> {
    const mtime = await this.#dir.modifiedAt(`${BLOBS}/${id}`);
    if (mtime === null) return null;
    return Math.max(mtime, this.#touched.get(id) ?? 0);
  }

  async *listBlobs(): AsyncGenerator<BlobListing> {
    this.#usable();
    for (const id of await this.#dir.list(BLOBS)) {
      if (!isBlobId(id)) continue;
      const touchedAt = await this.#touchedAt(id);
      if (touchedAt !== null) yield { id, touchedAt, token: touchedAt };
    }
  }

  async deleteBlob(listing: BlobListing): Promise<boolean> {
    this.#usable();
    const touchedAt = await this.#touchedAt(listing.id);
    if (touchedAt === null || touchedAt !== listing.token) return false;
    this.#blobs.delete(listing.id);
    this.#touched.delete(listing.id);
    await this.#dir.remove(`${BLOBS}/${listing.id}`);
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#writer) await this.#writer;
    this.#closed = true;
    await this.#file.close();
    await this.#lock.release();
  }
}

function raw(r: Rec): RawEntry {
  return { key: r.key, value: r.value, versionstamp: versionstampOf(r.counter) };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Opens (or creates) the log-structured store in `dir`.
 *
 * # Errors
 * `Io` when the directory is locked by another live process or cannot be read; `Corrupt` when the log is damaged
 * in the middle (see {@link LogStoreOptions.recover}).
 */
export async function logStore(dir: LogDirectory, options: LogStoreOptions = {}): Promise<StateStore> {
  return new BackedStore(await LogBackend.open(dir, options), options);
}
