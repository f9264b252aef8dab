/**
 * 3. Reload under load: a query loop runs against a live index while the
 * plugin is reloaded again and again (v1 → v2 → v1 …, each module already
 * compiled: a warm reload). Query p50/p99 during the reloads ÷ the same loop's
 * steady state (measured in the same round, just before), failed queries, and
 * reload latency for a plugin holding 1 MiB of state.
 *
 * @module
 */
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { PluginHost } from "../../src/mod.ts";
import type { PluginHandle } from "../../src/mod.ts";
import { toIPC } from "../../src/arrow.ts";
import { indexSource, MiB, queryTable, randomVectors, rowsForBytes, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { now, quantile, yieldToMacrotasks } from "./stats.ts";
import type { BenchEnv, Figure } from "./types.ts";

const DIM = 64;

interface Window {
  latencies: number[];
  failures: number;
}

/** Runs probes back to back until `stop()` says so; every latency and failure is recorded. */
async function queryLoop(run: () => Promise<unknown>, stop: () => boolean, into: Window): Promise<void> {
  while (!stop()) {
    const t0 = now();
    try {
      await run();
      into.latencies.push(now() - t0);
    } catch {
      into.failures++;
    }
    await yieldToMacrotasks(); // the reloads' timers and hooks must get their turn, as in a real server
  }
}

export async function reloadUnderLoad(env: BenchEnv): Promise<Figure[]> {
  const v1 = await env.component("vector-flat-v1");
  const v2 = (await env.component("vector-flat-v2")) ?? v1;
  if (!v1 || !v2) throw new Error("vector-flat-v1.wasm is missing");
  const rounds = env.smoke ? 1 : 7;
  const steadyMs = env.smoke ? 100 : 400;
  const reloadsPerRound = env.smoke ? 2 : 10;

  const host = new PluginHost({ onLog: () => {} });
  let plugin: PluginHandle = await host.load(v1);
  const rows = rowsForBytes(1 * MiB, DIM);
  const idx = await host.createIndex(
    "docs",
    "vector.flat",
    indexSource(sequentialIds(rows), randomVectors(rows, DIM, 3), DIM),
  );
  const query = toIPC(queryTable(randomVectors(1, DIM, 5), DIM));
  const probe = () => idx.probeIPC(query, 10);

  // Warm both modules and the reload path once (compile caches, JIT), outside the timing.
  const sources = [v2, v1];
  for (const src of sources) plugin = (await host.reload(plugin, src)).to as PluginHandle;
  const newModule = await ComponentModule.compile(v2);

  const steadyP50: number[] = [];
  const steadyP99: number[] = [];
  const reloadP50: number[] = [];
  const reloadP99: number[] = [];
  const reloadMs: number[] = [];
  const instantiateMs: number[] = [];
  const stepMs = new Map<string, number[]>();
  let failed = 0;
  let queries = 0;
  let movedBytes = 0;
  for (let r = 0; r < rounds; r++) {
    const steady: Window = { latencies: [], failures: 0 };
    const end = now() + steadyMs;
    await queryLoop(probe, () => now() >= end, steady);

    const during: Window = { latencies: [], failures: 0 };
    let reloading = true;
    const loop = queryLoop(probe, () => !reloading, during);
    for (let i = 0; i < reloadsPerRound; i++) {
      const report = await host.reload(plugin, sources[i % 2] as Uint8Array);
      plugin = report.to as PluginHandle;
      reloadMs.push(report.totalMs);
      for (const step of report.steps) {
        const list = stepMs.get(step.step) ?? [];
        list.push(step.ms);
        stepMs.set(step.step, list);
      }
      movedBytes = report.moved.bytes;
      // The floor of a warm reload: instantiating the already-compiled new module, nothing else.
      const t0 = now();
      (await ComponentInstance.instantiate(newModule, { pluginId: "bench.floor", grants: new Set() })).dispose();
      instantiateMs.push(now() - t0);
      await yieldToMacrotasks(); // let queued probes run between reloads, as a real loop would
    }
    reloading = false;
    await loop;
    failed += steady.failures + during.failures;
    queries += steady.latencies.length + during.latencies.length;
    steadyP50.push(quantile(steady.latencies, 0.5));
    steadyP99.push(quantile(steady.latencies, 0.99));
    reloadP50.push(quantile(during.latencies, 0.5));
    reloadP99.push(quantile(during.latencies, 0.99));
  }
  host.dispose();

  const base = "the same probe loop, steady state (no reload), same round";
  return [
    figure({
      id: "reload.p99",
      group: "3. reload under load",
      name: "probe p99 latency during back-to-back reloads",
      unit: "ms",
      samples: reloadP99,
      baseline: { name: base, samples: steadyP99 },
      goal: { op: "<=", value: 2, of: "ratio" },
      notes: `1 query x 64-d, k = 10, over ${rows} rows; ${reloadsPerRound} reloads per round`,
    }),
    figure({
      id: "reload.p50",
      group: "3. reload under load",
      name: "probe p50 latency during back-to-back reloads",
      unit: "ms",
      samples: reloadP50,
      baseline: { name: base, samples: steadyP50 },
    }),
    figure({
      id: "reload.failed",
      group: "3. reload under load",
      name: "failed probes during reloads (all rounds)",
      unit: "queries",
      samples: [failed],
      goal: { op: "<=", value: 0, of: "queries" },
      notes: `${failed} of ${queries} probes issued failed`,
    }),
    figure({
      id: "reload.latency",
      group: "3. reload under load",
      name: `reload latency, warm module, plugin holding ${(movedBytes / MiB).toFixed(2)} MiB of index state`,
      unit: "ms",
      samples: reloadMs,
      baseline: { name: "ComponentInstance.instantiate of the warm module alone", samples: instantiateMs },
      goal: { op: "<=", value: 2, of: "ms" },
      notes:
        "ReloadReport.totalMs, all 8 steps; median ms per step: " +
        [...stepMs].map(([step, ms]) => `${step} ${quantile(ms, 0.5).toFixed(2)}`).join(", "),
    }),
  ];
}
