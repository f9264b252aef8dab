/**
 * Acknowledged delivery of a CDC stream's outbox to its sinks.
 *
 * A sink is a function that receives each emit; it acknowledges by returning (synchronously) or by resolving the
 * promise it returns. Emits reach every sink in LSN order, one at a time per sink, and an emit leaves the outbox
 * only once every sink has acknowledged it. A sink that throws or rejects halts delivery at the acknowledged
 * position with a {@link CdcSinkError}; the outbox keeps everything, and delivery is retried (with backoff, or on
 * `resume()`) from the host's copy — the output is never asked again. Each sink acknowledges each LSN exactly
 * once: a sink that already acknowledged an emit is not handed it again when another sink's failure is retried.
 *
 * Delivery never calls into the plugin, so it runs outside the plugin's gate: a slow sink never holds up a reload.
 *
 * @module
 */
import { CdcSinkError, ErrorCode, PluginError } from "../errors.ts";
import type { CdcEmit, CdcStreamState } from "./cdc-state.ts";

/**
 * Receives a stream's emits. Returning acknowledges an emit — or, when the sink returns a promise (any thenable),
 * resolving it does; throwing or rejecting refuses it. Any other return value is ignored.
 */
export type CdcSink = (emit: CdcEmit) => unknown;

/** When delivery is retried after a sink failure: exponential backoff from `initialMs`, capped at `maxMs`. */
export interface CdcRetry {
  /** Default 100 ms. */
  initialMs?: number;
  /** Default 30 s. */
  maxMs?: number;
}

/** What delivery needs from its stream. */
export interface DeliveryHost {
  readonly name: string;
  /** The stream's state record (delivery updates `acknowledged` and `outbox`). */
  state(): CdcStreamState;
  /** Called after the acknowledged position moved, with the payload bytes that left the outbox. */
  acknowledged(freedBytes: number): void;
  /**
   * The exclusive LSN bound of what the host's store holds (durable hosts): emits past it wait. A sink never holds
   * an LSN a crash could take back and hand out again with other rows. The stream pumps when it moves.
   */
  durableEnd?(): bigint;
}

interface Waiter {
  resolve(lsn: bigint): void;
  reject(err: unknown): void;
}

export class Delivery {
  readonly #host: DeliveryHost;
  readonly #retry: Required<CdcRetry> | null;
  /** Each sink's exclusive LSN bound of what it acknowledged. */
  readonly #sinks = new Map<CdcSink, { acked: bigint }>();
  #running = false;
  #error: CdcSinkError | null = null;
  #attempts = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #waiters: Waiter[] = [];
  /** `resume()` calls waiting for the attempt in flight to end. */
  #idle: Array<() => void> = [];

  constructor(host: DeliveryHost, retry: CdcRetry | false | undefined) {
    this.#host = host;
    this.#retry =
      retry === false
        ? null
        : { initialMs: Math.max(1, retry?.initialMs ?? 100), maxMs: Math.max(1, retry?.maxMs ?? 30_000) };
  }

  /** The failure that halted delivery, until an emit is acknowledged again. */
  get error(): CdcSinkError | null {
    return this.#error;
  }

  get sinks(): number {
    return this.#sinks.size;
  }

  /** Adds a sink, starting at the stream's acknowledged position; returns the unsubscribe function. */
  subscribe(sink: CdcSink): () => void {
    if (!this.#sinks.has(sink)) this.#sinks.set(sink, { acked: this.#host.state().acknowledged });
    this.pump();
    return () => {
      if (!this.#sinks.delete(sink)) return;
      this.#advance(); // the slowest sink may have gone
      this.pump();
    };
  }

  /** Delivers what is in the outbox, unless delivery is running, halted, or waiting for a retry. */
  pump(): void {
    if (this.#running || this.#closed || this.#error || this.#timer !== undefined) return;
    this.#start();
  }

  /**
   * Retries now (a halted stream included), after the attempt in flight if there is one; resolves once the outbox
   * is empty. See {@link delivered}.
   */
  async resume(): Promise<bigint> {
    if (this.#closed) throw this.#disposed();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) await new Promise<void>((idle) => this.#idle.push(idle));
    if (!this.#running && !this.#closed) this.#start();
    return await this.delivered();
  }

  /**
   * Resolves with the acknowledged position once every emit so far is acknowledged; rejects with the
   * {@link CdcSinkError} if delivery is halted now or halts before then. With no sink subscribed it waits for one.
   */
  delivered(): Promise<bigint> {
    if (this.#closed) return Promise.reject(this.#disposed());
    const s = this.#host.state();
    if (s.outbox.length === 0) return Promise.resolve(s.acknowledged);
    if (this.#error && !this.#running) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops for good: no more deliveries or retries; waiters are rejected. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle(this.#disposed());
    for (const idle of this.#idle.splice(0)) idle();
  }

  #start(): void {
    this.#running = true;
    this.#run();
  }

  /** Hands the first outbox emit to every sink behind it; loops synchronously while sinks answer synchronously. */
  #run(): void {
    const outbox = this.#host.state().outbox;
    while (!this.#closed) {
      const emit = outbox[0];
      if (!emit || this.#sinks.size === 0) break;
      if (this.#host.durableEnd && emit.lsnEnd > this.#host.durableEnd()) break;
      // Every sink's answer is awaited, failed or not, so none is still busy with this emit when it is retried.
      let inFlight = 0;
      let handing = true;
      let failure: { err: unknown } | null = null;
      const answered = () => {
        if (--inFlight > 0 || handing || this.#closed) return;
        if (failure) {
          this.#fail(emit, failure.err);
          return;
        }
        this.#advance();
        this.#run();
      };
      for (const [sink, slot] of this.#sinks) {
        if (slot.acked >= emit.lsnEnd) continue; // acknowledged before another sink failed
        try {
          const answer = sink(emit);
          if (!isThenable(answer)) {
            slot.acked = emit.lsnEnd;
            continue;
          }
          let once = false; // a hand-made thenable might call back twice, or at once
          answer.then(
            () => {
              if (once) return;
              once = true;
              slot.acked = emit.lsnEnd;
              answered();
            },
            (err: unknown) => {
              if (once) return;
              once = true;
              failure ??= { err };
              answered();
            },
          );
          inFlight++; // after then(): a thenable whose then() throws is a failure, not an answer to wait for
        } catch (err) {
          failure ??= { err };
          break;
        }
      }
      handing = false;
      if (inFlight > 0) return; // answered() carries on
      if (failure) {
        this.#fail(emit, failure.err);
        return;
      }
      this.#advance();
    }
    this.#stopped();
  }

  #stopped(): void {
    this.#running = false;
    for (const idle of this.#idle.splice(0)) idle();
  }

  /** Moves the acknowledged position to the slowest sink and drops what every sink has from the outbox. */
  #advance(): void {
    if (this.#sinks.size === 0) return;
    const s = this.#host.state();
    let acked: bigint | undefined;
    for (const slot of this.#sinks.values()) if (acked === undefined || slot.acked < acked) acked = slot.acked;
    if (acked === undefined || acked <= s.acknowledged) return;
    let drop = 0;
    let freed = 0;
    while (drop < s.outbox.length && (s.outbox[drop] as CdcEmit).lsnEnd <= acked) {
      freed += (s.outbox[drop] as CdcEmit).payload.byteLength;
      drop++;
    }
    s.outbox.splice(0, drop);
    s.acknowledged = acked;
    this.#error = null;
    this.#attempts = 0;
    this.#host.acknowledged(freed);
    if (s.outbox.length === 0) this.#settle(null);
  }

  #fail(emit: CdcEmit, err: unknown): void {
    this.#attempts++;
    const delay =
      this.#retry && Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** Math.min(30, this.#attempts - 1));
    const reason = err instanceof Error ? err.message : typeof err === "string" ? err : JSON.stringify(err);
    const s = this.#host.state();
    this.#error = new CdcSinkError(
      `cdc stream "${this.#host.name}": the sink failed on [${emit.lsnStart}, ${emit.lsnEnd}) (${reason}); ` +
        `delivery is halted at LSN ${s.acknowledged} with everything after it kept, ` +
        (delay ? `and is retried in ${delay} ms (attempt ${this.#attempts}) or on resume()` : "until resume()"),
      { lsnStart: emit.lsnStart, lsnEnd: emit.lsnEnd, attempts: this.#attempts },
      { cause: err },
    );
    this.#settle(this.#error);
    const resuming = this.#idle.length > 0; // resume() retries right away: no timer
    this.#stopped();
    if (delay && !resuming) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#closed && !this.#running) this.#start();
      }, delay);
    }
  }

  #settle(err: PluginError | null): void {
    const s = this.#host.state();
    for (const w of this.#waiters.splice(0)) err ? w.reject(err) : w.resolve(s.acknowledged);
  }

  #disposed(): PluginError {
    return new PluginError(ErrorCode.Disposed, `cdc stream "${this.#host.name}" was dropped`);
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}
