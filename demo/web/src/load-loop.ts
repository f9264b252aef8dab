/**
 * The query loop that keeps running while plugins are upgraded: one client per plugin (index probe, CRDT
 * apply+read, CDC publish, geo.point parse+display).
 *
 * The loop is open: each client's calls fall due at a fixed rate (`everyMs`), whatever happens to earlier calls,
 * and a call's latency is counted from when it fell due, not from when it finally started. A client runs its
 * calls one after another; when the page was busy (a reload moving state, a redraw, another plugin's slow call),
 * the calls that fell due meanwhile run as soon as it can and each one's latency includes that wait. So a stall
 * shows as what it was — every call due during it, each late by the rest of the stall — instead of as a gap in
 * the record (a closed loop, which only calls again after the last call returned, simply stops sampling while
 * the page is stuck, and hides the stall).
 *
 * Calls made during a reload queue at the plugin's gate and then run on whichever version serves, so "failed"
 * should stay at 0 through every upgrade, including refused ones.
 */
import { describeError } from "./plugins.ts";

export interface LoadOp {
  /** Which plugin the call goes to (a key of FAMILIES): one series on the chart, one row of counters. */
  readonly family: string;
  /** A call falls due every `everyMs` milliseconds. */
  readonly everyMs: number;
  readonly run: () => Promise<unknown>;
}

export interface Sample {
  /** When the call fell due: seconds on the loop's clock. */
  due: number;
  /** Latency: from due to done (ms). */
  ms: number;
  /** The call alone: from its start to done (ms). */
  serviceMs: number;
  ok: boolean;
}

/** One plugin's calls: counters since the start, and the samples of the last `windowSeconds`. */
export class Series {
  served = 0;
  failed = 0;
  /** Calls never made because the client fell more than `MAX_BACKLOG_MS` behind (it then skips ahead). */
  skipped = 0;
  maxMs = 0;
  readonly samples: Sample[] = [];

  constructor(
    readonly family: string,
    readonly everyMs: number,
  ) {}
}

/** A reload on the loop's clock, drawn as a band on the chart. */
export interface ReloadMark {
  readonly family: string;
  /** Short, e.g. "vector v1 → v2". */
  readonly label: string;
  readonly from: number;
  to?: number;
  outcome?: "ok" | "refused";
}

/** A client this far behind its schedule skips the calls it missed rather than queueing them forever. */
const MAX_BACKLOG_MS = 5_000;

export class LoadLoop {
  readonly series = new Map<string, Series>();
  readonly reloads: ReloadMark[] = [];
  /** Seconds of samples kept (the chart's window). */
  readonly windowSeconds: number;
  lastError = "";
  #running = false;
  #stopped: Promise<void> = Promise.resolve();
  readonly #t0 = performance.now();

  constructor(
    private readonly ops: readonly LoadOp[],
    windowSeconds = 20,
  ) {
    this.windowSeconds = windowSeconds;
    for (const op of ops) this.series.set(op.family, new Series(op.family, op.everyMs));
  }

  /** Now, in seconds on the loop's clock (the chart's x axis). */
  now(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  get served(): number {
    return [...this.series.values()].reduce((n, s) => n + s.served, 0);
  }

  get failed(): number {
    return [...this.series.values()].reduce((n, s) => n + s.failed, 0);
  }

  /** Slowest call since the start, any plugin (ms). */
  get maxMs(): number {
    return [...this.series.values()].reduce((n, s) => Math.max(n, s.maxMs), 0);
  }

  /** Marks a reload's start; call {@link endReload} when it is over. */
  beginReload(family: string, label: string): ReloadMark {
    const mark: ReloadMark = { family, label, from: this.now() };
    this.reloads.push(mark);
    if (this.reloads.length > 40) this.reloads.shift();
    return mark;
  }

  endReload(mark: ReloadMark, outcome: "ok" | "refused"): void {
    mark.to = this.now();
    mark.outcome = outcome;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = Promise.all(this.ops.map((op) => this.#client(op))).then(() => {});
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#stopped;
  }

  async #client(op: LoadOp): Promise<void> {
    const series = this.series.get(op.family) as Series;
    let due = performance.now();
    while (this.#running) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else await yieldTask(); // behind schedule: run at once, but let the page paint and take input between calls
      if (!this.#running) break;
      const behind = performance.now() - due;
      if (behind > MAX_BACKLOG_MS) {
        const missed = Math.floor(behind / op.everyMs);
        series.skipped += missed;
        due += missed * op.everyMs;
      }
      await this.#measure(op, series, due);
      due += op.everyMs;
    }
  }

  async #measure(op: LoadOp, series: Series, due: number): Promise<void> {
    const start = performance.now();
    let ok = true;
    try {
      await op.run();
      series.served++;
    } catch (err) {
      ok = false;
      series.failed++;
      this.lastError = `${op.family}: ${describeError(err)}`;
    }
    const done = performance.now();
    const ms = done - due;
    if (ms > series.maxMs) series.maxMs = ms;
    series.samples.push({ due: (due - this.#t0) / 1000, ms, serviceMs: done - start, ok });
    const oldest = (done - this.#t0) / 1000 - this.windowSeconds;
    let drop = 0;
    while (drop < series.samples.length && (series.samples[drop] as Sample).due < oldest) drop++;
    if (drop > 64) series.samples.splice(0, drop); // in bulk: splice is O(n)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();

/** Yields one task (a message, not a timer: no 4 ms clamp), so rendering and input get their turn. */
function yieldTask(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}
