/**
 * A named, host-owned CDC stream: the host assigns LSNs to published change
 * batches, retains every batch the output has not yet checkpointed, and
 * forwards what the output emits through `cdc-sink` to listeners, enforcing
 * that the sink sees every LSN exactly once — across reloads too.
 *
 * LSN boundaries (see wit/cdc.wit): a batch covers [lsnStart, lsnEnd);
 * `checkpoint` is exclusive; `start(from)` resumes at `from` inclusive.
 *
 * @module
 */
import { type ArrowInput, fromIPC, ipcOf } from "../arrow.ts";
import type { ChangeBatch } from "../component/types.ts";
import { ErrorCode, PluginCallError, PluginError, toPluginError } from "../errors.ts";
import type { PluginVersion } from "../plugin.ts";
import type { CdcStream } from "../surfaces/cdc.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import type { HandoffContext, HandoffOutcome } from "./handoff.ts";

/** One `cdc-sink.emit` the host accepted and forwarded. */
export interface CdcEmit {
  /** The live stream's name. */
  stream: string;
  output: string;
  lsnStart: bigint;
  lsnEnd: bigint;
  /** Arrow IPC (or whatever the output emits). */
  payload: Uint8Array;
  /** The plugin version that emitted it. */
  pluginId: string;
  version: string;
}

export interface CdcOptions {
  /** Resume point (inclusive). Default: the output starts fresh at LSN 0. */
  fromLsn?: bigint;
  /** Ask the output for a checkpoint after this many publishes (default 8). */
  checkpointEvery?: number;
}

/** The stream a version runs for this live resource. */
interface Binding {
  version: PluginVersion;
  stream: CdcStream;
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

export class LiveCdc extends LiveResource<CdcPending> {
  readonly surface = "cdc" as const;
  /** @internal The host's log holds every batch after what the sink received: a stream outlives a trapped version. */
  readonly survivesTrap = true;
  /** @internal */
  binding: Binding;
  readonly #checkpointEvery: number;
  #nextLsn: bigint;
  #checkpointed: bigint;
  /** The exclusive LSN bound of everything forwarded to listeners. */
  #emittedEnd: bigint;
  #retained: ChangeBatch[] = [];
  #sinceCheckpoint = 0;
  #halted: PluginError | null = null;
  #listeners = new Set<(e: CdcEmit) => void>();
  #staged: CdcEmit[] | null = null;
  #stagedEnd = 0n;
  #sealed: CdcStream | null = null;

  /** @internal created by PluginHost.attachCdc */
  constructor(
    entry: PluginEntry,
    name: string,
    output: string,
    stream: CdcStream,
    options: CdcOptions,
    onDrop: (r: LiveResource) => void,
  ) {
    super(entry, name, output, onDrop);
    this.binding = { version: entry.current, stream };
    this.#checkpointEvery = Math.max(1, options.checkpointEvery ?? 8);
    const from = options.fromLsn ?? 0n;
    this.#nextLsn = from;
    this.#checkpointed = from;
    this.#emittedEnd = from;
  }

  /** The output name, e.g. `changelog`. */
  get output(): string {
    return this.key;
  }
  /** The LSN the next published batch starts at. */
  get nextLsn(): bigint {
    return this.#nextLsn;
  }
  /** The output's last checkpoint (exclusive). */
  get checkpointed(): bigint {
    return this.#checkpointed;
  }
  /** Exclusive bound of what listeners have received. */
  get emittedEnd(): bigint {
    return this.#emittedEnd;
  }
  /** Batches kept because the output has not checkpointed past them. */
  get retainedBatches(): number {
    return this.#retained.length;
  }
  /** The error that halted delivery, if any (a reload resumes it from the checkpoint). */
  get halted(): PluginError | null {
    return this.#halted;
  }

  /** Subscribes to what the output emits; returns the unsubscribe function. */
  onEmit(listener: (e: CdcEmit) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Appends a change batch to the log, assigning it the next `max(1, rows)`
   * LSNs, and delivers it to the output. The batch enters the log even when
   * delivery fails: the stream then halts (checkpoint frozen), this call and
   * later publishes throw with the retained range in the message, and a reload
   * of the plugin resumes the stream from its checkpoint with nothing lost.
   */
  async publish(mutations: ArrowInput, commitMicros?: bigint): Promise<{ lsnStart: bigint; lsnEnd: bigint }> {
    const bytes = ipcOf(mutations);
    const rows = mutations instanceof Uint8Array ? fromIPC(bytes).numRows : mutations.numRows;
    const micros = commitMicros ?? BigInt(Date.now()) * 1000n;
    return await this.call(() => {
      const lsnStart = this.#nextLsn;
      const lsnEnd = lsnStart + BigInt(Math.max(1, rows));
      const batch: ChangeBatch = { lsnStart, lsnEnd, mutations: bytes, commitMicros: micros };
      this.#nextLsn = lsnEnd;
      this.#retained.push(batch);
      if (!this.#halted) {
        try {
          this.#withSink(this.binding, "live", () => this.binding.stream.deliver(batch));
        } catch (err) {
          this.#halted = toPluginError(err, this.binding.version.handle.id);
        }
      }
      if (this.#halted) throw this.#haltedError(lsnStart, lsnEnd);
      if (++this.#sinceCheckpoint >= this.#checkpointEvery) this.#checkpointNow();
      return { lsnStart, lsnEnd };
    });
  }

  /** Asks the output for its checkpoint and trims the retained log to it. */
  checkpoint(): Promise<bigint> {
    return this.call(() => this.#checkpointNow());
  }

  #haltedError(lsnStart: bigint, lsnEnd: bigint): PluginError {
    const h = this.#halted as PluginError;
    return new PluginError(
      h.code,
      `cdc stream "${this.name}" is halted at checkpoint ${this.#checkpointed} (${h.message}); ` +
        `batch [${lsnStart}, ${lsnEnd}) is retained with the rest, and a reload of the plugin resumes delivery`,
      { retryable: h.retryable, ...(h.pluginId === undefined ? {} : { pluginId: h.pluginId }), cause: h },
    );
  }

  #checkpointNow(): bigint {
    const c = this.#withSink(this.binding, "live", () => this.binding.stream.checkpoint());
    this.#trim(c);
    return c;
  }

  #trim(c: bigint): void {
    this.#checkpointed = c;
    this.#sinceCheckpoint = 0;
    let drop = 0;
    while (drop < this.#retained.length && (this.#retained[drop] as ChangeBatch).lsnEnd <= c) drop++;
    if (drop) this.#retained.splice(0, drop);
  }

  /** Runs a call into `binding`'s stream with its emits routed here in `mode`. */
  #withSink<T>(binding: Binding, mode: EmitMode, fn: () => T): T {
    const route = binding.version.sinkRoute;
    const previous = route.current;
    route.current = (output, lsnStart, lsnEnd, payload) =>
      this.#accept(binding, mode, output, lsnStart, lsnEnd, payload);
    try {
      return fn();
    } finally {
      route.current = previous;
    }
  }

  #accept(binding: Binding, mode: EmitMode, output: string, lsnStart: bigint, lsnEnd: bigint, payload: Uint8Array) {
    const pluginId = binding.version.handle.id;
    if (mode === "sealed" || binding.stream === this.#sealed) {
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc stream "${this.name}" was handed over at LSN ${this.#emittedEnd}; emits from the retiring version are refused`,
        { pluginId },
      );
    }
    const expected = mode === "staged" ? this.#stagedEnd : this.#emittedEnd;
    if (lsnStart !== expected || lsnEnd <= lsnStart) {
      const what = lsnStart < expected ? "duplicate" : lsnStart > expected ? "gap" : "empty range";
      throw new PluginCallError(
        ErrorCode.Forbidden,
        `cdc-sink refused [${lsnStart}, ${lsnEnd}) on "${this.name}": ${what}, expected a batch starting at ${expected}`,
        { pluginId },
      );
    }
    const emit: CdcEmit = {
      stream: this.name,
      output,
      lsnStart,
      lsnEnd,
      payload: payload.slice(),
      pluginId,
      version: binding.version.handle.version,
    };
    if (mode === "staged") {
      (this.#staged as CdcEmit[]).push(emit);
      this.#stagedEnd = lsnEnd;
      return;
    }
    this.#emittedEnd = lsnEnd;
    this.#forward(emit);
  }

  #forward(emit: CdcEmit): void {
    for (const listener of this.#listeners) {
      try {
        listener(emit);
      } catch {
        // A listener's failure is the listener's: the sink has accepted the data.
      }
    }
  }

  /**
   * @internal Reload, step handoff: checkpoint the serving stream, seal it,
   * start `next` at the checkpoint and redeliver the retained batches. Emits
   * of the new stream are staged until {@link commitHandoff}.
   */
  prepareHandoff(next: PluginVersion): PendingCdcHandoff {
    let resumeAt: bigint;
    if (this.binding.version.instance.poisoned) {
      // The old instance cannot be asked (it trapped): what the sink received is the truth, and every batch
      // after it is still in the host's log.
      resumeAt = this.#emittedEnd;
    } else {
      try {
        resumeAt = this.#checkpointNow();
      } catch (err) {
        if (!this.#halted) throw err;
        resumeAt = this.#checkpointed; // a halted stream keeps its frozen checkpoint
      }
    }
    if (resumeAt !== this.#emittedEnd) {
      throw new PluginError(
        ErrorCode.Reload,
        `cdc stream "${this.name}": checkpoint ${resumeAt} disagrees with what the sink received (up to ${this.#emittedEnd})`,
        { pluginId: this.binding.version.handle.id },
      );
    }
    this.#sealed = this.binding.stream;
    this.#staged = [];
    this.#stagedEnd = resumeAt;
    let stream: CdcStream | undefined;
    try {
      const cdc = next.instance.cdc;
      if (!cdc) throw new PluginError(ErrorCode.Reload, "the new version exports no cdc interface");
      const starting = { version: next, stream: null as unknown as CdcStream };
      stream = this.#withSink(starting, "staged", () => cdc.start(this.output, resumeAt));
      const binding: Binding = { version: next, stream };
      for (const batch of this.#retained) {
        if (batch.lsnStart >= resumeAt) this.#withSink(binding, "staged", () => binding.stream.deliver(batch));
      }
      return { live: this, binding, resumeAt, staged: this.#staged };
    } catch (err) {
      // Unseal: the old stream goes on exactly as before; the half-started new one is dropped.
      this.#sealed = null;
      this.#staged = null;
      try {
        stream?.drop();
      } catch {
        // The new instance may have trapped; it is disposed with its instance anyway.
      }
      throw err;
    }
  }

  /** @internal Reload, step commit: the new stream serves; staged emits reach listeners. Returns the old stream. */
  commitHandoff(pending: PendingCdcHandoff): Binding {
    const old = this.binding;
    this.binding = pending.binding;
    this.#staged = null;
    this.#halted = null;
    this.#checkpointed = pending.resumeAt;
    for (const emit of pending.staged) {
      this.#emittedEnd = emit.lsnEnd;
      this.#forward(emit);
    }
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
  retireBinding(old: Binding): void {
    this.#sealed = old.stream;
    try {
      if (!old.version.instance.poisoned) this.#withSink(old, "sealed", () => old.stream.shutdown());
    } finally {
      this.#sealed = null;
      old.stream.drop();
    }
  }

  // ---------------------------------------------------------------- reload (see resources/handoff.ts)

  /** @internal check-compat: nothing to prove before handoff (a stream is started on the new version only then). */
  check(): undefined {
    return undefined;
  }

  /** @internal handoff: checkpoint, seal, start the new version at the checkpoint and redeliver (see prepareHandoff). */
  handoff(ctx: HandoffContext): CdcPending | undefined {
    if (!ctx.kept("cdc", this.output)) return { drop: true };
    if (this.dropped) return undefined;
    return { handoff: this.prepareHandoff(ctx.next) };
  }

  /** @internal */
  commit(pending: CdcPending | undefined): HandoffOutcome {
    if (!pending) return "none";
    if ("drop" in pending) {
      this.dropNow();
      return "dropped";
    }
    pending.retiring = this.commitHandoff(pending.handoff);
    return "moved";
  }

  /** @internal */
  abort(pending: CdcPending | undefined): void {
    if (pending && "handoff" in pending) this.abortHandoff(pending.handoff);
  }

  /** @internal */
  retire(pending: CdcPending | undefined): void {
    if (pending && "retiring" in pending && pending.retiring) this.retireBinding(pending.retiring);
  }

  protected release(): void {
    try {
      this.#withSink(this.binding, "live", () => this.binding.stream.shutdown());
    } finally {
      this.binding.stream.drop();
    }
  }
}
