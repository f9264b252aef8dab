/**
 * Builds {@link Figure}s from paired samples, so every benchmark reports the
 * same shape: value, baseline, per-round ratio, goal and whether it is met.
 *
 * @module
 */
import { type Goal, meets, summarize } from "./stats.ts";
import type { Figure } from "./types.ts";

export interface PairedFigure {
  id: string;
  group: string;
  name: string;
  unit: string;
  samples: number[];
  baseline?: { name: string; samples: number[]; unit?: string };
  /** Per-round ratios; default value ÷ baseline per round. */
  ratios?: number[];
  goal?: Goal;
  notes?: string;
}

export function figure(p: PairedFigure): Figure {
  const out: Figure = { id: p.id, group: p.group, name: p.name, unit: p.unit, value: summarize(p.samples) };
  let ratios = p.ratios;
  if (p.baseline) {
    out.baseline = { name: p.baseline.name, unit: p.baseline.unit ?? p.unit, value: summarize(p.baseline.samples) };
    const base = p.baseline.samples;
    ratios ??= p.samples.map((v, i) => v / (base[i] as number));
  }
  if (ratios) out.ratio = summarize(ratios);
  if (p.goal) {
    const goal = p.goal;
    // The verdict is the median's; how many single rounds met the goal shows how firm that verdict is.
    const judged = goal.of === "ratio" ? (ratios ?? []) : p.samples;
    const measured = goal.of === "ratio" ? (out.ratio?.median ?? Number.NaN) : out.value.median;
    out.goal = {
      ...goal,
      met: meets(goal, measured),
      text: `${goal.of} ${goal.op} ${goal.value}`,
      roundsMet: judged.filter((x) => meets(goal, x)).length,
      rounds: judged.length,
    };
  }
  if (p.notes) out.notes = p.notes;
  return out;
}
