/**
 * The portable event-loop stall probe: a chain of `setTimeout(1 ms)` timers.
 * A stall is how late a timer ran beyond when it was due; the probe reports
 * the longest one. Browsers clamp nested timers to 4 ms, so there a gap shorter
 * than ~4 ms is not seen (it would not be a missed frame either).
 *
 * @module
 */
import { now } from "./stats.ts";
import type { BenchEnv, StallProbe } from "./types.ts";

export function timerStallProbe(intervalMs = 1): StallProbe {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = 0;
  let worst = 0;
  let running = false;
  const tick = () => {
    if (!running) return;
    const t = now();
    worst = Math.max(worst, t - due);
    due = t + intervalMs;
    timer = setTimeout(tick, intervalMs);
  };
  return {
    how: `setTimeout(${intervalMs} ms) chain: longest lateness of a timer`,
    start() {
      running = true;
      worst = 0;
      due = now() + intervalMs;
      timer = setTimeout(tick, intervalMs);
    },
    stop() {
      running = false;
      clearTimeout(timer);
      // A stall still running when stopped counts too (the timer is late right now).
      return Math.max(worst, now() - due);
    },
  };
}

/** The runtime's own probe when it has one, else the timer chain. */
export function stallProbeOf(env: BenchEnv): StallProbe {
  return env.stallProbe?.() ?? timerStallProbe();
}
