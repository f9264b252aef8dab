/**
 * 2. Handoff: persisted index state moved from the old version's instance
 * into the new one's, at 1, 16 and 64 MiB, two ways:
 *
 *   isolated   `IndexHandle.persistLent(view => next.index.open(kind, view))` on
 *              bare component instances: the copy reload's handoff makes
 *   in reload  a real `host.reload` (v1 → v2, v2 → v1, …) of a plugin holding the
 *              index: the report's state-moving steps (./reload-steps.ts) and the
 *              whole reload, with `moved.bytes` as the size
 *
 * each ÷ the copy floors of ./floors.ts, taken in the same round: a set into
 * freshly grown wasm memory (the goal's floor), a set into warm memory, and an
 * in-wasm `memory.copy`. Memory: the new instance's linear-memory growth + JS
 * heap Δ + ArrayBuffers Δ, and RSS Δ where the runtime reports it; for the real
 * reload the peak RSS seen at the start of every step.
 *
 * @module
 */
import { component, fromIPC, type PluginHandle, PluginHost, toIPC } from "../../src/mod.ts";
import { clusteredVectors, indexSource, MiB, queryTable, rowsForBytes, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { freshSetMs, type WasmCopy, warmSetMs, wasmCopy } from "./floors.ts";
import { movingMs, movingSteps, StepTimes } from "./reload-steps.ts";
import { now, summarize, tick } from "./stats.ts";
import type { BenchEnv, Figure, MemorySample } from "./types.ts";

const DIM = 64;
const KIND = "vector.flat";
const GROUP = "2. handoff";
const GOAL = { op: "<=", value: 1.25, of: "ratio" } as const;

type IndexHandle = component.IndexHandle;

export async function handoff(env: BenchEnv): Promise<Figure[]> {
  const v1 = await env.component("vector-flat-v1");
  const v2 = await env.component("vector-flat-v2");
  if (!v1) throw new Error("vector-flat-v1.wasm is missing");
  const sizes = env.smoke ? [64 * 1024] : [1 * MiB, 16 * MiB, 64 * MiB];
  const rounds = env.smoke ? 1 : 9;
  const copy = await wasmCopy(env, Math.max(...sizes) + MiB);
  const figures: Figure[] = [];
  for (const size of sizes) {
    const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
    const tag = label.replace(" ", "");
    figures.push(...(await isolated(env, v1, v2 ?? v1, size, label, tag, rounds, copy)));
    figures.push(...(await inReload(env, v1, v2 ?? v1, size, label, tag, rounds)));
  }
  return figures;
}

/** persistLent → open between two bare instances, beside the three floors. */
async function isolated(
  env: BenchEnv,
  v1: Uint8Array,
  v2: Uint8Array,
  size: number,
  label: string,
  tag: string,
  rounds: number,
  copy: WasmCopy,
): Promise<Figure[]> {
  const oldModule = await component.ComponentModule.compile(v1);
  const newModule = await component.ComponentModule.compile(v2);
  const rows = rowsForBytes(size, DIM);
  const old = await component.ComponentInstance.instantiate(oldModule, { pluginId: "bench.old", grants: new Set() });
  try {
    const index = old.index;
    if (!index) throw new Error("vector-flat-v1 exports no index interface");
    const handle = index.buildTable(KIND, indexSource(sequentialIds(rows), clusteredVectors(rows, DIM, 7), DIM));
    const persisted = handle.persistLent((view) => view.byteLength);
    const src = new Uint8Array(persisted).fill(0x5a);
    const dst = new Uint8Array(persisted);
    dst.set(src); // touch every page: the warm floor's destination

    const moveMs: number[] = [];
    const fresh: number[] = [];
    const warm: number[] = [];
    const wasm: number[] = [];
    const persistMs: number[] = [];
    const extra: number[] = [];
    const growth: number[] = [];
    const rss: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      // A fresh new-version instance per round, as a reload makes one: its memory starts small.
      const next = await component.ComponentInstance.instantiate(newModule, {
        pluginId: "bench.new",
        grants: new Set(),
      });
      await settle(env);
      const memBefore = next.memoryBytes();
      const before = env.memory();
      const t0 = now();
      const opened = handle.persistLent((view) => (next.index as NonNullable<typeof next.index>).open(KIND, view));
      const t1 = now();
      const after = env.memory();
      const grew = next.memoryBytes() - memBefore;
      const f = freshSetMs(src);
      const w = warmSetMs(src, dst);
      const c = copy.copyMs(persisted);
      const t2 = now();
      handle.persistLent((view) => view.byteLength);
      const p = now() - t2;
      if (r === 0) sameAnswers(handle, opened);
      opened.drop();
      next.dispose();
      if (r === 0) continue; // warm-up round
      moveMs.push(t1 - t0);
      fresh.push(f);
      warm.push(w);
      wasm.push(c);
      persistMs.push(p);
      growth.push(grew);
      extra.push(grew + positive(after.heap - before.heap) + positive(delta(after, before, "arrayBuffers")));
      if (after.rss !== undefined && before.rss !== undefined) rss.push(after.rss - before.rss);
      await tick();
    }
    handle.drop();

    const what = `${label} index state, v1 persistLent → v2 open (isolated)`;
    const out: Figure[] = [
      figure({
        id: `handoff.${tag}`,
        group: GROUP,
        name: `${what} ÷ set into fresh wasm memory`,
        unit: "ms",
        samples: moveMs,
        baseline: { name: `Uint8Array.set of ${persisted} bytes into freshly grown wasm memory`, samples: fresh },
        goal: GOAL,
        notes:
          `${rows} rows x ${DIM}-d, ${persisted} persisted bytes; the old version's persist (lent, no copy) ` +
          `takes median ${summarize(persistMs).median.toFixed(3)} ms of it`,
      }),
      figure({
        id: `handoff.${tag}.warm`,
        group: GROUP,
        name: `${what} ÷ set into warm memory`,
        unit: "ms",
        samples: moveMs,
        baseline: { name: `Uint8Array.set of ${persisted} bytes into already-touched memory`, samples: warm },
        notes: "no goal: a new instance's memory is never warm, so no handoff into one can reach this floor",
      }),
      figure({
        id: `handoff.${tag}.memcpy`,
        group: GROUP,
        name: `${what} ÷ in-wasm memory.copy`,
        unit: "ms",
        samples: moveMs,
        baseline: { name: `wasm memory.copy of ${persisted} bytes between two warm regions`, samples: wasm },
        notes: "no goal: the copy a guest could make inside its own memory (bench/fixtures/memcpy.wat)",
      }),
      figure({
        id: `handoff.${tag}.memory`,
        group: GROUP,
        name: `${label} isolated handoff: extra memory (new wasm growth + heap Δ + ArrayBuffers Δ) ÷ state`,
        unit: "MiB",
        samples: extra.map((b) => b / MiB),
        ratios: extra.map((b) => b / persisted),
        notes:
          `1x = exactly one copy of the state; new linear memory grew median ${(summarize(growth).median / MiB).toFixed(1)} MiB` +
          (env.memory().arrayBuffers === undefined ? "; this runtime reports no ArrayBuffers figure (heap only)" : ""),
      }),
    ];
    if (rss.length) {
      out.push(
        figure({
          id: `handoff.${tag}.rss`,
          group: GROUP,
          name: `${label} isolated handoff: RSS Δ ÷ state`,
          unit: "MiB",
          samples: rss.map((b) => b / MiB),
          ratios: rss.map((b) => b / persisted),
          notes: "whole-process resident memory after the move minus before; no goal",
        }),
      );
    }
    return out;
  } finally {
    old.dispose();
  }
}

/** Real host.reloads of a plugin holding the index, beside the fresh-memory floor of the bytes they moved. */
async function inReload(
  env: BenchEnv,
  v1: Uint8Array,
  v2: Uint8Array,
  size: number,
  label: string,
  tag: string,
  rounds: number,
): Promise<Figure[]> {
  const host = new PluginHost({ onLog: () => {} });
  try {
    let plugin: PluginHandle = await host.load(v1);
    const rows = rowsForBytes(size, DIM);
    const idx = await host.createIndex(
      "handoff",
      KIND,
      indexSource(sequentialIds(rows), clusteredVectors(rows, DIM, 7), DIM),
    );
    const query = toIPC(queryTable(clusteredVectors(2, DIM, 99), DIM));
    const ids = async () =>
      [
        ...(fromIPC(await idx.probeIPC(query, 5))
          .getChild("id")
          ?.toArray() ?? []),
      ].join(",");
    const want = await ids();
    const sources = [v2, v1];

    const moving: number[] = [];
    const total: number[] = [];
    const fresh: number[] = [];
    const steps = new StepTimes();
    let moved = 0;
    let stepNames: string[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      env.gc();
      const report = await host.reload(plugin, sources[r % 2] as Uint8Array);
      plugin = report.to as PluginHandle;
      moved = report.moved.bytes;
      if (!(moved > 0)) throw new Error(`reload moved ${moved} bytes; the index should have moved`);
      const f = freshSetMs(new Uint8Array(moved).fill(0x5a));
      const got = await ids();
      if (got !== want) throw new Error(`after reload ${r + 1} the index answers ${got}, before ${want}`);
      if (r === 0) continue; // warm-up: both modules compiled, the reload path JIT-compiled
      moving.push(movingMs(report));
      total.push(report.totalMs);
      fresh.push(f);
      steps.add(report);
      stepNames = movingSteps(report);
      await tick();
    }

    // Peak memory of one more reload, sampled at the start of every step (untimed: sampling costs time).
    let peakRss: number | undefined;
    await settle(env);
    const base = env.memory();
    await host.reload(plugin, sources[(rounds + 1) % 2] as Uint8Array, {
      beforeStep: () => {
        const m = env.memory();
        if (m.rss !== undefined) peakRss = Math.max(peakRss ?? 0, m.rss);
      },
    });

    const what = `${label} index state, moved inside a real host.reload (v1 ⇄ v2)`;
    const floor = { name: `Uint8Array.set of the moved bytes into freshly grown wasm memory`, samples: fresh };
    const out: Figure[] = [
      figure({
        id: `handoff.${tag}.reload`,
        group: GROUP,
        name: `${what}: state-moving steps ÷ set into fresh wasm memory`,
        unit: "ms",
        samples: moving,
        baseline: floor,
        goal: GOAL,
        notes:
          `${moved} bytes moved per reload; steps counted as moving: ${stepNames.join(" + ")}; ` +
          `median ms per step: ${steps.describe()}`,
      }),
      figure({
        id: `handoff.${tag}.reload-total`,
        group: GROUP,
        name: `${what}: whole reload (ReloadReport.totalMs) ÷ set into fresh wasm memory`,
        unit: "ms",
        samples: total,
        baseline: floor,
        notes: "no goal: every step, instantiate of the warm module and retire included",
      }),
    ];
    if (peakRss !== undefined && base.rss !== undefined) {
      const grew = peakRss - base.rss;
      out.push(
        figure({
          id: `handoff.${tag}.reload-rss`,
          group: GROUP,
          name: `${label} real reload: peak RSS Δ (sampled at every step's start) ÷ state`,
          unit: "MiB",
          samples: [grew / MiB],
          ratios: [grew / moved],
          notes: "one reload; old and new versions are both alive until retire, so ~1x is one extra copy",
        }),
      );
    }
    return out;
  } finally {
    host.dispose();
  }
}

/**
 * Collects garbage and lets the runtime return freed memory to the system: V8 frees a dropped wasm
 * memory's pages lazily (measured: RSS falls only after a second GC some ms later), and an RSS baseline
 * taken before that would hide the next copy.
 */
async function settle(env: BenchEnv): Promise<void> {
  env.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  env.gc();
}

function positive(x: number): number {
  return Math.max(x, 0);
}

function delta(after: MemorySample, before: MemorySample, key: "arrayBuffers"): number {
  const a = after[key];
  const b = before[key];
  return a === undefined || b === undefined ? 0 : a - b;
}

/** The moved index must answer like the old one (checked once per size, outside the timing). */
function sameAnswers(old: IndexHandle, fresh: IndexHandle): void {
  const query = toIPC(queryTable(clusteredVectors(2, DIM, 99), DIM));
  const a = fromIPC(old.probe(query, 5));
  const b = fromIPC(fresh.probe(query, 5));
  const ids = (t: typeof a) => [...(t.getChild("id")?.toArray() ?? [])].join(",");
  if (a.numRows === 0 || ids(a) !== ids(b))
    throw new Error(`handoff: the opened index answers ${ids(b)}, the old one ${ids(a)}`);
}
