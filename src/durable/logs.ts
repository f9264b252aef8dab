/**
 * What each live resource writes to the store, one class per surface. A resource holds its log and calls it at
 * the points where its state changes; the log knows the records (records.ts) and the durability level.
 *
 * Writes of one resource are chained: they reach the store in the order they were made (a CDC batch's entry
 * before the head update that deletes it), while different resources' writes share group commits.
 *
 * @module
 */
import { PluginError, toPluginError } from "../errors.ts";
import { Journal } from "../store/journal.ts";
import type { Key, Mutation } from "../store/types.ts";
import type { HostDurability } from "./durability.ts";
import {
  type CdcHead,
  type CrdtJournalEntry,
  type ResourceRecord,
  packedSize,
  writeCdcEntry,
  writeJournalRecord,
} from "./records.ts";

abstract class ResourceLog {
  readonly d: HostDurability;
  readonly name: string;
  plugin: string;
  version: string;
  readonly key: string;
  readonly options: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  dropped = false;
  abstract readonly surface: "index" | "crdt" | "cdc";

  constructor(d: HostDurability, name: string, plugin: string, version: string, key: string, options?: string) {
    this.d = d;
    this.name = name;
    this.plugin = plugin;
    this.version = version;
    this.key = key;
    this.options = options;
    d.track(this);
  }

  get journaled(): boolean {
    return this.d.level === "journal";
  }

  protected base(): ResourceRecord {
    return {
      surface: this.surface,
      name: this.name,
      plugin: this.plugin,
      key: this.key,
      version: this.version,
      ...(this.options === undefined ? {} : { options: this.options }),
    };
  }

  /** Runs `fn` after every earlier write of this resource; resolves when it has. */
  protected chain(fn: () => Promise<unknown>): Promise<void> {
    const next = this.#chain.then(fn);
    this.#chain = next.catch(() => {});
    return next.then(() => undefined);
  }

  /**
   * {@link chain} for a write a caller waits on in journal durability; in snapshot durability the caller does not
   * wait (the write still happens, in order; a failure is kept as a background error).
   */
  protected chained(fn: () => Promise<unknown>): Promise<void> | undefined {
    const next = this.chain(fn);
    if (this.journaled) return next;
    next.catch((err) => this.d.background(err));
    return undefined;
  }

  /** Resolves once every write made so far has settled. */
  settled(): Promise<void> {
    return this.#chain.then(() => undefined);
  }

  /** The prefixes holding this resource's entries besides its record (a CRDT's journals, a stream's log). */
  protected leftovers(): Key[] {
    return [];
  }

  /** The mutation deleting the record: once it is durable, a restore no longer sees the resource. */
  recordRemoval(): Mutation {
    return this.d.resourceDelete(this.surface, this.name);
  }

  /** Deletes every entry under {@link leftovers} (after the record is gone, or before a new one is written). */
  async sweep(): Promise<void> {
    for (const prefix of this.leftovers()) {
      const keys: Key[] = [];
      for await (const e of this.d.store.list({ prefix })) keys.push(e.key);
      for (let i = 0; i < keys.length; i += 500) {
        await this.d.writer.write(keys.slice(i, i + 500).map((key) => ({ type: "delete" as const, key })));
      }
    }
  }

  /** The resource was dropped: its record goes, then what it left. */
  gone(): Promise<void> | undefined {
    this.dropped = true;
    return this.chained(async () => {
      await this.d.writer.write([this.recordRemoval()]);
      await this.sweep();
    });
  }

  /** For an unload or a forced reload: the record's removal, to go in that commit ({@link sweep} after it). */
  async removal(): Promise<Mutation> {
    this.dropped = true;
    await this.settled();
    return this.recordRemoval();
  }
}

/** An index: one snapshot (persisted bytes), written at build/open and at every reload. */
export class IndexLog extends ResourceLog {
  readonly surface = "index" as const;

  /** A new index: its snapshot. */
  created(bytes: Uint8Array): Promise<void> | undefined {
    const copy = bytes.slice(); // the caller's bytes may be a view that changes after this returns
    return this.chained(async () => {
      const { ref, blobs } = await this.d.snapshotRef(copy);
      await this.d.writer.write([this.d.resourceSet({ ...this.base(), snapshot: ref }, blobs)]);
    });
  }

  /** The new version's snapshot, for the reload's atomic commit (blob put now). */
  async reloadWrite(bytes: Uint8Array, version: string): Promise<Mutation> {
    await this.settled();
    const { ref, blobs } = await this.d.snapshotRef(bytes);
    return this.d.resourceSet({ ...this.base(), version, snapshot: ref }, blobs);
  }

  committed(plugin: string, version: string): void {
    this.plugin = plugin;
    this.version = version;
  }
}

/** An op applied, waiting for its journal write: the journal of the epoch it was applied in, and its caller. */
interface PendingOp {
  readonly journal: Promise<Journal>;
  readonly entry: CrdtJournalEntry;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** A packed journal record stays this far under the store's value limit. */
const RECORD_ROOM = 1024;

/**
 * A CRDT state: a snapshot plus a journal of the ops and merges applied since, in epochs: a new snapshot starts a
 * new epoch, and the restore replays every epoch from the record's on (a crash between the epoch switch and the
 * snapshot's record leaves both journals, replayed in order).
 *
 * Group commit happens here, before the store: ops applied while the state's journal write is in flight wait, and
 * the next write carries all of them in one packed record (records.ts) — one key, one checksum, one entry to fold
 * away later per commit, however many ops it holds. An op resolves once the record holding it is durable.
 */
export class CrdtLog extends ResourceLog {
  readonly surface = "crdt" as const;
  #epoch = 0;
  #journal: Promise<Journal> | undefined;
  /** Ops waiting for a journal write, in the order they were applied. */
  #pending: PendingOp[] = [];
  /** The journal writes in flight (one at a time), or undefined. */
  #writing: Promise<void> | undefined;
  /** A fold started by the op count is in flight. */
  #folding = false;
  /** The last op queued for a journal write. */
  #lastOp: Promise<void> = Promise.resolve();
  #ops = 0;
  #dirty = false;
  /** Reads the state's persisted bytes now (synchronously, in the same turn as the op that triggers it). */
  #persist: () => Uint8Array | Promise<Uint8Array> = () => new Uint8Array();
  #untick: (() => void) | undefined;

  /** Starts the log at `epoch` (0 for a new state; one above the highest seen on restore). */
  start(epoch: number, persist: () => Uint8Array | Promise<Uint8Array>): void {
    this.#epoch = epoch;
    this.#persist = persist;
    this.#journal = undefined;
    if (this.d.level === "snapshot") {
      this.#untick = this.d.onTick(async () => {
        if (!this.#dirty || this.dropped) return;
        this.#dirty = false;
        const bytes = await this.#persist();
        await this.chain(() => this.#writeSnapshot(bytes, this.#epoch));
      });
    }
  }

  /** A new state: anything a dropped state of the same name left goes, then its snapshot is the record. */
  created(bytes: Uint8Array): Promise<void> | undefined {
    const copy = bytes.slice();
    const epoch = this.#epoch;
    return this.chained(async () => {
      await this.sweep();
      await this.#writeSnapshot(copy, epoch);
    });
  }

  /** A restored state (snapshot + replayed journals): its snapshot becomes the record of the current epoch. */
  restored(bytes: Uint8Array): Promise<void> | undefined {
    const copy = bytes.slice();
    const epoch = this.#epoch;
    return this.chained(async () => {
      await this.#writeSnapshot(copy, epoch);
      await this.#deleteEpochs(epoch);
    });
  }

  /** Writes the record of `epoch` with its snapshot; deletes `stale` keys in the same commit (as many as fit). */
  async #writeSnapshot(bytes: Uint8Array, epoch: number, stale: readonly Key[] = []): Promise<void> {
    if (this.dropped) return;
    const { ref, blobs } = await this.d.snapshotRef(bytes);
    const deletes = stale.map((key) => ({ type: "delete" as const, key }));
    const first = deletes.splice(0, 400);
    await this.d.writer.write([this.d.resourceSet({ ...this.base(), snapshot: ref, epoch }, blobs), ...first]);
    for (let i = 0; i < deletes.length; i += 500) await this.d.writer.write(deletes.slice(i, i + 500));
  }

  /**
   * An op or merge was applied. Journal durability: resolves once it is in the journal (group commit, see the class
   * doc). Snapshot durability: marks the state changed. Every `snapshotEveryOps` ops the state is folded into a new
   * snapshot.
   */
  applied(entry: CrdtJournalEntry): Promise<void> | undefined {
    if (this.d.level === "snapshot") {
      this.#dirty = true;
      return undefined;
    }
    if (packedSize(entry) + 1 > this.d.store.limits.maxValueBytes - RECORD_ROOM) return this.#compact(); // too big
    this.#journal ??= Journal.open(this.d.store, this.d.keys.journal(this.name, this.#epoch));
    const journal = this.#journal;
    // The op's bytes may be the encoder's shared buffer: keep a copy.
    const op: CrdtJournalEntry = { op: entry.op, bytes: entry.bytes.slice() };
    const appended = new Promise<void>((resolve, reject) => {
      this.#pending.push({ journal, entry: op, resolve, reject });
    });
    this.#lastOp = appended; // ops are written in order: once it settles, every earlier one has
    this.#writing ??= this.#write();
    // A fold every `snapshotEveryOps` ops, one at a time: ops arriving faster than folds finish do not queue more
    // (each would cost a durable write). The op that starts one also waits for it to settle, so once every op has
    // resolved no fold is left running; a failed fold does not fail the op (it is durable in its journal).
    if (++this.#ops >= this.d.snapshotEveryOps && !this.#folding) {
      this.#folding = true;
      const fold = this.#compact()
        ?.catch((err: unknown) => this.d.background(err))
        .finally(() => {
          this.#folding = false;
        });
      return Promise.all([appended, fold]).then(() => undefined);
    }
    return appended;
  }

  /** Writes what waits, a packed record per journal (epoch) and size, until nothing does. */
  async #write(): Promise<void> {
    await Promise.resolve(); // ops applied in this same turn join the first write
    const room = this.d.store.limits.maxValueBytes - RECORD_ROOM;
    try {
      while (this.#pending.length) {
        const first = this.#pending[0] as PendingOp;
        let size = 1;
        let n = 0;
        for (const p of this.#pending) {
          if (p.journal !== first.journal || (n > 0 && size + packedSize(p.entry) > room)) break;
          size += packedSize(p.entry);
          n++;
        }
        const batch = this.#pending.splice(0, n);
        try {
          await (await first.journal).append(writeJournalRecord(batch.map((p) => p.entry)));
          for (const p of batch) p.resolve();
        } catch (err) {
          await this.#recover(first.journal, err).then(
            () => {
              for (const p of batch) p.resolve();
            },
            (e: unknown) => {
              for (const p of batch) p.reject(e);
            },
          );
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  /** Resolves once every op applied so far has been written (or has failed); later ops do not hold it up. */
  async #written(): Promise<void> {
    await this.#lastOp.catch(() => {});
  }

  /** Every write made so far has settled: the chain's, and the journal's. */
  override async settled(): Promise<void> {
    await this.#written();
    await super.settled();
  }

  /**
   * A journal append failed (the store refused a write): the journal is broken for good (see Journal), but every
   * op appended to it is in the live state. The fold that replaces the broken journal writes that state as a
   * snapshot, so it makes those ops durable: the op resolves once that fold is durable (and rejects if the fold
   * fails too). Later ops go to the next epoch's journal: one failed write does not stop journaling.
   */
  #recover(broken: Promise<Journal>, err: unknown): Promise<void> {
    if (this.#journal === broken) this.#compact();
    const fold = this.#folds.get(broken);
    if (!fold) return Promise.reject(durableFailure(err, `crdt "${this.name}": journal write`));
    return fold.catch((foldErr: unknown) => {
      throw durableFailure(foldErr, `crdt "${this.name}": a journal write failed, and so did the snapshot after it`);
    });
  }

  /** The fold that replaced each journal: durable once every op appended to that journal is (see #recover). */
  readonly #folds = new WeakMap<Promise<Journal>, Promise<void>>();

  /** Folds the journal into a snapshot: taken now, written as the record of a new epoch; the old journal goes. */
  #compact(): Promise<void> | undefined {
    const persisted = this.#persist();
    const old = { epoch: this.#epoch, journal: this.#journal };
    this.#epoch++;
    this.#journal = undefined;
    this.#ops = 0;
    const epoch = this.#epoch;
    const fold = this.chained(async () => {
      // The old journal's appends in flight settle first (a broken journal's have failed), so the deletion below
      // sees them; an op still waiting for the old journal lands after it, where nothing replays it once the new
      // record is in, and the next fold deletes it.
      if (old.journal) await (await old.journal).flush().catch(() => {});
      // The new epoch's record and the deletion of the older epochs' entries in one commit: one durable write.
      await this.#writeSnapshot(await persisted, epoch, await this.#epochsBefore(epoch));
    });
    if (old.journal && fold) {
      this.#folds.set(old.journal, fold);
      fold.catch(() => {}); // awaited by #recover when an append to the old journal failed
    }
    return fold;
  }

  /** The new version's snapshot for the reload's atomic commit: a new epoch (switched to by {@link committed}). */
  async reloadWrite(bytes: Uint8Array, version: string): Promise<Mutation> {
    await this.settled();
    await this.#written();
    // The new version's snapshot holds every op: a broken journal's failure changes nothing here.
    if (this.#journal) await (await this.#journal).flush().catch(() => {});
    const { ref, blobs } = await this.d.snapshotRef(bytes);
    return this.d.resourceSet({ ...this.base(), version, snapshot: ref, epoch: this.#epoch + 1 }, blobs);
  }

  /** The reload committed: ops now go to the new epoch; the old journals go. */
  committed(plugin: string, version: string, persist: () => Uint8Array | Promise<Uint8Array>): void {
    this.plugin = plugin;
    this.version = version;
    this.#persist = persist;
    // The reload's commit (durable now) holds the new version's snapshot of every op appended so far.
    if (this.#journal) this.#folds.set(this.#journal, Promise.resolve());
    this.#epoch++;
    this.#journal = undefined;
    this.#ops = 0;
    const epoch = this.#epoch;
    // Housekeeping nobody waits for: a failure is a background error, never an unhandled rejection.
    this.chained(() => this.#deleteEpochs(epoch))?.catch((err: unknown) => this.d.background(err));
  }

  /** The keys of journal entries of epochs before `epoch`. */
  async #epochsBefore(epoch: number): Promise<Key[]> {
    const keys: Key[] = [];
    for await (const e of this.d.store.list({
      prefix: this.d.keys.journals(this.name),
      end: this.d.keys.journal(this.name, epoch),
    })) {
      keys.push(e.key);
    }
    return keys;
  }

  /** Deletes journal entries of epochs before `epoch`. */
  async #deleteEpochs(epoch: number): Promise<void> {
    const keys = await this.#epochsBefore(epoch);
    for (let i = 0; i < keys.length; i += 500) {
      await this.d.writer.write(keys.slice(i, i + 500).map((key) => ({ type: "delete" as const, key })));
    }
  }

  protected override leftovers(): Key[] {
    return [this.d.keys.journals(this.name)];
  }

  /** Dropped: the snapshot timer forgets it too. */
  override recordRemoval(): Mutation {
    this.#untick?.();
    return super.recordRemoval();
  }
}

/** A published batch, as the log writes it. */
interface UnwrittenEntry {
  lsnStart: bigint;
  lsnEnd: bigint;
  commitMicros: bigint;
  source?: string;
  mutations: Uint8Array;
}

/** The positions a CDC stream reports (see CdcStreamState). */
export interface CdcPositions {
  nextLsn: bigint;
  acknowledged: bigint;
  checkpointed: bigint;
  confirmed: { lsn: bigint; source?: string; commitMicros?: bigint };
}

/**
 * A CDC stream: its head (positions) in its record, and every published batch until it is confirmed (checkpointed
 * by the output and acknowledged by every sink) as a log entry. The restore restarts the output at the
 * acknowledged position and redelivers the logged batches from there.
 */
export class CdcLog extends ResourceLog {
  readonly surface = "cdc" as const;
  /** LSN ranges of the entries written and not yet deleted, in order. */
  #entries: { start: bigint; end: bigint }[] = [];
  /**
   * The exclusive end of what the store holds of the stream: the last entry written (or, at start, the stream's
   * next LSN). A head write never names an acknowledged or next position past it (see {@link #writeHead}).
   */
  #loggedEnd = 0n;
  /** Batches published whose entries are not in the store yet, in LSN order. */
  readonly #unwritten: UnwrittenEntry[] = [];
  #headPending: Promise<void> | undefined;
  #onDurable: () => void = () => {};
  #positions: () => CdcPositions = () => ({ nextLsn: 0n, acknowledged: 0n, checkpointed: 0n, confirmed: { lsn: 0n } });

  /**
   * Starts the log: `positions` reads the stream's current ones. A new stream (`restored` absent) first clears what
   * a dropped stream of the same name left; a restored one passes the entries already stored. `onDurable` hears
   * when {@link durableEnd} moves.
   */
  start(
    positions: () => CdcPositions,
    restored?: { start: bigint; end: bigint }[],
    onDurable?: () => void,
  ): Promise<void> | undefined {
    this.#positions = positions;
    if (onDurable) this.#onDurable = onDurable;
    this.#entries = restored ?? [];
    this.#loggedEnd = positions().nextLsn;
    return this.chained(async () => {
      if (!restored) await this.sweep();
      await this.#writeHead();
    });
  }

  /**
   * The exclusive end of the stream's log the store holds: the stream hands its sinks nothing past it, so no sink
   * ever holds an LSN that a crash takes back and a restarted stream hands out again with other rows.
   */
  get durableEnd(): bigint {
    return this.#loggedEnd;
  }

  /**
   * A batch entered the log. Journal durability: resolves once its entry is durable. A failed write keeps the entry
   * (the batch is in the stream, the output may have it): it goes out with the stream's next write, in LSN order,
   * so the stored log never has a hole; the publish learns that from its error.
   */
  published(entry: UnwrittenEntry): Promise<void> | undefined {
    this.#unwritten.push(entry);
    return this.chained(async () => {
      try {
        await this.#writeEntries();
      } catch (err) {
        if (!this.#unwritten.includes(entry)) return; // a later write took it along: it is durable
        throw durableFailure(
          err,
          `cdc stream "${this.name}": batch [${entry.lsnStart}, ${entry.lsnEnd}) is in the stream, but its log entry ` +
            "could not be written yet (it goes with the stream's next write; do not publish it again)",
        );
      }
    });
  }

  /** Writes every entry not written yet, in LSN order, as many to a commit as fit comfortably. */
  async #writeEntries(): Promise<void> {
    while (this.#unwritten.length) {
      const mutations: Mutation[] = [];
      let bytes = 0;
      let n = 0;
      for (const e of this.#unwritten) {
        if (n > 0 && (n >= 200 || bytes + e.mutations.length > 256 * 1024)) break;
        const { ref, blobs } = await this.d.snapshotRef(e.mutations);
        const record = {
          lsnStart: e.lsnStart,
          lsnEnd: e.lsnEnd,
          commitMicros: e.commitMicros,
          ...(e.source === undefined ? {} : { source: e.source }),
          mutations: ref,
        };
        const key = this.d.keys.cdcEntry(this.name, e.lsnStart);
        mutations.push({ type: "set", key, value: writeCdcEntry(record), blobs });
        bytes += "inline" in ref ? ref.inline.length : 0;
        n++;
      }
      await this.d.writer.write(mutations);
      for (const e of this.#unwritten.splice(0, n)) {
        this.#entries.push({ start: e.lsnStart, end: e.lsnEnd });
        if (e.lsnEnd > this.#loggedEnd) this.#loggedEnd = e.lsnEnd;
      }
      this.#onDurable();
    }
  }

  /**
   * Positions moved (acknowledged, checkpointed, confirmed): one head write covers every move made before it
   * starts, and deletes the entries the confirmed position passed. Journal durability: resolves once durable.
   */
  advanced(): Promise<void> | undefined {
    if (this.#headPending) return this.journaled ? this.#headPending : undefined;
    const pending = this.chained(async () => {
      this.#headPending = undefined;
      await this.#writeHead();
    });
    this.#headPending = pending ?? Promise.resolve();
    return pending;
  }

  /**
   * Writes the head. The stream moves `nextLsn` (and may check its output's checkpoint) inside `publish`, before
   * the batch's entry write is even queued, so the head may be written before the entry it would cover. It names
   * at most what the store holds (`#loggedEnd`, or the confirmed position, below which nothing is needed): a crash
   * in between must never leave a head past the end of the stored log, which no restore could resume. The
   * acknowledged position cannot run ahead anyway — sinks get nothing past {@link durableEnd} — and the restore
   * takes the next LSN from the log itself.
   */
  async #writeHead(): Promise<void> {
    if (this.dropped) return;
    await this.#writeEntries(); // entries a failed write left behind go first
    const p = this.#positions();
    let bound = p.confirmed.lsn;
    if (this.#loggedEnd > bound) bound = this.#loggedEnd;
    const min = (x: bigint) => (x < bound ? x : bound);
    const head: CdcHead = {
      nextLsn: min(p.nextLsn),
      acknowledged: min(p.acknowledged),
      checkpointed: min(p.checkpointed),
      confirmed: p.confirmed.lsn,
      ...(p.confirmed.source === undefined ? {} : { confirmedSource: p.confirmed.source }),
      ...(p.confirmed.commitMicros === undefined ? {} : { confirmedMicros: p.confirmed.commitMicros }),
    };
    // Entries wholly below the confirmed position are no longer needed.
    let gone = 0;
    while (gone < this.#entries.length && (this.#entries[gone] as { end: bigint }).end <= p.confirmed.lsn) gone++;
    const deletes: Mutation[] = this.#entries
      .slice(0, gone)
      .map((e) => ({ type: "delete" as const, key: this.d.keys.cdcEntry(this.name, e.start) }));
    for (let i = 0; i < deletes.length; i += 500) {
      const last = i + 500 >= deletes.length;
      const batch = deletes.slice(i, i + 500);
      await this.d.writer.write(last ? [this.d.resourceSet({ ...this.base(), cdc: head }), ...batch] : batch);
    }
    if (deletes.length === 0) await this.d.writer.write([this.d.resourceSet({ ...this.base(), cdc: head })]);
    this.#entries.splice(0, gone);
  }

  committed(plugin: string, version: string): void {
    this.plugin = plugin;
    this.version = version;
  }

  protected override leftovers(): Key[] {
    return [this.d.keys.cdcLog(this.name)];
  }
}

/** Wraps a store failure of a durable write as the typed, retryable error the caller sees. */
export function durableFailure(err: unknown, what: string): PluginError {
  const e = toPluginError(err);
  return new PluginError(e.code, `${what}: ${e.message}`, { retryable: e.retryable, cause: e });
}
