/**
 * Reading a `ReloadReport`'s step timings: which steps move live state from
 * the old version into the new one, and per-step medians for the notes.
 *
 * Steps known NOT to move state are listed by name; every other step counts
 * as moving. If `src/reload.ts` renames or adds steps, the new ones are then
 * counted as part of the handoff: the figure can only get worse, never
 * flattered, and the notes list every step by name.
 *
 * @module
 */
import type { ReloadReport } from "../../src/mod.ts";
import { quantile } from "./stats.ts";

/** Steps that check, wait, swap pointers or clean up, but copy no state. */
const NOT_MOVING: ReadonlySet<string> = new Set([
  "validate",
  "instantiate",
  "check-manifest",
  "quiesce",
  "commit",
  "retire",
]);

/** ms the report spent in steps that move state (today: check-compat opens every index in the new version; handoff does the rest). */
export function movingMs(report: ReloadReport): number {
  let ms = 0;
  for (const step of report.steps) if (!NOT_MOVING.has(step.step)) ms += step.ms;
  return ms;
}

/** Names of the steps counted as moving in `report`. */
export function movingSteps(report: ReloadReport): string[] {
  return report.steps.map((s) => s.step).filter((s) => !NOT_MOVING.has(s));
}

/** Collects step timings over many reports. */
export class StepTimes {
  readonly #ms = new Map<string, number[]>();

  add(report: ReloadReport): void {
    for (const step of report.steps) {
      const list = this.#ms.get(step.step) ?? [];
      list.push(step.ms);
      this.#ms.set(step.step, list);
    }
  }

  /** `step median` pairs, in step order, e.g. "instantiate 0.41, check-compat 12.3, …". */
  describe(): string {
    return [...this.#ms].map(([step, ms]) => `${step} ${fmt(quantile(ms, 0.5))}`).join(", ");
  }
}

function fmt(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms >= 0.1 ? ms.toFixed(2) : ms.toFixed(3);
}
