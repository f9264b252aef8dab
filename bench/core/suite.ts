/**
 * The one benchmark body every runtime runs: takes a {@link BenchEnv} (file
 * loading, memory probe, peers) and returns the results. Runtime entry points
 * (bench/node.ts, bench/deno.ts, bench/browser/page.ts) only supply the env
 * and write the output.
 *
 * @module
 */
import { callOverhead } from "./call-overhead.ts";
import { coldLoad } from "./cold-load.ts";
import { crdtMerge } from "./crdt.ts";
import { cdcDelivery, crdtThroughput, restore64, writeLatency } from "./durable.ts";
import { handoff } from "./handoff.ts";
import { logicalTypeCast } from "./logical-type.ts";
import { probe } from "./probe.ts";
import { reloadUnderLoad } from "./reload.ts";
import type { BenchEnv, BenchResults, Figure } from "./types.ts";

/** Thrown by a benchmark that cannot run here for a reason that is not a bug (e.g. a component not built yet). */
export class Unavailable extends Error {
  override name = "Unavailable";
}

const BENCHMARKS: [string, (env: BenchEnv) => Promise<Figure[]>][] = [
  ["call-overhead", callOverhead],
  ["handoff", handoff],
  ["reload-under-load", reloadUnderLoad],
  ["index-probe", probe],
  ["crdt-merge", crdtMerge],
  ["logical-type-cast", logicalTypeCast],
  ["cold-load", coldLoad],
  ["durable-crdt", crdtThroughput],
  ["durable-latency", writeLatency],
  ["durable-restore", restore64],
  ["cdc-delivery", cdcDelivery],
];

export interface SuiteOutcome {
  results: BenchResults;
  /** Benchmarks that threw (a bug or a regression): the runner exits non-zero. */
  failures: { id: string; error: string }[];
}

export async function runSuite(env: BenchEnv, only?: readonly string[]): Promise<SuiteOutcome> {
  const t0 = performance.now();
  const results: BenchResults = {
    runtime: env.runtime,
    runtimeVersion: env.runtimeVersion,
    machine: env.machine,
    smoke: env.smoke,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    figures: [],
    skipped: [],
  };
  const failures: SuiteOutcome["failures"] = [];
  const start = env.loadAverage?.();
  results.skipped.push(...(env.notHere ?? []));
  if (env.smoke)
    env.log("smoke run: tiny sizes, one round; it proves every benchmark runs and checks its answers, no verdicts");
  const suiteEnv: BenchEnv = {
    ...env,
    skip: (id, reason) => {
      results.skipped.push({ id, reason });
      env.log(`  skipped ${id}: ${reason}`);
    },
  };
  for (const [id, run] of BENCHMARKS) {
    if (only?.length && !only.includes(id)) continue;
    const s0 = performance.now();
    env.log(`${id} ...`);
    try {
      const figures = await run(suiteEnv);
      results.figures.push(...figures);
      for (const f of figures) env.log(`  ${describe(f, env.smoke)}`);
    } catch (err) {
      if (err instanceof Unavailable) {
        results.skipped.push({ id, reason: err.message });
        env.log(`  skipped: ${err.message}`);
      } else {
        const error = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ""}` : String(err);
        failures.push({ id, error });
        env.log(`  FAILED: ${error}`);
      }
    }
    env.log(`  (${((performance.now() - s0) / 1000).toFixed(1)} s)`);
  }
  results.durationMs = performance.now() - t0;
  results.load = { start, end: env.loadAverage?.() };
  return { results, failures };
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** "median (min–max)". */
function spread(x: { median: number; min: number; max: number }): string {
  return `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
}

/** One console line per figure: median (min–max) of the value and the ratio, and the verdict on the median. */
export function describe(f: Figure, smoke = false): string {
  let s = `${f.name}: ${spread(f.value)} ${f.unit}`;
  if (f.baseline) s += ` vs ${spread(f.baseline.value)}`;
  if (f.ratio) s += `, ratio ${spread(f.ratio)}`;
  if (f.goal && !smoke) {
    const firm = f.goal.rounds > 1 ? `, ${f.goal.roundsMet}/${f.goal.rounds} rounds` : "";
    s += ` (goal ${f.goal.text}: ${f.goal.met ? "met" : "MISSED"} on the median${firm})`;
  }
  return s;
}
