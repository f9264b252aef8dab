/**
 * 3. Latency during reloads, open loop: batch-1 probes arrive at a fixed rate
 * (./open-loop.ts: each latency counted from its scheduled arrival, so time
 * spent queued behind a reload counts) while the plugin is reloaded back to
 * back; the same stream without reloads is the steady state, in the same round.
 * A stall probe (./stall.ts; Node: `monitorEventLoopDelay`) reports the
 * longest time the event loop could not run a timer.
 *
 * Scenarios (see SCENARIOS):
 *   1mib      a plugin holding 1 MiB of index state (also: the reload latency goal, <= 2 ms)
 *   demo100k  the demo's index: 100k rows x 64-d `vector.flat` (~25 MiB), reloaded v1 → v2
 *
 * One round: steady (v1 serving) → a burst of reloads ending on v2 → steady (v2
 * serving) → a burst ending on v1. Both versions serve equally in the steady
 * windows and in the bursts, so v2's faster probe flatters neither side.
 * Per round: p50/p99/max of each side, the longest stall; figures are the
 * min/median/max of those over rounds, and the verdict is the median's.
 *
 * A scenario carries the `LoadOptions` (and `ReloadOptions`) it loads and
 * reloads with, so worker-hosted instances can be measured by passing
 * `{ isolation: "worker" }` once the host has it, without touching the runner.
 *
 * @module
 */
import { fromIPC, type LoadOptions, type PluginHandle, PluginHost, type ReloadOptions, toIPC } from "../../src/mod.ts";
import { clusteredVectors, indexSource, MiB, queryTable, rowsForBytes, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { openLoop, sleep } from "./open-loop.ts";
import { StepTimes } from "./reload-steps.ts";
import { stallProbeOf } from "./stall.ts";
import { now, quantile, summarize, yieldToMacrotasks } from "./stats.ts";
import type { BenchEnv, Figure } from "./types.ts";

const GROUP = "3. latency during reloads (open loop)";
/**
 * Node's monitorEventLoopDelay only records from its second sample: a stall that starts right after
 * `enable()` goes unseen (measured). Each window starts this long after its probe.
 */
const STALL_WARMUP_MS = 5;

export interface ReloadScenario {
  /** Figure id part, e.g. `demo100k`. */
  id: string;
  /** Words for the figure names, e.g. "demo index, 100k x 64-d (~25 MiB)". */
  label: string;
  rows: number;
  dim: number;
  /** Fixed arrival rate of batch-1 probes. */
  ratePerSec: number;
  /** Steady-state window per half round. */
  steadyMs: number;
  /** Reloads per burst; odd, so a burst starting on v1 ends on v2. */
  reloadsPerBurst: number;
  rounds: number;
  /** Passed to `host.load` — where `{ isolation: "worker" }` goes once worker-hosted instances exist. */
  load?: LoadOptions;
  /** Passed to every `host.reload`. */
  reload?: ReloadOptions;
  /** Goal on the median ReloadReport.totalMs, if any. */
  reloadLatencyGoalMs?: number;
}

/** The scenarios the full run measures; smoke runs shrink them (see {@link smokeOf}). */
export function scenarios(): ReloadScenario[] {
  return [
    {
      id: "1mib",
      label: `1 MiB index state (${rowsForBytes(MiB, 64)} x 64-d)`,
      rows: rowsForBytes(MiB, 64),
      dim: 64,
      ratePerSec: 500,
      steadyMs: 400,
      reloadsPerBurst: 41,
      rounds: 7,
      reloadLatencyGoalMs: 2,
    },
    {
      id: "demo100k",
      label: "demo index, 100k x 64-d vector.flat (~25 MiB)",
      rows: 100_000,
      dim: 64,
      ratePerSec: 50,
      steadyMs: 1000,
      reloadsPerBurst: 25,
      rounds: 5,
    },
  ];
}

function smokeOf(s: ReloadScenario): ReloadScenario {
  return { ...s, rows: Math.min(s.rows, 2_000), dim: 16, steadyMs: 60, reloadsPerBurst: 3, rounds: 1 };
}

export async function reloadUnderLoad(env: BenchEnv): Promise<Figure[]> {
  const v1 = await env.component("vector-flat-v1");
  const v2 = (await env.component("vector-flat-v2")) ?? v1;
  if (!v1 || !v2) throw new Error("vector-flat-v1.wasm is missing");
  const figures: Figure[] = [];
  for (const s of scenarios()) figures.push(...(await runScenario(env, v1, v2, env.smoke ? smokeOf(s) : s)));
  return figures;
}

interface Side {
  p50: number[];
  p99: number[];
  max: number[];
  stall: number[];
  samples: number;
}

const side = (): Side => ({ p50: [], p99: [], max: [], stall: [], samples: 0 });

export async function runScenario(env: BenchEnv, v1: Uint8Array, v2: Uint8Array, s: ReloadScenario): Promise<Figure[]> {
  const host = new PluginHost({ onLog: () => {} });
  try {
    let plugin: PluginHandle = await host.load(v1, s.load);
    const idx = await host.createIndex(
      "served",
      "vector.flat",
      indexSource(sequentialIds(s.rows), clusteredVectors(s.rows, s.dim, 3), s.dim),
    );
    const queries = Array.from({ length: 64 }, (_, i) => toIPC(queryTable(clusteredVectors(1, s.dim, 500 + i), s.dim)));
    const probe = (i: number) => idx.probeIPC(queries[i % queries.length] as Uint8Array, 10);
    const ids = async () =>
      [
        ...(fromIPC(await probe(0))
          .getChild("id")
          ?.toArray() ?? []),
      ].join(",");
    const want = await ids();
    const sources = [v2, v1];
    let serving = 0; // 0: v1 serves (next reload goes to v2)
    const reloadTo = async () => {
      const report = await host.reload(plugin, sources[serving] as Uint8Array, s.reload);
      plugin = report.to as PluginHandle;
      serving ^= 1;
      return report;
    };
    // Warm both modules and the reload path (compile cache, JIT) outside the timing; check answers on both.
    for (let i = 0; i < 2; i++) {
      await reloadTo();
      const got = await ids();
      if (got !== want) throw new Error(`${s.id}: after a warm-up reload the index answers ${got}, before ${want}`);
    }
    // Service time of one probe (closed loop, v1), to state how loaded the steady state is.
    const service: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = now();
      await probe(i);
      service.push(now() - t0);
    }
    const serviceMs = quantile(service, 0.5);

    const steady = side();
    const during = side();
    const totalMs: number[] = [];
    const steps = new StepTimes();
    let failed = 0;
    let issued = 0;
    let reloads = 0;
    let movedBytes = 0;
    let stallHow = "";
    for (let r = 0; r < s.rounds; r++) {
      const steadyLat: number[] = [];
      const reloadLat: number[] = [];
      let steadyStall = 0;
      let reloadStall = 0;
      const roundTotals: number[] = [];
      for (let half = 0; half < 2; half++) {
        const stall = stallProbeOf(env);
        stallHow = stall.how;
        stall.start();
        await sleep(STALL_WARMUP_MS);
        let loop = openLoop(s.ratePerSec, probe);
        await sleep(s.steadyMs);
        let res = await loop.stop();
        steadyStall = Math.max(steadyStall, stall.stop());
        steadyLat.push(...res.latencies);
        failed += res.failures;
        issued += res.issued;

        stall.start();
        await sleep(STALL_WARMUP_MS);
        loop = openLoop(s.ratePerSec, probe);
        for (let i = 0; i < s.reloadsPerBurst; i++) {
          const report = await reloadTo();
          roundTotals.push(report.totalMs);
          steps.add(report);
          movedBytes = report.moved.bytes;
          reloads++;
          await yieldToMacrotasks(); // one turn of the loop between reloads, as any caller of reload gives
        }
        res = await loop.stop();
        reloadStall = Math.max(reloadStall, stall.stop());
        reloadLat.push(...res.latencies);
        failed += res.failures;
        issued += res.issued;
      }
      const got = await ids();
      if (got !== want) throw new Error(`${s.id}: after round ${r + 1} the index answers ${got}, before ${want}`);
      record(steady, steadyLat, steadyStall);
      record(during, reloadLat, reloadStall);
      totalMs.push(quantile(roundTotals, 0.5));
    }

    const where = `${s.label}; ${s.ratePerSec} probes/s (batch 1, k = 10), one probe takes ~${serviceMs.toFixed(2)} ms (${((s.ratePerSec * serviceMs) / 10).toFixed(0)}% of one core)`;
    const steadyName = "the same arrivals with no reload, same round";
    const sampleNote = `${Math.round(during.samples / s.rounds)} arrivals per round during reloads, ${Math.round(steady.samples / s.rounds)} in steady state`;
    const out: Figure[] = [
      figure({
        id: `reload.${s.id}.p99`,
        group: GROUP,
        name: `${s.label}: open-loop p99 latency during back-to-back reloads ÷ steady state`,
        unit: "ms",
        samples: during.p99,
        baseline: { name: steadyName, samples: steady.p99 },
        goal: { op: "<=", value: 2, of: "ratio" },
        notes: `${where}; ${sampleNote}; latency counted from each probe's scheduled arrival`,
      }),
      figure({
        id: `reload.${s.id}.p50`,
        group: GROUP,
        name: `${s.label}: open-loop p50 latency during reloads ÷ steady state`,
        unit: "ms",
        samples: during.p50,
        baseline: { name: steadyName, samples: steady.p50 },
      }),
      figure({
        id: `reload.${s.id}.max`,
        group: GROUP,
        name: `${s.label}: open-loop max latency during reloads ÷ steady state`,
        unit: "ms",
        samples: during.max,
        baseline: { name: steadyName, samples: steady.max },
      }),
      figure({
        id: `reload.${s.id}.stall`,
        group: GROUP,
        name: `${s.label}: longest event-loop stall during reloads`,
        unit: "ms",
        samples: during.stall,
        baseline: { name: "longest stall in steady state (probes alone)", samples: steady.stall },
        goal: { op: "<=", value: 16, of: "ms" },
        notes: `${stallHow}; per round the longest, over ${s.reloadsPerBurst * 2} reloads; median ms per reload step: ${steps.describe()}`,
      }),
      figure({
        id: `reload.${s.id}.failed`,
        group: GROUP,
        name: `${s.label}: failed probes during reloads (all rounds)`,
        unit: "queries",
        samples: [failed],
        goal: { op: "<=", value: 0, of: "queries" },
        notes: `${failed} of ${issued} probes issued failed, over ${reloads} reloads`,
      }),
      figure({
        id: `reload.${s.id}.latency`,
        group: GROUP,
        name: `${s.label}: reload latency (ReloadReport.totalMs, warm module, under load)`,
        unit: "ms",
        samples: totalMs,
        goal: s.reloadLatencyGoalMs !== undefined ? { op: "<=", value: s.reloadLatencyGoalMs, of: "ms" } : undefined,
        notes: `per round the median of ${s.reloadsPerBurst * 2} reloads moving ${(movedBytes / MiB).toFixed(2)} MiB each; median ms per step: ${steps.describe()}`,
      }),
    ];
    return out;
  } finally {
    host.dispose();
  }
}

function record(into: Side, latencies: number[], stall: number): void {
  if (!latencies.length) throw new Error("an open-loop window completed no probe");
  into.p50.push(quantile(latencies, 0.5));
  into.p99.push(quantile(latencies, 0.99));
  into.max.push(summarize(latencies).max);
  into.stall.push(stall);
  into.samples += latencies.length;
}
