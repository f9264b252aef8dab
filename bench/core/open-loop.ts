/**
 * Open-loop load: requests arrive at a fixed rate whatever the server is
 * doing, and each latency is counted from the request's *scheduled* arrival,
 * not from when the loop got round to issuing it. A closed loop (issue the
 * next call when the last one returns) stops arriving while the server is
 * stuck, so the time spent waiting behind a stall is never counted
 * ("coordinated omission"); this driver counts it.
 *
 * Arrivals are issued from timers: when the event loop is blocked, every
 * arrival that fell due meanwhile is issued as soon as it runs again, and its
 * latency includes the wait.
 *
 * @module
 */
import { now } from "./stats.ts";

export interface OpenLoopResult {
  /** Completion time − scheduled arrival, ms, one per completed call. */
  latencies: number[];
  failures: number;
  /** Arrivals issued. */
  issued: number;
  /** Wall time from the first arrival to the last completion, ms. */
  spanMs: number;
}

export interface OpenLoop {
  /** Stops arriving (arrivals scheduled before now are still issued) and resolves once every call has settled. */
  stop(): Promise<OpenLoopResult>;
}

/**
 * Starts a fixed-rate stream of `call(i)` (i = arrival number). Each latency
 * is measured from `start + i / rate`.
 */
export function openLoop(ratePerSec: number, call: (i: number) => Promise<unknown>): OpenLoop {
  const period = 1000 / ratePerSec;
  const t0 = now();
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  let pending = 0;
  let lastDone = t0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled: (() => void) | undefined;

  const issueDue = () => {
    const t = now();
    for (;;) {
      const scheduled = t0 + next * period;
      if (scheduled > t || scheduled >= stopAt) break;
      const i = next++;
      pending++;
      const done = () => {
        lastDone = now();
        pending--;
        if (pending === 0 && settled) settled();
      };
      call(i).then(
        () => {
          latencies.push(now() - scheduled);
          done();
        },
        () => {
          failures++;
          done();
        },
      );
    }
  };
  const schedule = () => {
    issueDue();
    if (t0 + next * period >= stopAt) return;
    timer = setTimeout(schedule, Math.max(0, t0 + next * period - now()));
  };
  schedule();

  return {
    stop() {
      stopAt = now();
      clearTimeout(timer);
      issueDue(); // arrivals that fell due before the stop but whose timer has not run yet
      return new Promise<OpenLoopResult>((resolve) => {
        const finish = () => resolve({ latencies, failures, issued: next, spanMs: lastDone - t0 });
        if (pending === 0) finish();
        else settled = finish;
      });
    },
  };
}

/** Waits `ms` on a timer (the open loop keeps arriving meanwhile). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
