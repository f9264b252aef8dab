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
  if (p.baseline) {
    out.baseline = { name: p.baseline.name, unit: p.baseline.unit ?? p.unit, value: summarize(p.baseline.samples) };
    const base = p.baseline.samples;
    const ratios = p.ratios ?? p.samples.map((v, i) => v / (base[i] as number));
    out.ratio = summarize(ratios);
  } else if (p.ratios) {
    out.ratio = summarize(p.ratios);
  }
  if (p.goal) {
    const measured = p.goal.of === "ratio" ? (out.ratio?.median ?? Number.NaN) : out.value.median;
    out.goal = { ...p.goal, met: meets(p.goal, measured), text: `${p.goal.of} ${p.goal.op} ${p.goal.value}` };
  }
  if (p.notes) out.notes = p.notes;
  return out;
}
