/**
 * A named, host-owned CDC stream: the host assigns LSNs to published change batches and logs them with their
 * source positions and commit times; the output hands batches on through `cdc-sink`; the host keeps what it emits
 * in an outbox until every sink has acknowledged it (see ./cdc-delivery.ts). The sink sees every LSN exactly once —
 * across reloads, sink failures and restores too — and `checkpoint()` never passes a row the sink has not
 * acknowledged, so its source position is safe to confirm upstream.
 *
 * LSN boundaries (see wit/cdc.wit): a batch covers [lsnStart, lsnEnd); `checkpoint` is exclusive; `start(from)`
 * resumes at `from` inclusive. The whole host-side state is one plain record (./cdc-state.ts, `state`).
 *
 * @module
 */
import type { ChangeBatch } from "../component/types.ts";
import { ErrorCode, PluginCallError, PluginError, toPluginError } from "../errors.ts";
import type { PluginVersion } from "../plugin.ts";
import type { StreamCallOptions } from "../worker/types.ts";
import { type CdcPublishMeta, type CheckedBatch, checkBatch } from "./cdc-batch.ts";
import { type CdcRetry, type CdcSink, Delivery } from "./cdc-delivery.ts";
import { type CdcRetain, type Retained, Room, type Turn } from "./cdc-room.ts";
import {
  type CdcEmit,
  type CdcLogEntry,
  type CdcOrigin,
  type CdcPosition,
  type CdcStreamState,
  checkState,
  copyState,
  freshState,
} from "./cdc-state.ts";
import {
  type CallOptions,
  type CdcClientLike,
  type CdcStreamLike,
  dropQuietly,
  inThread,
  type MaybePromise,
} from "./clients.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import type { ArrowInput } from "../arrow.ts";
import type { CdcLog } from "../durable/logs.ts";
import type { Mutation } from "../store/types.ts";
import type { HandoffContext, HandoffOutcome } from "./handoff.ts";

export type { CdcEmit, CdcOrigin, CdcPosition, CdcStreamState, CdcLogEntry } from "./cdc-state.ts";
export type { CdcPublishMeta } from "./cdc-batch.ts";
export type { CdcRetry, CdcSink } from "./cdc-delivery.ts";
export type { CdcRetain } from "./cdc-room.ts";

export interface CdcOptions {
  /** Resume point (inclusive). Default: the output starts fresh at LSN 0. With `restore`: the record's `emittedEnd`. */
  fromLsn?: bigint;
  /** Ask the output for a checkpoint after this many publishes (default 8). */
  checkpointEvery?: number;
  /** The bound on what the stream retains; see {@link CdcRetain}. */
  retain?: CdcRetain;
  /** Redelivery after a sink failure (default: backoff from 100 ms to 30 s); `false`: only on `resume()`. */
  retry?: CdcRetry | false;
  /**
   * A stream's state record (`LiveCdc.state`, e.g. persisted before a restart) to continue from. The output must be
   * started at the record's `emittedEnd` (pass it as `fromLsn`); batches the old output had not emitted are
   * redelivered to the new one, and the outbox reaches the sinks from the acknowledged position.
   */
  restore?: CdcStreamState;
}

/** The stream a version runs for this live resource. */
interface Binding {
  version: PluginVersion;
  stream: CdcStreamLike;
}

/** A stream started on the next version during reload, not yet visible. */
export interface PendingCdcHandoff {
  readonly live: LiveCdc;
  readonly binding: Binding;
  readonly resumeAt: bigint;
  readonly staged: CdcEmit[];
}

type EmitMode = "live" | "staged" | "sealed";

/** What a stream carries through a reload: the stream started on the new version, or the decision to drop it. */
type CdcPending = { handoff: PendingCdcHandoff; retiring?: Binding } | { drop: true };

const U64_MAX = (1n << 64n) - 1n;

export class LiveCdc extends LiveResource<CdcPending> {
  readonly surface = "cdc" as const;
  /** @internal The host's log holds every batch after what the sink received: a stream outlives a trapped version. */
  readonly survivesTrap = true;
  /** @internal */
  binding: Binding;
  /** @internal its head and log in the host's store (durable hosts only). */
  log: CdcLog | undefined;
  readonly #checkpointEvery: number;
  readonly #room: Room;
  #s: CdcStreamState;
  readonly #delivery: Delivery;
  /** Bytes of the log's mutations plus the outbox's payloads. */
  #bytes = 0;
  /** Mutations below this LSN were released (the output emitted past them). */
  #releasedTo: bigint;
  #sinceCheckpoint = 0;
  #halted: PluginError | null = null;
  /** Emits accepted or refused so far: tells a batch the output refused outright from one it took in. */
  #emitCalls = 0;
  #staged: CdcEmit[] | null = null;
  #stagedEnd = 0n;
  #sealed: CdcStreamLike | null = null;
  /** Every operation on the output runs after the previous one finished (a worker-hosted output answers later). */
  #serial: Promise<unknown> = Promise.resolve();
  /** Set by the constructor for a restored record: the batches the new output must be given by {@link opened}. */
  #redeliver = false;

  /** @internal created by PluginHost.attachCdc */
  constructor(
    entry: PluginEntry,
    name: string,
    output: string,
    stream: CdcStreamLike,
    options: CdcOptions,
    onDrop: (r: LiveResource) => void,
  ) {
    super(entry, name, output, onDrop);
    this.binding = { version: entry.current, stream };
    this.#checkpointEvery = Math.max(1, options.checkpointEvery ?? 8);
    this.#room = new Room(options.retain);
    const from = options.fromLsn ?? 0n;
    this.#s = freshState(output, from);
    this.#releasedTo = from;
    this.#delivery = new Delivery(
      {
        name,
        state: () => this.#s,
        acknowledged: (freed) => this.#acknowledged(freed),
        durableEnd: () => this.log?.durableEnd ?? U64_MAX,
      },
      options.retry,
    );
    if (options.restore !== undefined) {
      try {
        this.#restore(options.restore, from);
      } catch (err) {
        this.dropNow(); // the stream the host started for us goes with it
        throw err;
      }
    }
  }

  /** The output name, e.g. `changelog`. */
  get output(): string {
    return this.key;
  }
  /** The LSN the next published batch starts at. */
  get nextLsn(): bigint {
    return this.#s.nextLsn;
  }
  /** The output's last checkpoint (exclusive), as it reported it. */
  get checkpointed(): bigint {
    return this.#s.checkpointed;
  }
  /** Exclusive bound of what the output emitted (handed to the host; sinks may not have acknowledged it yet). */
  get emittedEnd(): bigint {
    return this.#s.emittedEnd;
  }
  /** Exclusive bound of what every sink acknowledged. */
  get acknowledged(): bigint {
    return this.#s.acknowledged;
  }
  /** Batches kept because the output has not checkpointed past them or a sink has not acknowledged them. */
  get retainedBatches(): number {
    return this.#s.log.length;
  }
  /** Bytes kept: unemitted batches and unacknowledged emits. */
  get retainedBytes(): number {
    return this.#bytes;
  }
  /** The error that halted the output, if any (a reload resumes it from the checkpoint). */
  get halted(): PluginError | null {
    return this.#halted;
  }
  /** The sink failure that halted delivery, if any (retried with backoff, or on `resume()`). */
  get sinkError(): PluginError | null {
    return this.#delivery.error;
  }
  /**
   * A copy of the stream's whole host-side state, for persisting (`CdcOptions.restore` continues from it). The
   * byte arrays in it are shared with the stream: the host never mutates them, and neither may the caller.
   */
  get state(): CdcStreamState {
    return copyState(this.#s);
  }

  /**
   * Subscribes a sink to what the output emits; returns the unsubscribe function. The sink acknowledges an emit
   * by returning, or by resolving the promise it returns; until every sink has acknowledged an emit, the
   * checkpoint does not pass it. A sink that throws or rejects halts delivery ({@link sinkError}); delivery is
   * retried from the host's copy. With no sink subscribed, emits wait in the outbox (nothing is acknowledged).
   */
  onEmit(sink: CdcSink): () => void {
    return this.#delivery.subscribe(sink);
  }

  /**
   * Appends a change batch to the log, assigning it the next `max(1, rows)` LSNs, and delivers it to the output.
   * `meta` is the batch's commit time (a bigint, microseconds) or `{ commitMicros, source }`.
   *
   * # Errors
   * - `TypeCoercion`: the batch is not an Arrow IPC stream with a schema, or `meta` is out of range. Nothing changed.
   * - The output's own error when it refuses the batch outright (it changed nothing): nothing was logged.
   * - `ResourceLimit`: the batch would take LSNs past 2^64 - 1 (not retryable: start a new stream); or, with
   *   `retain.whenFull: "refuse"`, the stream is full (retryable).
   * - When the output fails to hand data on, the stream halts: the batch *is* logged, this and later publishes
   *   reject, and a reload of the plugin resumes the stream from its checkpoint with nothing lost.
   */
  async publish(
    mutations: ArrowInput,
    meta?: bigint | CdcPublishMeta,
    call?: CallOptions,
  ): Promise<{ lsnStart: bigint; lsnEnd: bigint }> {
    const batch = checkBatch(this.name, mutations, meta);
    let turn: Turn | null = null;
    for (;;) {
      const outcome = await this.call(() => this.#op(() => this.#tryAppend(batch, turn, call)));
      if ("appended" in outcome) {
        // A durable host: the batch's log entry is durable before the publish resolves (journal durability).
        await outcome.durable;
        return outcome.appended;
      }
      turn = outcome.turn;
      await outcome.ready;
    }
  }

  /**
   * Asks the output for its checkpoint and returns the stream's confirmed position: the exclusive LSN bound below
   * which the output has checkpointed and every sink acknowledged. The log is trimmed to it.
   */
  async checkpoint(): Promise<bigint> {
    const lsn = await this.call(() =>
      this.#op(async () => {
        await this.#checkpointNow();
        return this.#s.confirmed.lsn;
      }),
    );
    await this.log?.advanced(); // a durable host: the position reported is the one a restart resumes from
    return lsn;
  }

  /**
   * Like {@link checkpoint}, with the source position and commit time of the last batch below it: the highest
   * source position safe to confirm upstream (e.g. a replication slot's flush position).
   */
  async checkpointPosition(): Promise<CdcPosition> {
    const position = await this.call(() =>
      this.#op(async () => {
        await this.#checkpointNow();
        return { ...this.#s.confirmed };
      }),
    );
    await this.log?.advanced();
    return position;
  }

  /**
   * Retries delivery now, after a sink failure; resolves with the acknowledged position once every emit so far is
   * acknowledged. See {@link delivered}.
   */
  resume(): Promise<bigint> {
    return this.#delivery.resume();
  }

  /**
   * Resolves with the acknowledged position once every emit so far is acknowledged.
   *
   * # Errors
   * The {@link CdcSinkError} if delivery is halted, or halts first; `Disposed` if the stream is dropped.
   */
  delivered(): Promise<bigint> {
    return this.#delivery.delivered();
  }

  // publishing --------------------------------------------------------------

  /** Runs `fn` once every earlier operation on the output has finished. */
  #op<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(fn);
    this.#serial = next.catch(() => {});
    return next;
  }

  /** Appends `batch` if there is room and no earlier publish is waiting; else says how to wait for a turn. */
  async #tryAppend(
    batch: CheckedBatch,
    turn: Turn | null,
    call?: CallOptions,
  ): Promise<
    | { appended: { lsnStart: bigint; lsnEnd: bigint }; durable: Promise<void> | undefined }
    | { turn: Turn; ready: Promise<void> }
  > {
    const room = this.#room;
    const bytes = batch.mutations.byteLength;
    if (room.ahead(turn) || !room.fits(bytes, this.#retained())) {
      if (!room.ahead(turn)) await this.#freeRoom();
      if (room.ahead(turn) || !room.fits(bytes, this.#retained())) {
        const s = this.#s;
        if (room.refuses) {
          throw room.full(this.name, this.#retained(), s.acknowledged, s.emittedEnd, this.binding.version.handle.id);
        }
        return room.wait(turn);
      }
    }
    room.admitted(turn);
    const lsnStart = this.#s.nextLsn;
    // The store logs what the host's log keeps: a batch the output refused outright left it; one that halted
    // the stream stayed (and is redelivered on resume), so it is written even though this publish rejects.
    const logged = () => {
      if (this.#s.nextLsn === lsnStart) return undefined;
      return this.log?.published({
        lsnStart,
        lsnEnd: this.#s.nextLsn,
        commitMicros: batch.commitMicros,
        ...(batch.source === undefined ? {} : { source: batch.source }),
        mutations: batch.mutations,
      });
    };
    let appended: { lsnStart: bigint; lsnEnd: bigint };
    try {
      appended = await this.#append(batch, call);
    } catch (err) {
      logged()?.catch(() => {});
      throw err;
    }
    return { appended, durable: logged() };
  }

  #retained(): Retained {
    return { bytes: this.#bytes, batches: this.#s.log.length, emits: this.#s.outbox.length };
  }

  /** A full stream asks the output for a checkpoint: that flushes buffering outputs and trims what is confirmed. */
  async #freeRoom(): Promise<void> {
    if (this.#halted || this.binding.version.instance.poisoned) return;
    try {
      await this.#checkpointNow();
    } catch {
      // The output's checkpoint failing leaves the stream as full as it was; publish waits or refuses.
    }
  }

  async #append(batch: CheckedBatch, call?: CallOptions): Promise<{ lsnStart: bigint; lsnEnd: bigint }> {
    const s = this.#s;
    const lsnStart = s.nextLsn;
    const lsnEnd = lsnStart + BigInt(Math.max(1, batch.rows));
    if (lsnEnd > U64_MAX) {
      throw new PluginError(
        ErrorCode.ResourceLimit,
        `cdc stream "${this.name}" is out of LSNs: it is at ${lsnStart} and the batch needs ${lsnEnd - lsnStart} ` +
          `more, past the u64 limit ${U64_MAX}; nothing was logged — start a new stream`,
        { pluginId: this.binding.version.handle.id },
      );
    }
    const entry: CdcLogEntry = {
      lsnStart,
      lsnEnd,
      commitMicros: batch.commitMicros,
      ...(batch.source === undefined ? {} : { source: batch.source }),
      mutations: batch.mutations,
    };
    s.log.push(entry);
    s.nextLsn = lsnEnd;
    this.#bytes += batch.mutations.byteLength;
    try {
      if (!this.#halted) await this.#deliverNew(entry, call);
      if (this.#halted) throw this.#haltedError(lsnStart, lsnEnd);
      if (++this.#sinceCheckpoint >= this.#checkpointEvery) await this.#checkpointNow();
    } finally {
      this.#delivery.pump();
    }
    return { lsnStart, lsnEnd };
  }

  /** Hands a just-logged batch to the output; an outright refusal takes it back out of the log. */
  async #deliverNew(entry: CdcLogEntry, call?: CallOptions): Promise<void> {
    const emitCalls = this.#emitCalls;
    const binding = this.binding;
    try {
      await this.#streamCall(binding, "live", (c) => binding.stream.deliver(batchOf(entry), { ...c, ...call }));
    } catch (err) {
      const e = toPluginError(err, binding.version.handle.id);
      // Only the plugin's own fn-error with nothing emitted is an outright refusal; a trap, a deadline or a
      // dead worker halts the stream with the batch kept (a reload or restore redelivers it).
      if (this.#emitCalls === emitCalls && err instanceof PluginCallError && !binding.version.instance.poisoned) {
        // The output refused the batch itself, without handing anything on: it changed nothing, so neither does
        // the host — the batch leaves the log and the stream goes on exactly as it was.
        const s = this.#s;
        s.log.pop();
        s.nextLsn = entry.lsnStart;
        this.#bytes -= (entry.mutations as Uint8Array).byteLength;
        throw new PluginError(
          e.code,
          `cdc stream "${this.name}": the output refused the batch (${e.message}); nothing was logged and the ` +
            `stream goes on at LSN ${entry.lsnStart}`,
          { retryable: e.retryable, pluginId: this.binding.version.handle.id, cause: e },
        );
      }
      this.#halted = e;
    }
  }

  #haltedError(lsnStart: bigint, lsnEnd: bigint): PluginError {
    const h = this.#halted as PluginError;
    return new PluginError(
      h.code,
      `cdc stream "${this.name}" is halted at checkpoint ${this.#s.checkpointed} (${h.message}); ` +
        `batch [${lsnStart}, ${lsnEnd}) is retained with the rest, and a reload of the plugin resumes delivery`,
      { retryable: h.retryable, ...(h.pluginId === undefined ? {} : { pluginId: h.pluginId }), cause: h },
    );
  }

  // positions ---------------------------------------------------------------

  async #checkpointNow(): Promise<bigint> {
    const binding = this.binding;
    const c = await this.#streamCall(binding, "live", (call) => binding.stream.checkpoint(call));
    this.#s.checkpointed = c;
    this.#sinceCheckpoint = 0;
    this.#delivery.pump(); // a buffering output flushes on checkpoint
    this.#confirm();
    return c;
  }

  /** Delivery moved the acknowledged position. */
  #acknowledged(freedBytes: number): void {
    this.#bytes -= freedBytes;
    this.#confirm();
    this.#room.freed();
    void this.log?.advanced()?.catch(() => {}); // failures are the log's background errors
  }

  /** Drops the batches the output has checkpointed and every sink acknowledged from the log. */
  #confirm(): void {
    const s = this.#s;
    let bound = s.acknowledged;
    if (s.checkpointed < bound) bound = s.checkpointed;
    let drop = 0;
    let last: CdcLogEntry | undefined;
    let lastSource: string | undefined;
    while (drop < s.log.length && (s.log[drop] as CdcLogEntry).lsnEnd <= bound) {
      last = s.log[drop] as CdcLogEntry;
      if (last.source !== undefined) lastSource = last.source;
      if (last.mutations) this.#bytes -= last.mutations.byteLength; // only if the output never emitted it
      drop++;
    }
    if (!last) return;
    s.log.splice(0, drop);
    const source = lastSource ?? s.confirmed.source;
    s.confirmed = { lsn: last.lsnEnd, ...(source === undefined ? {} : { source }), commitMicros: last.commitMicros };
    void this.log?.advanced()?.catch(() => {});
  }

  // the sink the output calls -------------------------------------------------

  /**
   * Runs a call into `binding`'s stream with its emits accepted here in `mode`. In the host's thread the output's
   * `cdc-sink.emit` lands in {@link #accept} during the call; in a worker the worker checks each emit against the
   * same expectation (mode, next LSN) and hands the accepted ones back, in order, before the call settles.
   */
  #streamCall<T>(binding: Binding, mode: EmitMode, fn: (call: StreamCallOptions) => MaybePromise<T>): MaybePromise<T> {
    if (!inThread(binding.version.instance)) {
      const nextLsn = mode === "staged" ? this.#stagedEnd : this.#s.emittedEnd;
      return fn({
        sink: { mode, nextLsn, stream: this.name },
        onEmit: (e) => {
          try {
            this.#accept(binding, mode, e.output, e.lsnStart, e.lsnEnd, e.payload);
          } catch {
            // The worker applied the same checks: an emit it accepted is accepted here too.
          }
        },
      });
    }
    const route = binding.version.sinkRoute;
    const previous = route.current;
    route.current = (output, lsnStart, lsnEnd, payload) =>
      this.#accept(binding, mode, output, lsnStart, lsnEnd, payload);
    try {
      return fn({});
    } finally {
      route.current = previous;
    }
  }

  #accept(binding: Binding, mode: EmitMode, output: string, lsnStart: bigint, lsnEnd: bigint, payload: Uint8Array) {
    this.#emitCalls++;
    const pluginId = binding.version.handle.id;
    const s = this.#s;
    if (mode === "sealed" || binding.stream === this.#sealed) {
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc stream "${this.name}" was handed over at LSN ${s.emittedEnd}; emits from the retiring version are refused`,
        { pluginId },
      );
    }
    const expected = mode === "staged" ? this.#stagedEnd : s.emittedEnd;
    if (lsnStart !== expected || lsnEnd <= lsnStart || lsnEnd > s.nextLsn) {
      const what =
        lsnStart < expected
          ? "duplicate"
          : lsnStart > expected
            ? "gap"
            : lsnEnd <= lsnStart
              ? "empty range"
              : `beyond the log (nothing was published at or past LSN ${s.nextLsn})`;
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc-sink refused [${lsnStart}, ${lsnEnd}) on "${this.name}": ${what}, expected a batch starting at ${expected}`,
        { pluginId },
      );
    }
    const origins = this.#originsOf(lsnStart, lsnEnd);
    let source: string | undefined;
    for (const o of origins) if (o.lsnEnd <= lsnEnd && o.source !== undefined) source = o.source;
    const emit: CdcEmit = {
      stream: this.name,
      output,
      lsnStart,
      lsnEnd,
      payload: payload.slice(),
      pluginId,
      version: binding.version.handle.version,
      origins,
      commitMicros: (origins[origins.length - 1] as CdcOrigin).commitMicros,
      ...(source === undefined ? {} : { source }),
    };
    if (mode === "staged") {
      (this.#staged as CdcEmit[]).push(emit);
      this.#stagedEnd = lsnEnd;
      return;
    }
    this.#emitted(emit);
  }

  /** The log entries `[lsnStart, lsnEnd)` overlaps, without their bytes. */
  #originsOf(lsnStart: bigint, lsnEnd: bigint): CdcOrigin[] {
    const log = this.#s.log;
    const origins: CdcOrigin[] = [];
    for (let i = firstEndingAfter(log, lsnStart); i < log.length; i++) {
      const e = log[i] as CdcLogEntry;
      if (e.lsnStart >= lsnEnd) break;
      origins.push({
        lsnStart: e.lsnStart,
        lsnEnd: e.lsnEnd,
        commitMicros: e.commitMicros,
        ...(e.source === undefined ? {} : { source: e.source }),
      });
    }
    return origins;
  }

  /** An emit enters the outbox; the batches it completes are no longer needed by the output. */
  #emitted(emit: CdcEmit): void {
    const s = this.#s;
    s.outbox.push(emit);
    s.emittedEnd = emit.lsnEnd;
    this.#bytes += emit.payload.byteLength;
    const log = s.log;
    for (let i = firstEndingAfter(log, this.#releasedTo); i < log.length; i++) {
      const e = log[i] as CdcLogEntry;
      if (e.lsnEnd > s.emittedEnd) break;
      if (e.mutations) this.#bytes -= e.mutations.byteLength;
      e.mutations = null;
      this.#releasedTo = e.lsnEnd;
    }
  }

  // restore -------------------------------------------------------------------

  /** Continues from a state record: the output (started at its `emittedEnd`) gets the batches it has not emitted. */
  #restore(record: CdcStreamState, startedAt: bigint): void {
    const s = checkState(record, this.output);
    if (startedAt !== s.emittedEnd) {
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `cdc stream "${this.name}" restores a record whose output emitted up to LSN ${s.emittedEnd}: ` +
          `attach with fromLsn ${s.emittedEnd}, not ${startedAt}`,
      );
    }
    if (s.log.some((e) => e.lsnStart < s.emittedEnd && e.lsnEnd > s.emittedEnd)) {
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `cdc stream "${this.name}" cannot restore a record whose output emitted part of a batch (up to LSN ${s.emittedEnd})`,
      );
    }
    s.checkpointed = s.emittedEnd; // the new output starts there
    for (const e of s.outbox) e.stream = this.name;
    for (const e of s.log) if (e.lsnEnd <= s.emittedEnd) e.mutations = null; // emitted: never redelivered
    this.#s = s;
    this.#releasedTo = s.emittedEnd;
    this.#bytes =
      s.log.reduce((n, e) => n + (e.mutations?.byteLength ?? 0), 0) +
      s.outbox.reduce((n, e) => n + e.payload.byteLength, 0);
    this.#redeliver = true; // the new output gets the batches it has not emitted in opened()
  }

  /**
   * @internal After construction: a restored stream's output gets every logged batch it has not emitted (a
   * worker-hosted output answers asynchronously, so this cannot happen in the constructor). A failure drops the
   * stream. Resolves at once for a new stream.
   */
  async opened(): Promise<void> {
    if (!this.#redeliver) return;
    this.#redeliver = false;
    try {
      await this.#op(async () => {
        const binding = this.binding;
        for (const e of [...this.#s.log]) {
          if (e.lsnStart < this.#s.emittedEnd) continue; // emitted before the restart
          await this.#streamCall(binding, "live", (c) => binding.stream.deliver(batchOf(e), c));
        }
        this.#delivery.pump();
      });
    } catch (err) {
      this.dropNow();
      throw err;
    }
  }

  // reload ------------------------------------------------------------------

  /**
   * @internal Reload, step handoff: checkpoint the serving stream, seal it, start `next` at the checkpoint and
   * redeliver the logged batches the old output had not emitted. Emits of the new stream are staged until
   * {@link commitHandoff}. A new version that refuses to resume or to take a batch is named incompatible.
   */
  async prepareHandoff(next: PluginVersion): Promise<PendingCdcHandoff> {
    return await this.#op(() => this.#prepare(next));
  }

  async #prepare(next: PluginVersion): Promise<PendingCdcHandoff> {
    const s = this.#s;
    let resumeAt: bigint;
    if (this.binding.version.instance.poisoned) {
      // The old instance cannot be asked (it trapped, or its worker died): what it emitted is the truth, and every
      // batch after it is still in the host's log.
      resumeAt = s.emittedEnd;
    } else {
      try {
        resumeAt = await this.#checkpointNow();
      } catch (err) {
        if (!this.#halted) throw err;
        resumeAt = s.checkpointed; // a halted stream keeps its frozen checkpoint
      }
    }
    if (resumeAt !== s.emittedEnd) {
      throw new PluginError(
        ErrorCode.Reload,
        `cdc stream "${this.name}": checkpoint ${resumeAt} disagrees with what the output emitted (up to ${s.emittedEnd})`,
        { pluginId: this.binding.version.handle.id },
      );
    }
    this.#sealed = this.binding.stream;
    this.#staged = [];
    this.#stagedEnd = resumeAt;
    let stream: CdcStreamLike | undefined;
    try {
      const cdc = next.instance.cdc as CdcClientLike | undefined;
      if (!cdc) throw new PluginError(ErrorCode.Reload, "the new version exports no cdc interface");
      const starting = { version: next, stream: null as unknown as CdcStreamLike };
      stream = await this.#incompatibleIfRefused(next, `refused to resume at LSN ${resumeAt}`, () =>
        this.#streamCall(starting, "staged", (c) => cdc.start(this.output, resumeAt, c)),
      );
      const binding: Binding = { version: next, stream };
      for (const entry of [...s.log]) {
        if (entry.lsnStart < resumeAt) continue;
        await this.#incompatibleIfRefused(next, `refused batch [${entry.lsnStart}, ${entry.lsnEnd})`, () =>
          this.#streamCall(binding, "staged", (c) => binding.stream.deliver(batchOf(entry), c)),
        );
      }
      return { live: this, binding, resumeAt, staged: this.#staged };
    } catch (err) {
      // Unseal: the old stream goes on exactly as before; the half-started new one is dropped.
      this.#sealed = null;
      this.#staged = null;
      dropQuietly(stream);
      throw err;
    }
  }

  /** A deliberate refusal (the plugin's own fn-error) by the new version names the output as incompatible. */
  async #incompatibleIfRefused<T>(next: PluginVersion, what: string, fn: () => MaybePromise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof PluginCallError)) throw err;
      throw new PluginError(
        ErrorCode.Reload,
        `cdc output "${this.output}" is incompatible: version ${next.handle.version} ${what} of stream ` +
          `"${this.name}" (${err.message})`,
        { pluginId: next.handle.id, cause: err },
      );
    }
  }

  /** @internal Reload, step commit: the new stream serves; staged emits join the outbox. Returns the old stream. */
  commitHandoff(pending: PendingCdcHandoff): Binding {
    const old = this.binding;
    this.binding = pending.binding;
    this.#staged = null;
    this.#halted = null;
    this.#s.checkpointed = pending.resumeAt;
    for (const emit of pending.staged) this.#emitted(emit);
    // Sinks run after commit, not inside it: a sink's code cannot observe (or re-enter) a half-committed reload.
    queueMicrotask(() => this.#delivery.pump());
    return old;
  }

  /** @internal Reload rollback: the old stream goes on serving, the new one is dropped, staged emits discarded. */
  abortHandoff(pending: PendingCdcHandoff): void {
    this.#sealed = null;
    this.#staged = null;
    try {
      pending.binding.stream.drop();
    } catch {
      // The new instance may have trapped; it is disposed with its instance anyway.
    }
  }

  /** @internal Reload, step retire: shut the old stream down; its emits are refused (already handed over). */
  async retireBinding(old: Binding): Promise<void> {
    this.#sealed = old.stream;
    try {
      if (!old.version.instance.poisoned) await this.#streamCall(old, "sealed", (c) => old.stream.shutdown(c));
    } finally {
      this.#sealed = null;
      dropQuietly(old.stream);
    }
  }

  // ---------------------------------------------------------------- reload (see resources/handoff.ts)

  /** @internal check-compat: nothing to prove before handoff (a stream is started on the new version only then). */
  check(): undefined {
    return undefined;
  }

  /** @internal handoff: checkpoint, seal, start the new version at the checkpoint and redeliver (see prepareHandoff). */
  async handoff(ctx: HandoffContext): Promise<CdcPending | undefined> {
    if (!ctx.kept("cdc", this.output)) return { drop: true };
    if (this.dropped) return undefined;
    return { handoff: await this.prepareHandoff(ctx.next) };
  }

  /** @internal */
  /**
   * @internal Restarts this stream in `next`, a fresh instance of the same version (its worker died): at what the
   * sinks were given, with every later logged batch redelivered — each LSN once.
   */
  async recover(next: PluginVersion): Promise<CdcPending> {
    return { handoff: await this.prepareHandoff(next) };
  }

  /** @internal A dropped output's stream goes from the store with the version switch; a kept one changes nothing. */
  async durable(_ctx: HandoffContext, pending: CdcPending | undefined): Promise<readonly Mutation[]> {
    return this.log && pending && "drop" in pending ? [await this.log.removal()] : [];
  }

  commit(pending: CdcPending | undefined): HandoffOutcome {
    if (!pending) return "none";
    if ("drop" in pending) {
      this.dropNow();
      void this.log?.sweep().catch(() => {}); // its record went in the reload's commit; its log entries follow
      return "dropped";
    }
    pending.retiring = this.commitHandoff(pending.handoff);
    this.log?.committed(this.entry.current.manifest.id, this.entry.current.manifest.version);
    return "moved";
  }

  /** @internal */
  abort(pending: CdcPending | undefined): void {
    if (pending && "handoff" in pending) this.abortHandoff(pending.handoff);
  }

  /** @internal */
  async retire(pending: CdcPending | undefined): Promise<void> {
    if (pending && "retiring" in pending && pending.retiring) await this.retireBinding(pending.retiring);
  }

  /** @internal after a drop: its head and log go from the host's store. */
  protected override forget(): Promise<void> | undefined {
    return this.log?.gone();
  }

  /** @internal A durable host's store now holds more of the log: emits it covers may go to the sinks. */
  durableMoved(): void {
    this.#delivery.pump();
  }

  /** @internal The positions a durable host writes (see CdcLog). */
  positions(): { nextLsn: bigint; acknowledged: bigint; checkpointed: bigint; confirmed: CdcPosition } {
    const s = this.#s;
    return {
      nextLsn: s.nextLsn,
      acknowledged: s.acknowledged,
      checkpointed: s.checkpointed,
      confirmed: { ...s.confirmed },
    };
  }

  protected release(): void {
    this.#room.close(new PluginError(ErrorCode.Disposed, `cdc stream "${this.name}" was dropped`));
    const binding = this.binding;
    const done = () => {
      dropQuietly(binding.stream);
      this.#delivery.pump(); // what the output flushed on shutdown still reaches the sinks
      this.#delivery.close();
    };
    let shutdown: MaybePromise<void>;
    try {
      shutdown = this.#streamCall(binding, "live", (c) => binding.stream.shutdown(c));
    } catch (err) {
      done();
      throw err;
    }
    // A worker-hosted output shuts down asynchronously; the host side is gone at once either way.
    if (shutdown instanceof Promise) shutdown.then(done, done);
    else done();
  }
}

/** The change batch the output receives for a log entry that still has its bytes. */
function batchOf(e: CdcLogEntry): ChangeBatch {
  return { lsnStart: e.lsnStart, lsnEnd: e.lsnEnd, mutations: e.mutations as Uint8Array, commitMicros: e.commitMicros };
}

/** Index of the first log entry ending after `lsn` (the log is sorted and contiguous). */
function firstEndingAfter(log: readonly CdcLogEntry[], lsn: bigint): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((log[mid] as CdcLogEntry).lsnEnd <= lsn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
