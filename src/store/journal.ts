/**
 * A journal: an append-only sequence of entries under one key prefix, with group commit. Appends that arrive
 * while a commit is in flight are queued and go out together in the next commit, so under concurrency many
 * appends share one durable write (one fsync on the file store, one transaction elsewhere) and throughput holds;
 * a lone append is committed at once, with no waiting for company.
 *
 * Each entry is the record `[...prefix, seq]` (seq a bigint from 0n). An append resolves only once its entry is
 * durable. A journal has one writer: each commit checks that its first sequence number is still free, so a second
 * writer on the same prefix is detected rather than interleaved.
 *
 * @module
 */
import { invalid, StoreError } from "./errors.ts";
import { ErrorCode } from "../errors.ts";
import { encodeKey, normalizeKey, showKey } from "./keys.ts";
import { LatencyRecorder, type LatencySummary } from "./metrics.ts";
import { storedValueBytes } from "./store.ts";
import type { Key, SetMutation, StateStore } from "./types.ts";

export interface JournalEntry {
  readonly seq: bigint;
  readonly value: Uint8Array;
  readonly versionstamp: string;
}

export interface JournalStats {
  /** Appends made durable. */
  readonly appends: number;
  /** Commits that carried them. */
  readonly commits: number;
  /** From `append` to its durable result, over the last appends. */
  readonly latency: LatencySummary;
}

interface Pending {
  readonly seq: bigint;
  readonly value: Uint8Array;
  readonly t0: number;
  readonly resolve: (r: { seq: bigint; versionstamp: string }) => void;
  readonly reject: (e: unknown) => void;
}

export class Journal {
  readonly #store: StateStore;
  readonly #prefix: Key;
  readonly #prefixBytes: number;
  #next: bigint;
  #queue: Pending[] = [];
  #inFlight: Promise<void> | undefined;
  #failure: unknown;
  #appends = 0;
  #commits = 0;
  readonly #latency = new LatencyRecorder();

  private constructor(store: StateStore, prefix: Key, next: bigint) {
    this.#store = store;
    this.#prefix = prefix;
    this.#prefixBytes = encodeKey(prefix).length;
    this.#next = next;
  }

  /**
   * Opens the journal under `prefix`, continuing after its last entry.
   *
   * # Errors
   * `TypeCoercion` for an invalid prefix, or when the prefix holds a key that is not `[...prefix, bigint]`.
   */
  static async open(store: StateStore, prefix: Key): Promise<Journal> {
    const p = normalizeKey(prefix, "journal prefix");
    let next = 0n;
    for await (const e of store.list({ prefix: p }, { reverse: true, limit: 1 })) {
      const seq = e.key[p.length];
      if (typeof seq !== "bigint" || e.key.length !== p.length + 1) {
        throw invalid(`journal prefix ${showKey(p)} holds ${showKey(e.key)}, which is not a journal entry`);
      }
      next = seq + 1n;
    }
    return new Journal(store, p, next);
  }

  /** The sequence number the next append gets. */
  get nextSeq(): bigint {
    return this.#next;
  }

  /**
   * Appends `value`; resolves with its sequence number once it is durable.
   *
   * # Errors
   * `TypeCoercion`/`ResourceLimit` for a value the store cannot take. A failed commit (I/O, or another writer on
   * the prefix) rejects its appends and every later one: the journal is then broken; open it again to continue.
   */
  append(value: Uint8Array): Promise<{ seq: bigint; versionstamp: string }> {
    return new Promise((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      if (!(value instanceof Uint8Array)) return reject(invalid("a journal entry must be a Uint8Array"));
      if (value.length > this.#store.limits.maxValueBytes) {
        return reject(
          new StoreError(
            ErrorCode.ResourceLimit,
            `a journal entry of ${value.length} bytes (max ${this.#store.limits.maxValueBytes})`,
          ),
        );
      }
      this.#queue.push({ seq: this.#next++, value: value.slice(), t0: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  /** Resolves once every append made so far has settled. */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  /** Entries from `from` (inclusive) on, in order. */
  async *entries(from = 0n): AsyncGenerator<JournalEntry> {
    for await (const e of this.#store.list({ prefix: this.#prefix, start: [...this.#prefix, from] })) {
      yield { seq: e.key[this.#prefix.length] as bigint, value: e.value, versionstamp: e.versionstamp };
    }
  }

  /**
   * Deletes the entries before `before` (after a snapshot has made them redundant), in as many commits as the
   * store's limits need. Resolves how many were deleted.
   */
  async truncate(before: bigint): Promise<number> {
    let deleted = 0;
    for (;;) {
      const keys: Key[] = [];
      for await (const e of this.#store.list(
        { prefix: this.#prefix, end: [...this.#prefix, before] },
        { limit: this.#store.limits.maxMutations },
      )) {
        keys.push(e.key);
      }
      if (keys.length === 0) return deleted;
      await this.#store.commit({ mutations: keys.map((key) => ({ type: "delete" as const, key })) });
      deleted += keys.length;
    }
  }

  stats(): JournalStats {
    return { appends: this.#appends, commits: this.#commits, latency: this.#latency.summary() };
  }

  /** Starts the next commit unless one is in flight: it takes as much of the queue as one commit may carry. */
  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const limits = this.#store.limits;
    const batch: Pending[] = [];
    let bytes = 0;
    let keyBytes = 0;
    for (const p of this.#queue) {
      const k = this.#prefixBytes + 10; // a bigint seq encodes to at most 9 bytes
      const b = k + storedValueBytes(p.value);
      if (batch.length > 0 && (batch.length >= limits.maxMutations || bytes + b > limits.maxCommitBytes)) break;
      if (batch.length > 0 && keyBytes + k > limits.maxCommitKeyBytes) break;
      batch.push(p);
      bytes += b;
      keyBytes += k;
    }
    this.#queue.splice(0, batch.length);
    const first = batch[0] as Pending;
    const mutations: SetMutation[] = batch.map((p) => ({ type: "set", key: [...this.#prefix, p.seq], value: p.value }));
    this.#inFlight = this.#store
      .commit({ checks: [{ key: [...this.#prefix, first.seq], versionstamp: null }], mutations })
      .then((res) => {
        if (!res.ok) {
          throw new StoreError(
            ErrorCode.DuplicateKey,
            `journal ${showKey(this.#prefix)}: entry ${first.seq} was written by another writer`,
          );
        }
        const now = performance.now();
        this.#commits++;
        this.#appends += batch.length;
        for (const p of batch) {
          this.#latency.add(now - p.t0);
          p.resolve({ seq: p.seq, versionstamp: res.versionstamp });
        }
      })
      .catch((err) => {
        this.#failure = err;
        for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(err);
      })
      .finally(() => {
        this.#inFlight = undefined;
        this.#pump();
      });
  }
}
