/**
 * The worker's side: one `ComponentInstance` (the same class, code path and trap policy as in-thread),
 * its handles by id, and the loop that answers main.
 *
 * With a shared channel the worker blocks in `Atomics.wait` between calls (after a short spin, so
 * back-to-back calls never sleep), reads each request from the shared buffer, runs it, and writes the
 * response back — or posts it when it does not fit or carries shared bytes. A request main posts
 * instead (too big, shared bytes, transfers) comes with a `YIELD` in the state slot: the loop returns
 * to the event loop, the message arrives, is answered, and the loop resumes. Without a shared channel
 * every request and response is a message.
 *
 * `host-log` lines are batched and posted as they come (in order, asynchronously), and every call's
 * response says how many batches precede it, so main hands a call's log lines on before settling it.
 *
 * @module
 */
import { ComponentInstance } from "../component/instance.ts";
import { ComponentModule } from "../component/module.ts";
import type { LogLevel, SurfaceName } from "../component/types.ts";
import { ErrorCode, PluginError } from "../errors.ts";
import type { CdcClient, CdcStream } from "../surfaces/cdc.ts";
import type { CrdtClient, CrdtState } from "../surfaces/crdt.ts";
import type { IndexClient, IndexHandle } from "../surfaces/index.ts";
import type { LogicalTypeClient } from "../surfaces/logical-type.ts";
import { fromWire, isShared, NotInline, Reader, Writer } from "./codec.ts";
import {
  type CallMessage,
  CONTROL_BYTES,
  errorToWire,
  IDLE,
  type InitMessage,
  MAIN_WAITING,
  Op,
  POSTED,
  REQUEST,
  RESPONSE,
  SEQ,
  STATE,
  STOP,
  WORKER_SLEEPING,
  type WireRequest,
  type WireResponse,
  type WorkerMessage,
  YIELD,
} from "./protocol.ts";
import { SinkGate } from "./sink.ts";
import { SpinBudget } from "./spin.ts";

/** The worker's global scope, as `serve` needs it (a Web worker's `self`, or Node's `parentPort`). */
export interface WorkerScope {
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
  /** Installs the one handler for messages from main. */
  listen(handler: (data: unknown) => void): void;
}

type Handle = IndexHandle | CdcStream | CrdtState;

/**
 * Log lines cross in batches: a line goes at once when the last batch left at least this long ago (so a
 * line logged just before a runaway loop still reaches main), later ones wait for the next such moment,
 * a full batch, or the end of the call. A flood thus costs main about one message per millisecond.
 */
const LOG_BATCH_MS = 1;
/**
 * Result bytes up to this size come back through the shared buffer: copied into it here and out of it on
 * main, two memcpy cheaper than a message. Bigger ones (Arrow batches, snapshots) are transferred: the copy
 * out of guest memory, which in-thread calls make too, is the only one.
 */
const RESULT_INLINE_BYTES = 16 * 1024;
const LOG_BATCH_LINES = 256;
const LOG_BATCH_CHARS = 64 * 1024;

/** The global scope of a dedicated Web Worker, as far as it is used here. */
interface WebWorkerGlobal {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent) => unknown) | null;
}

/**
 * Serves a worker-hosted instance from this worker: call it from a worker entry script. Default
 * scope: the Web Worker's own global scope (`self`); the Node adapter passes `parentPort`'s.
 */
export function serveWorker(scope?: WorkerScope): void {
  if (scope) {
    serve(scope);
    return;
  }
  const self = globalThis as unknown as WebWorkerGlobal;
  serve({
    postMessage: (message, transfer) => self.postMessage(message, transfer),
    listen: (handler) => {
      self.onmessage = (event) => handler(event.data);
    },
  });
}

/** Answers main on `scope` until the worker is terminated. */
function serve(scope: WorkerScope): void {
  let server: Server | undefined;
  scope.listen((data) => {
    const message = data as InitMessage | CallMessage;
    if (message.kind === "init") {
      if (server) return; // init comes once; a second is a main-side bug, ignored
      server = new Server(scope, message);
      // A failure here is a bug of the worker itself: rethrown outside the promise, it reaches main as the
      // worker's error event (a crash), instead of vanishing as an unhandled rejection.
      server.start(message).catch((err) =>
        setTimeout(() => {
          throw err;
        }),
      );
    } else {
      server?.onCall(message);
    }
  });
}

class Server {
  #instance: ComponentInstance | undefined;
  readonly #handles = new Map<number, { surface: SurfaceName; handle: Handle }>();
  /** Per surface, a handle already dropped: calls on any dropped id get its exact in-thread refusal. */
  readonly #tombstones = new Map<SurfaceName, Handle>();
  readonly #outputs = new Map<number, string>();
  #nextId = 1;
  readonly #gate = new SinkGate(() => this.#instance?.pluginId ?? this.pluginId);
  #logLines: string[] = [];
  #logChars = 0;
  #logBatches = 0;
  #logPosted = Number.NEGATIVE_INFINITY;
  readonly pluginId: string;
  readonly #ctl: Int32Array | undefined;
  readonly #reader: Reader | undefined;
  readonly #writer: Writer | undefined;
  readonly #spin: SpinBudget;

  constructor(
    private readonly scope: WorkerScope,
    init: InitMessage,
  ) {
    this.pluginId = init.pluginId;
    this.#spin = new SpinBudget(init.workerSpinMicros);
    if (init.channel) {
      this.#ctl = new Int32Array(init.channel, 0, CONTROL_BYTES / 4);
      const data = new Uint8Array(init.channel, CONTROL_BYTES);
      this.#reader = new Reader(data, false);
      this.#writer = new Writer(data, RESULT_INLINE_BYTES);
    }
  }

  async start(init: InitMessage): Promise<void> {
    let response: WireResponse;
    try {
      const m = init.meta;
      const module = new ComponentModule(
        m.hash,
        init.module,
        new Set(m.surfaces),
        new Set(m.requiredImports),
        m.memoryPagesCeiling,
        m.memoryPages,
        new Set(m.coreExports),
        m.componentImports,
        m.componentExports,
      );
      this.#instance = await ComponentInstance.instantiate(module, {
        ...init.forward,
        pluginId: init.pluginId,
        grants: new Set(init.grants),
        ...(init.wantsLog ? { log: this.#log } : {}),
        cdcSink: this.#gate.emit,
      });
      this.#flushLog();
      response = [0, 0, this.#logBatches, undefined, []];
    } catch (err) {
      this.#flushLog();
      response = [1, 0, this.#logBatches, errorToWire(err, init.pluginId), []];
    }
    this.#post(response);
    if (this.#instance && this.#ctl) this.#loop();
  }

  /** A request main posted (no shared channel, or one that could not go through it). */
  onCall(message: CallMessage): void {
    this.#post(this.#run(message.request));
    if (this.#ctl) this.#loop();
  }

  // ------------------------------------------------------------ the shared channel

  /** Serves requests from the shared buffer until main yields (a message is coming) or stops. */
  #loop(): void {
    const ctl = this.#ctl as Int32Array;
    const reader = this.#reader as Reader;
    // Whether main is spinning for responses (it caught the last one without a wake-up): only then is the
    // next request likely within µs, and worth spinning for. A main thread that went back to its event loop
    // may need the very core a spin would take.
    let mainHot = false;
    for (;;) {
      let state = Atomics.load(ctl, STATE);
      if (state !== REQUEST && state !== YIELD && state !== STOP) state = this.#waitForWork(ctl, state, mainHot);
      if (state === YIELD) {
        Atomics.compareExchange(ctl, STATE, YIELD, IDLE);
        return;
      }
      if (state === STOP) return;
      const seq = Atomics.load(ctl, SEQ);
      mainHot = this.#respond(ctl, seq, this.#run(reader.reset().value() as WireRequest));
    }
  }

  /** Spins when `spin` (adaptively), then blocks until the state slot leaves `state`. */
  #waitForWork(ctl: Int32Array, state: number, spin: boolean): number {
    const until = performance.now() + (spin ? this.#spin.ms : 0);
    if (spin) {
      for (let i = 1; ; i++) {
        const now = Atomics.load(ctl, STATE);
        if (now !== state) {
          this.#spin.hit();
          return now;
        }
        if ((i & 63) === 0 && performance.now() >= until) break;
      }
    }
    Atomics.store(ctl, WORKER_SLEEPING, 1);
    for (;;) {
      Atomics.wait(ctl, STATE, state);
      const now = Atomics.load(ctl, STATE);
      if (now !== state) {
        Atomics.store(ctl, WORKER_SLEEPING, 0);
        if (spin) this.#spin.late(performance.now() - until);
        return now;
      }
    }
  }

  /**
   * Answers request `seq`. The last write to the state slot comes before anything that lets main send
   * the next request (the response itself, or the message carrying it): a later write would overwrite it.
   * The slot only moves on from REQUEST: if main ended the connection meanwhile (STOP), it stays STOP, and
   * the loop leaves, so the thread returns to its event loop where termination takes effect.
   */
  #respond(ctl: Int32Array, seq: number, response: WireResponse): boolean {
    const writer = this.#writer as Writer;
    try {
      writer.reset().value(response);
    } catch (err) {
      if (!(err instanceof NotInline)) throw err;
      if (Atomics.compareExchange(ctl, STATE, REQUEST, POSTED) !== REQUEST) return false;
      Atomics.compareExchange(ctl, MAIN_WAITING, seq, 0); // the response message itself wakes main
      this.#post(response);
      return false;
    }
    if (Atomics.compareExchange(ctl, STATE, REQUEST, RESPONSE) !== REQUEST) return false;
    // State first, then the flag (SC atomics): main either sees the response or gets the wake-up.
    if (Atomics.compareExchange(ctl, MAIN_WAITING, seq, 0) !== seq) return true; // main was spinning
    this.scope.postMessage({ kind: "wake" }, []);
    return false;
  }

  #post(response: WireResponse): void {
    const transfer = new Set<ArrayBuffer>();
    const own = (v: unknown) => {
      // A private copy owning its whole buffer moves without a copy; shared bytes are shared anyway.
      if (v instanceof Uint8Array && !isShared(v) && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) {
        transfer.add(v.buffer as ArrayBuffer);
      }
    };
    if (response[0] === 0) own(response[3]);
    for (const emit of response[4]) own(emit[3]);
    this.scope.postMessage({ kind: "response", response }, [...transfer]);
  }

  // ------------------------------------------------------------ calls

  #run(request: WireRequest): WireResponse {
    const [op, target, args, sink] = request;
    const instance = this.#instance as ComponentInstance;
    let status: 0 | 1 = 0;
    let value: unknown;
    this.#gate.begin(sink, op === Op.CdcStart ? String(args[0]) : (this.#outputs.get(target) ?? ""));
    try {
      value = this.#execute(instance, op, target, args.map(fromWire));
    } catch (err) {
      status = 1;
      value = errorToWire(err, instance.pluginId);
    }
    const emits = this.#gate.end();
    this.#flushLog();
    const state = instance.disposed ? 2 : instance.poisoned ? 1 : 0;
    return [status, state, this.#logBatches, value, emits];
  }

  #execute(instance: ComponentInstance, op: Op, target: number, a: unknown[]): unknown {
    switch (op) {
      case Op.Manifest:
        return instance.manifest();
      case Op.MemoryBytes:
        return instance.memoryBytes();
      case Op.LiveHandles: {
        const live = instance.liveHandles();
        return [live.index, live.cdc, live.crdt, live["logical-type"]];
      }
      case Op.Dispose:
        instance.dispose();
        // Every handle is released now; keep one per surface so later calls get the in-thread refusal.
        for (const { surface, handle } of this.#handles.values()) this.#tombstones.set(surface, handle);
        this.#handles.clear();
        return undefined;
      case Op.SetPluginId:
        instance.pluginId = a[0] as string;
        return undefined;
      case Op.LogStats: {
        const stats = instance.logStats;
        return [stats.delivered, stats.dropped, stats.droppedBytes, stats.truncated];
      }

      case Op.IndexKinds:
        return (instance.index as IndexClient).kinds();
      case Op.IndexBuild:
        return this.#adopt(
          "index",
          (instance.index as IndexClient).build(a[0] as string, a[1] as Uint8Array, a[2] as string),
        );
      case Op.IndexOpen:
        return this.#adopt("index", (instance.index as IndexClient).open(a[0] as string, a[1] as Uint8Array));
      case Op.IndexProbe:
        return this.#index(target).probe(a[0] as Uint8Array, a[1] as number);
      case Op.IndexSupportsFilter:
        return this.#index(target).supportsFilter();
      case Op.IndexProbeFiltered:
        return this.#index(target).probeFiltered(a[0] as Uint8Array, a[1] as number, a[2] as Uint8Array);
      case Op.IndexPersist:
        return this.#index(target).persist();
      case Op.IndexPersistShared:
        return this.#index(target).persistLent(this.#shareCopy);
      case Op.IndexSchema:
        return this.#index(target).schema();
      case Op.IndexDrop:
        return this.#drop("index", target);

      case Op.CdcOutputs:
        return (instance.cdc as CdcClient).outputs();
      case Op.CdcStart: {
        const id = this.#adopt("cdc", (instance.cdc as CdcClient).start(a[0] as string, a[1] as bigint | undefined));
        this.#outputs.set(id, a[0] as string);
        return id;
      }
      case Op.CdcDeliver:
        // One argument: main was not given a batch object; the in-thread check refuses it the same way.
        if (a.length === 1) return this.#cdc(target).deliver(a[0] as never);
        return this.#cdc(target).deliver({
          lsnStart: a[0] as bigint,
          lsnEnd: a[1] as bigint,
          mutations: a[2] as Uint8Array,
          commitMicros: a[3] as bigint,
        });
      case Op.CdcCheckpoint:
        return this.#cdc(target).checkpoint();
      case Op.CdcShutdown:
        return this.#cdc(target).shutdown();
      case Op.CdcDrop:
        this.#outputs.delete(target);
        return this.#drop("cdc", target);

      case Op.CrdtKinds:
        return (instance.crdt as CrdtClient).kinds();
      case Op.CrdtEmpty:
        return this.#adopt("crdt", (instance.crdt as CrdtClient).empty(a[0] as string));
      case Op.CrdtFromPersisted:
        return this.#adopt("crdt", (instance.crdt as CrdtClient).fromPersisted(a[0] as string, a[1] as Uint8Array));
      case Op.CrdtApply:
        return this.#crdt(target).apply(a[0] as Uint8Array);
      case Op.CrdtMerge:
        return this.#crdt(target).merge(a[0] as Uint8Array);
      case Op.CrdtValue:
        return this.#crdt(target).value();
      case Op.CrdtPersist:
        return this.#crdt(target).persist();
      case Op.CrdtPersistShared:
        return this.#crdt(target).persistLent(this.#shareCopy);
      case Op.CrdtDrop:
        return this.#drop("crdt", target);

      case Op.TypeNames:
        return (instance.logicalType as LogicalTypeClient).names();
      case Op.TypeArrowType:
        return (instance.logicalType as LogicalTypeClient).arrowType(a[0] as string);
      case Op.TypeEncodingVersion:
        return (instance.logicalType as LogicalTypeClient).encodingVersion(a[0] as string);
      case Op.TypeFromLiteral:
        return (instance.logicalType as LogicalTypeClient).fromLiteral(a[0] as string, a[1] as Uint8Array);
      case Op.TypeToDisplay:
        return (instance.logicalType as LogicalTypeClient).toDisplay(a[0] as string, a[1] as Uint8Array);
      case Op.TypeCastFrom:
        return (instance.logicalType as LogicalTypeClient).castFrom(a[0] as string, a[1] as Uint8Array);
      case Op.TypeCastTo:
        return (instance.logicalType as LogicalTypeClient).castTo(a[0] as string, a[1] as Uint8Array, a[2] as string);
      default:
        throw new PluginError(ErrorCode.UnknownFunction, `worker: unknown operation ${op}`);
    }
  }

  #adopt(surface: SurfaceName, handle: Handle): number {
    const id = this.#nextId++;
    this.#handles.set(id, { surface, handle });
    return id;
  }

  #handle(surface: SurfaceName, id: number): Handle {
    const handle = this.#handles.get(id)?.handle ?? this.#tombstones.get(surface);
    if (!handle) {
      throw new PluginError(
        ErrorCode.StaleHandle,
        `plugin ${this.#instance?.pluginId}: unknown ${surface} handle ${id}`,
      );
    }
    return handle;
  }

  #index(id: number): IndexHandle {
    return this.#handle("index", id) as IndexHandle;
  }
  #cdc(id: number): CdcStream {
    return this.#handle("cdc", id) as CdcStream;
  }
  #crdt(id: number): CrdtState {
    return this.#handle("crdt", id) as CrdtState;
  }

  #drop(surface: SurfaceName, id: number): undefined {
    const handle = this.#handles.get(id)?.handle;
    if (!handle) return undefined; // dropped already (or by dispose): dropping is idempotent
    this.#handles.delete(id);
    this.#tombstones.set(surface, handle);
    handle.drop();
    return undefined;
  }

  /**
   * Persisted bytes lent from guest memory, copied once into memory main can hold without touching it:
   * shared memory on the shared channel, else an `ArrayBuffer` that the response moves to main.
   */
  readonly #shareCopy = (view: Uint8Array): Uint8Array => {
    const buffer = this.#ctl ? new SharedArrayBuffer(view.length) : new ArrayBuffer(view.length);
    const out = new Uint8Array(buffer);
    out.set(view);
    return out;
  };

  // ------------------------------------------------------------ host-log

  readonly #log = (level: LogLevel, message: string): void => {
    this.#logLines.push(level, message);
    this.#logChars += message.length;
    if (
      performance.now() - this.#logPosted >= LOG_BATCH_MS ||
      this.#logLines.length >= LOG_BATCH_LINES * 2 ||
      this.#logChars >= LOG_BATCH_CHARS
    ) {
      this.#flushLog();
    }
  };

  #flushLog(): void {
    if (this.#logLines.length === 0) return;
    this.#logPosted = performance.now();
    const lines = this.#logLines;
    this.#logLines = [];
    this.#logChars = 0;
    this.#logBatches++;
    this.scope.postMessage({ kind: "log", lines }, []);
  }
}
