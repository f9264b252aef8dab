/**
 * 2. Handoff: persisted state moved from the old version's instance into the
 * new one's — `IndexHandle.persistLent(view => next.index.open(kind, view))`,
 * the path reload's handoff takes (the bytes go from old linear memory to new
 * in one host copy) — ÷ one `Uint8Array.prototype.set` of the same number of
 * bytes into freshly grown wasm memory (the physical floor: a new instance's memory is always fresh, and its
 * first touch of each page faults), in the same round; the ratio to a set into warm memory is reported too. Also: peak extra memory (new
 * instance's linear-memory growth + JS heap delta) and the parts of the time.
 *
 * @module
 */
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import type { IndexHandle } from "../../src/component/mod.ts";
import { fromIPC, toIPC } from "../../src/arrow.ts";
import { indexSource, MiB, queryTable, randomVectors, rowsForBytes, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { now, summarize, tick } from "./stats.ts";
import type { BenchEnv, Figure } from "./types.ts";

const DIM = 64;
const KIND = "vector.flat";

export async function handoff(env: BenchEnv): Promise<Figure[]> {
  const v1 = await env.component("vector-flat-v1");
  const v2 = await env.component("vector-flat-v2");
  if (!v1) throw new Error("vector-flat-v1.wasm is missing");
  const oldModule = await ComponentModule.compile(v1);
  const newModule = await ComponentModule.compile(v2 ?? v1);
  const target = v2 ? "vector-flat-v2" : "vector-flat-v1 (v2 not built)";
  const sizes = env.smoke ? [64 * 1024] : [1 * MiB, 16 * MiB, 64 * MiB];
  const rounds = env.smoke ? 1 : 5;
  const figures: Figure[] = [];

  for (const size of sizes) {
    const rows = rowsForBytes(size, DIM);
    const old = await ComponentInstance.instantiate(oldModule, { pluginId: "bench.old", grants: new Set() });
    const handle = old.index?.buildTable(KIND, indexSource(sequentialIds(rows), randomVectors(rows, DIM, 7), DIM));
    if (!handle) throw new Error("vector-flat-v1 exports no index interface");
    const persistedBytes = handle.persistLent((view) => view.byteLength);
    const src = new Uint8Array(persistedBytes).fill(0x5a);
    const dst = new Uint8Array(persistedBytes);
    dst.set(src); // touch every page of the destination before timing the floor

    const moveMs: number[] = [];
    const floorMs: number[] = [];
    const freshFloorMs: number[] = [];
    const persistMs: number[] = [];
    const growth: number[] = [];
    const heapDelta: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      // A fresh new-version instance per round, as a reload makes one: its memory starts small.
      const next = await ComponentInstance.instantiate(newModule, { pluginId: "bench.new", grants: new Set() });
      env.gc();
      const memBefore = next.memoryBytes();
      const heapBefore = env.heapBytes();
      const t0 = now();
      const fresh = handle.persistLent((view) => (next.index as NonNullable<typeof next.index>).open(KIND, view));
      const t1 = now();
      const heapAfter = env.heapBytes();
      const memAfter = next.memoryBytes();
      // Repeat small copies so the floor stays above coarse timers (Chromium clamps performance.now).
      const copies = Math.max(1, Math.round((16 * MiB) / persistedBytes));
      const t2 = now();
      for (let c = 0; c < copies; c++) dst.set(src);
      const t3 = now();
      // The same copy into freshly grown wasm memory, as the new instance's is: its first touch of every page
      // costs a page fault, which the warm floor above never pays.
      const pages = Math.ceil(persistedBytes / 65536);
      const fresh64k = Array.from({ length: copies }, () => {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: pages + 1 });
        memory.grow(pages);
        return new Uint8Array(memory.buffer, 0, persistedBytes);
      });
      const t6 = now();
      for (const target of fresh64k) target.set(src);
      const t7 = now();
      fresh64k.length = 0;
      const t4 = now();
      handle.persistLent((view) => view.byteLength);
      const t5 = now();
      if (r === 0) sameAnswers(handle, fresh);
      fresh.drop();
      next.dispose();
      if (r === 0) continue; // warm-up round
      moveMs.push(t1 - t0);
      floorMs.push((t3 - t2) / copies);
      freshFloorMs.push((t7 - t6) / copies);
      persistMs.push(t5 - t4);
      growth.push(memAfter - memBefore);
      heapDelta.push(heapAfter - heapBefore);
      await tick();
    }
    handle.drop();
    old.dispose();

    const label = size >= MiB ? `${size / MiB} MiB` : `${size / 1024} KiB`;
    const extra = summarize(growth.map((g, i) => g + Math.max(0, heapDelta[i] as number)));
    figures.push(
      figure({
        id: `handoff.${label.replace(" ", "")}`,
        group: "2. handoff",
        name: `${label} index state, v1 persistLent → ${target} open`,
        unit: "ms",
        samples: moveMs,
        baseline: {
          name: `Uint8Array.set of the same ${persistedBytes} bytes into freshly grown wasm memory`,
          samples: freshFloorMs,
        },
        goal: { op: "<=", value: 1.25, of: "ratio" },
        notes:
          `persisted ${persistedBytes} bytes (${rows} rows x ${DIM}-d); of which the old version's persist ` +
          `(lent, no host copy) takes median ${summarize(persistMs).median.toFixed(2)} ms; ` +
          `peak extra memory median ${(extra.median / MiB).toFixed(1)} MiB ` +
          `(new instance's linear memory +${(summarize(growth).median / MiB).toFixed(1)} MiB, ` +
          `JS heap ${(summarize(heapDelta).median / MiB).toFixed(2)} MiB), i.e. ${(extra.median / persistedBytes).toFixed(2)}x the state`,
      }),
    );
    figures.push(
      figure({
        id: `handoff.${label.replace(" ", "")}.warm`,
        group: "2. handoff",
        name: `${label} handoff ÷ a set into already-touched memory (no page faults)`,
        unit: "ms",
        samples: moveMs,
        baseline: { name: `Uint8Array.set of the same ${persistedBytes} bytes into warm memory`, samples: floorMs },
        notes: "no goal: the new instance's memory is always fresh, so this floor is not reachable by any handoff",
      }),
    );
    figures.push(
      figure({
        id: `handoff.${label.replace(" ", "")}.memory`,
        group: "2. handoff",
        name: `${label} handoff: peak extra memory (wasm growth + JS heap delta) ÷ state size`,
        unit: "MiB",
        samples: growth.map((g, i) => (g + Math.max(0, heapDelta[i] as number)) / MiB),
        ratios: growth.map((g, i) => (g + Math.max(0, heapDelta[i] as number)) / persistedBytes),
        notes: "no goal set; 1x would mean the new version holds exactly one copy of the state",
      }),
    );
  }
  return figures;
}

/** The moved index must answer like the old one (checked once per size, outside the timing). */
function sameAnswers(old: IndexHandle, fresh: IndexHandle): void {
  const query = toIPC(queryTable(randomVectors(2, DIM, 99), DIM));
  const a = fromIPC(old.probe(query, 5));
  const b = fromIPC(fresh.probe(query, 5));
  const ids = (t: typeof a) => [...(t.getChild("id")?.toArray() ?? [])].join(",");
  if (a.numRows === 0 || ids(a) !== ids(b))
    throw new Error(`handoff: the opened index answers ${ids(b)}, the old one ${ids(a)}`);
}
