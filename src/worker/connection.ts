/**
 * Main's end of one worker: the FIFO queue of calls (one in flight), the two channels, deadlines,
 * death, forwarded log lines and accepted CDC emits.
 *
 * Shared-memory channel: main writes the request into the buffer, sets the state slot and notifies;
 * it then spins for a bounded few tens of µs (a trivial call is answered within that); past that it
 * raises a flag and returns to its event loop, and the worker, seeing the flag after writing the
 * response, posts a one-word wake-up message. The main thread never blocks for longer than the spin. A request that does not fit,
 * carries shared bytes or transfers goes by message, after a `YIELD` in the state slot that sends the
 * worker back to its event loop. Message channel: every request and response is a message.
 *
 * Deadlines: a timer per call, armed when the call is sent to the worker. On expiry the call and every
 * queued call reject with `DeadlineExceeded`, the worker is terminated (nothing else stops wasm stuck
 * in a loop), the connection is dead, and `onDeath` runs. Main's timer fires whatever the worker does.
 *
 * @module
 */
import { ErrorCode, PluginError, TrapError, toPluginError } from "../errors.ts";
import { isShared, NotInline, Reader, Writer } from "./codec.ts";
import {
  CONTROL_BYTES,
  errorFromWire,
  MAIN_WAITING,
  type InitMessage,
  OP_WHAT,
  Op,
  REQUEST,
  RESPONSE,
  SEQ,
  STATE,
  STOP,
  type WireEmit,
  type WireError,
  type WireRequest,
  type WireResponse,
  type WireSink,
  type WorkerMessage,
  WORKER_SLEEPING,
  YIELD,
} from "./protocol.ts";
import { SpinBudget } from "./spin.ts";
import type { AcceptedEmit, WorkerDeath, WorkerLike } from "./types.ts";

/** How long main spins for a worker that was asleep when the request went (its wake-up takes about that). */
const COLD_SPIN_MS = 0.01;

const LIVE = 0;
const POISONED = 1;
const DISPOSED = 2;
const DEAD = 3;

/** One call, from `call()` to settlement. */
interface Call {
  readonly op: Op;
  readonly target: number;
  readonly args: unknown[];
  readonly sink: WireSink;
  readonly timeoutMs: number;
  readonly transfer: boolean;
  readonly onEmit: ((emit: AcceptedEmit) => void) | undefined;
  readonly init: InitMessage | undefined;
  /**
   * On the shared channel: when main stopped spinning to wait for the worker's wake-up message (0: not
   * waiting; negative: the spin was the short one for a sleeping worker, which says nothing of the budget).
   */
  waiting: number;
  resolve(value: unknown): void;
  reject(error: PluginError): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface ConnectionOptions {
  pluginId: string;
  worker: WorkerLike;
  channel: SharedArrayBuffer | undefined;
  timeoutMs: number;
  mainSpinMicros: number;
  log: ((level: string, message: string) => void) | undefined;
  onDeath: ((death: WorkerDeath) => void) | undefined;
}

export interface CallExtras {
  sink?: WireSink;
  onEmit?: ((emit: AcceptedEmit) => void) | undefined;
  init?: InitMessage;
}

export class Connection {
  pluginId: string;
  #state = LIVE;
  /** Set once `dispose()` started: new calls are refused as after dispose. */
  #closing = false;
  #death: WorkerDeath | undefined;
  readonly #worker: WorkerLike;
  readonly #queue: Call[] = [];
  #current: Call | undefined;
  /** A call whose response arrived but whose log lines are still in flight. */
  #parked: { call: Call; response: WireResponse } | undefined;
  #logBatchesSeen = 0;
  /** The sequence number of the last request written to the shared buffer. */
  #seq = 0;
  /** True while {@link #pump} runs: a call completing synchronously inside it does not recurse. */
  #pumping = false;
  readonly #ctl: Int32Array | undefined;
  readonly #writer: Writer | undefined;
  readonly #reader: Reader | undefined;
  readonly #defaultTimeoutMs: number;
  readonly #spin: SpinBudget;
  readonly #log: ConnectionOptions["log"];
  readonly #onDeath: ConnectionOptions["onDeath"];

  constructor(options: ConnectionOptions) {
    this.pluginId = options.pluginId;
    this.#worker = options.worker;
    this.#defaultTimeoutMs = options.timeoutMs;
    this.#spin = new SpinBudget(options.mainSpinMicros);
    this.#log = options.log;
    this.#onDeath = options.onDeath;
    if (options.channel) {
      this.#ctl = new Int32Array(options.channel, 0, CONTROL_BYTES / 4);
      const data = new Uint8Array(options.channel, CONTROL_BYTES);
      this.#writer = new Writer(data);
      this.#reader = new Reader(data, true);
    }
    this.#worker.onmessage = (event) => this.#onMessage(event.data as WorkerMessage);
    this.#worker.onerror = (event) => {
      event.preventDefault?.();
      this.#crashed(event);
    };
    if ("onmessageerror" in this.#worker) {
      this.#worker.onmessageerror = () => this.#crashed({ message: "a message from the worker could not be read" });
    }
    this.#worker.unref?.();
  }

  get poisoned(): boolean {
    return this.#state === POISONED || this.#state === DEAD;
  }
  get disposed(): boolean {
    return this.#state === DISPOSED;
  }
  get death(): WorkerDeath | undefined {
    return this.#death;
  }
  /** Whether the worker is gone (dead or disposed): calls are refused without a round trip. */
  get gone(): boolean {
    return this.#state === DEAD || this.#state === DISPOSED;
  }
  /** Whether requests can use the shared-memory channel. */
  get shared(): boolean {
    return this.#ctl !== undefined;
  }

  /**
   * Queues one call. Never throws: every failure is a rejection with a `PluginError`.
   * `timeoutMs` must have been checked by the caller.
   */
  call(
    op: Op,
    target: number,
    args: unknown[],
    timeoutMs: number | undefined,
    transfer = false,
    extras: CallExtras = {},
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const refusal = this.#refusal(op);
      if (refusal) {
        reject(refusal);
        return;
      }
      const call: Call = {
        op,
        target,
        args,
        sink: extras.sink,
        timeoutMs: timeoutMs ?? this.#defaultTimeoutMs,
        transfer,
        onEmit: extras.onEmit,
        init: extras.init,
        waiting: 0,
        resolve,
        reject,
        timer: undefined,
      };
      this.#queue.push(call);
      this.#pump();
    });
  }

  /** Starts disposing: later calls are refused with `Disposed` (the dispose call itself is queued by the caller). */
  close(): void {
    this.#closing = true;
  }

  /** Ends the worker now. Pending calls reject with `error`; `onDeath` is not called. Idempotent. */
  terminate(error: (what: string) => PluginError): void {
    if (this.#state === DEAD || this.#state === DISPOSED) {
      this.#kill();
      return;
    }
    this.#state = DISPOSED;
    this.#closing = true;
    this.#kill();
    this.#flushPending((call) => error(OP_WHAT[call.op]));
  }

  /** Marks the instance disposed (as in-thread, a dead or poisoned one too) and ends the worker. */
  finishDispose(): void {
    this.#state = DISPOSED;
    this.#kill();
  }

  #refusal(op: Op): PluginError | undefined {
    const what = OP_WHAT[op];
    if (this.#state === DEAD) {
      const death = this.#death as WorkerDeath;
      return new TrapError(
        ErrorCode.Poisoned,
        `plugin ${this.pluginId} is poisoned (its worker was terminated: ${death.error.message}); ${what} refused without entering wasm`,
        { pluginId: this.pluginId },
      );
    }
    if (this.#state === DISPOSED || (this.#closing && op !== Op.Dispose)) {
      return new PluginError(ErrorCode.Disposed, `plugin ${this.pluginId}: ${what} called after dispose()`, {
        pluginId: this.pluginId,
      });
    }
    return undefined;
  }

  // ------------------------------------------------------------ dispatch

  /**
   * Sends queued calls while none is in flight. A loop, not recursion: on the shared channel a call
   * often completes synchronously (within main's spin), and a long queue must not deepen the stack.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#current && !this.#parked && !this.gone) {
        const call = this.#queue.shift();
        if (!call) {
          this.#worker.unref?.();
          return;
        }
        this.#current = call;
        this.#worker.ref?.();
        if (call.timeoutMs !== Number.POSITIVE_INFINITY) {
          call.timer = setTimeout(() => this.#expire(call), call.timeoutMs);
        }
        try {
          this.#send(call);
        } catch (err) {
          // Posting failed (a value structured clone refuses): nothing reached the worker.
          this.#current = undefined;
          clearTimeout(call.timer);
          call.reject(toPluginError(err, this.pluginId));
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #send(call: Call): void {
    if (call.init) {
      this.#worker.postMessage(call.init, []);
      return;
    }
    const request: WireRequest = [call.op, call.target, call.args, call.sink];
    const ctl = this.#ctl;
    if (ctl && !call.transfer) {
      try {
        (this.#writer as Writer).reset().value(request);
        this.#seq = this.#seq === 0x7fffffff ? 1 : this.#seq + 1;
        const workerHot = Atomics.load(ctl, WORKER_SLEEPING) === 0;
        Atomics.store(ctl, SEQ, this.#seq);
        Atomics.store(ctl, STATE, REQUEST);
        Atomics.notify(ctl, STATE, 1);
        this.#awaitShared(call, ctl, workerHot);
        return;
      } catch (err) {
        if (!(err instanceof NotInline)) throw err;
      }
    }
    const transfer = call.transfer ? transferables(call.args) : [];
    if (ctl) {
      // Wake the worker out of its wait loop: the request comes by message.
      Atomics.store(ctl, STATE, YIELD);
      Atomics.notify(ctl, STATE, 1);
    }
    this.#worker.postMessage({ kind: "call", request }, transfer);
  }

  /**
   * Spins a bounded few µs for the response; then asks the worker for a wake-up message and returns
   * (the response is read when that message arrives). A wake-up message is how the worker reaches an
   * idle main thread fastest: `Atomics.waitAsync` wakes Node's event loop far more slowly.
   */
  #awaitShared(call: Call, ctl: Int32Array, workerHot: boolean): void {
    // A sleeping worker first needs waking (and maybe the very core this thread would spin on): spin briefly.
    const until = performance.now() + (workerHot ? this.#spin.ms : COLD_SPIN_MS);
    for (let i = 1; ; i++) {
      if (Atomics.load(ctl, STATE) !== REQUEST) {
        if (workerHot) this.#spin.hit();
        this.#sharedDone(call, ctl);
        return;
      }
      if ((i & 31) === 0 && performance.now() >= until) break;
    }
    // Flag first, then look again: either we see the response now, or the worker sees the flag (SC atomics).
    Atomics.store(ctl, MAIN_WAITING, this.#seq);
    if (Atomics.load(ctl, STATE) !== REQUEST) {
      Atomics.compareExchange(ctl, MAIN_WAITING, this.#seq, 0);
      this.#sharedDone(call, ctl);
      return;
    }
    call.waiting = workerHot ? until : -until;
  }

  /** The worker left REQUEST: RESPONSE is in the buffer; POSTED comes by message (#onMessage); STOP is ours. */
  #sharedDone(call: Call, ctl: Int32Array): void {
    if (Atomics.load(ctl, STATE) === RESPONSE) {
      this.#complete(call, (this.#reader as Reader).reset().value() as WireResponse);
    }
  }

  // ------------------------------------------------------------ responses

  #onMessage(message: WorkerMessage): void {
    // After a death nothing from the old worker counts. After dispose, log lines (destructors log) still do.
    if (this.#death) return;
    if (message.kind === "wake") {
      // Stale wake-ups (the response was seen meanwhile) find no waiting call, or the next call in REQUEST.
      const call = this.#current;
      if (call?.waiting) {
        if (call.waiting > 0) this.#spin.late(performance.now() - call.waiting);
        this.#sharedDone(call, this.#ctl as Int32Array);
      }
      return;
    }
    if (message.kind === "log") {
      this.#forwardLog(message.lines as string[]);
      this.#logBatchesSeen++;
      const parked = this.#parked;
      if (parked && parked.response[2] <= this.#logBatchesSeen) {
        this.#parked = undefined;
        this.#settle(parked.call, parked.response);
      }
      return;
    }
    const call = this.#current;
    if (call) this.#complete(call, message.response);
  }

  #forwardLog(lines: string[]): void {
    const log = this.#log;
    if (!log) return;
    for (let i = 0; i < lines.length; i += 2) {
      try {
        log(lines[i] as string, lines[i + 1] as string);
      } catch {
        // The host's logger failing is the host's: the plugin's call goes on.
      }
    }
  }

  #complete(call: Call, response: WireResponse): void {
    if (this.#current !== call) return;
    clearTimeout(call.timer);
    this.#current = undefined;
    const state = response[1];
    if (state === POISONED && this.#state === LIVE) this.#state = POISONED;
    if (state === DISPOSED && this.#state !== DEAD) this.#state = DISPOSED;
    if (response[2] > this.#logBatchesSeen) {
      this.#parked = { call, response }; // settled when its log lines have been handed on
      return;
    }
    this.#settle(call, response);
  }

  #settle(call: Call, response: WireResponse): void {
    const [status, , , value, emits] = response;
    let emitError: PluginError | undefined;
    if (emits.length > 0) emitError = this.#forwardEmits(call, emits);
    if (status === 1) call.reject(errorFromWire(value as WireError));
    else if (emitError) call.reject(emitError);
    else call.resolve(value);
    this.#pump();
  }

  #forwardEmits(call: Call, emits: WireEmit[]): PluginError | undefined {
    const onEmit = call.onEmit;
    if (!onEmit) return undefined;
    let first: PluginError | undefined;
    for (const [output, lsnStart, lsnEnd, payload] of emits) {
      try {
        onEmit({ output, lsnStart, lsnEnd, payload });
      } catch (err) {
        first ??= toPluginError(err, this.pluginId);
      }
    }
    return first;
  }

  // ------------------------------------------------------------ death

  #expire(call: Call): void {
    if (this.#current !== call) return;
    const what = OP_WHAT[call.op];
    const error = new PluginError(
      ErrorCode.DeadlineExceeded,
      `plugin ${this.pluginId}: ${what} exceeded its deadline of ${call.timeoutMs} ms; its worker was terminated`,
      { retryable: true, pluginId: this.pluginId },
    );
    this.#die({ reason: "deadline", error, what });
  }

  #crashed(event: { message?: string; error?: unknown }): void {
    if (this.gone) return;
    const call = this.#current;
    const what = call ? OP_WHAT[call.op] : "idle";
    const detail = event.message || (event.error instanceof Error ? event.error.message : "no reason given");
    const code = (event.error as { code?: unknown } | undefined)?.code;
    const outOfMemory = code === "ERR_WORKER_OUT_OF_MEMORY";
    const error =
      call?.op === Op.Init && !outOfMemory
        ? new PluginError(ErrorCode.Io, `plugin ${this.pluginId}: its worker failed to start: ${detail}`, {
            pluginId: this.pluginId,
          })
        : new TrapError(
            outOfMemory ? ErrorCode.ResourceLimit : ErrorCode.Trap,
            `plugin ${this.pluginId}: its worker crashed during ${what}: ${detail}`,
            { pluginId: this.pluginId, cause: event.error },
          );
    this.#die({ reason: "crash", error, what });
  }

  #die(death: WorkerDeath): void {
    this.#death = death;
    this.#state = DEAD;
    this.#kill();
    this.#flushPending((call, inFlight) =>
      inFlight
        ? death.error
        : death.reason === "deadline"
          ? new PluginError(
              ErrorCode.DeadlineExceeded,
              `plugin ${this.pluginId}: ${OP_WHAT[call.op]} was queued behind ${death.what}, which exceeded its deadline; the worker was terminated`,
              { retryable: true, pluginId: this.pluginId },
            )
          : new TrapError(
              death.error.code,
              `plugin ${this.pluginId}: ${OP_WHAT[call.op]} was queued behind ${death.what} when the worker crashed: ${death.error.message}`,
              { pluginId: this.pluginId },
            ),
    );
    try {
      this.#onDeath?.(death);
    } catch {
      // The host's handler failing must not leave the connection half-dead.
    }
  }

  /** Rejects the call in flight and every queued call; a parked call (it completed) settles normally. */
  #flushPending(error: (call: Call, inFlight: boolean) => PluginError): void {
    const parked = this.#parked;
    this.#parked = undefined;
    if (parked) this.#settle(parked.call, parked.response);
    const current = this.#current;
    this.#current = undefined;
    if (current) {
      clearTimeout(current.timer);
      current.reject(error(current, true));
    }
    for (const call of this.#queue.splice(0)) call.reject(error(call, false));
  }

  #kill(): void {
    const ctl = this.#ctl;
    if (ctl) {
      // Wakes a worker blocked in Atomics.wait, so it leaves its loop as the thread goes.
      Atomics.store(ctl, STATE, STOP);
      Atomics.notify(ctl, STATE);
    }
    try {
      const ended = this.#worker.terminate();
      if (ended && typeof (ended as Promise<unknown>).then === "function") (ended as Promise<unknown>).catch(() => {});
    } catch {
      // Already gone.
    }
  }
}

/** Whether this runtime has what the shared channel needs. */
export function sharedChannelAvailable(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer === "function" && g.crossOriginIsolated !== false;
}

/** The whole, unshared buffers of the byte arguments, for a `transfer: true` call. */
function transferables(args: unknown[]): Transferable[] {
  const out = new Set<ArrayBuffer>();
  for (const a of args) {
    if (a instanceof Uint8Array && !isShared(a) && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) {
      out.add(a.buffer as ArrayBuffer);
    }
  }
  return [...out];
}
