/**
 * The query loop that keeps running while plugins are upgraded: one client per plugin (index probe, CRDT
 * apply+read, CDC publish, geo.point parse+display), each calling again as soon as its last call returned, so a
 * slow plugin does not hold the others back. Every call's latency and outcome is recorded.
 * Calls made during a reload queue at the plugin's gate and then run on whichever version serves, so
 * "failed" should stay at 0 through every upgrade, including refused ones.
 */
import { describeError } from "./plugins.ts";
import { yieldToBrowser } from "./random.ts";

export interface LoadOp {
  /** Which plugin the call goes to (a column of the per-plugin counters). */
  readonly family: string;
  readonly run: () => Promise<unknown>;
  /** Wait between calls (ms): for traffic that is steady rather than flat out, like ingest. */
  readonly pauseMs?: number;
}

export interface Sample {
  /** Seconds since the loop started, when the call returned. */
  t: number;
  ms: number;
  ok: boolean;
}

export class LoadLoop {
  served = 0;
  failed = 0;
  readonly perFamily = new Map<string, { served: number; failed: number }>();
  lastError = "";
  /** Slowest call so far (ms): reloads show up here as the calls that waited at the gate. */
  maxMs = 0;
  readonly samples: Sample[] = [];
  /** Moments worth a vertical line on the chart (reload started / finished), on the samples' clock. */
  readonly marks: { t: number; label: string }[] = [];
  #running = false;
  #stopped: Promise<void> = Promise.resolve();
  readonly #t0 = performance.now();

  constructor(
    private readonly ops: LoadOp[],
    private readonly keepSamples = 2000,
  ) {}

  /** Marks "now" on the latency chart. */
  mark(label: string): void {
    this.marks.push({ t: (performance.now() - this.#t0) / 1000, label });
    if (this.marks.length > 40) this.marks.shift();
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
    while (this.#running) {
      await this.#measure(op);
      if (op.pauseMs) await new Promise((resolve) => setTimeout(resolve, op.pauseMs));
      else await yieldToBrowser();
    }
  }

  async #measure(op: LoadOp): Promise<void> {
    const counters = this.perFamily.get(op.family) ?? { served: 0, failed: 0 };
    this.perFamily.set(op.family, counters);
    const start = performance.now();
    let ok = true;
    try {
      await op.run();
      this.served++;
      counters.served++;
    } catch (err) {
      ok = false;
      this.failed++;
      counters.failed++;
      this.lastError = `${op.family}: ${describeError(err)}`;
    }
    const ms = performance.now() - start;
    if (ms > this.maxMs) this.maxMs = ms;
    // Stamped at completion: samples then arrive in time order, which the chart's x axis needs.
    this.samples.push({ t: (start + ms - this.#t0) / 1000, ms, ok });
    if (this.samples.length > this.keepSamples) this.samples.splice(0, this.samples.length - this.keepSamples);
  }
}
