/**
 * 1. Call overhead: the trivial export `index-handle.supports-filter` through
 * the host's typed client (`IndexHandle.supportsFilter()`) and through the
 * gated live resource, each ÷ the raw core export called directly on the same
 * instance, in the same round. Peers (jco glue, Extism) where the runtime has them.
 *
 * @module
 */
import { ComponentInstance, ComponentModule } from "../../src/component/mod.ts";
import { PluginHost } from "../../src/mod.ts";
import { indexSource, randomVectors, sequentialIds } from "./data.ts";
import { figure } from "./figure.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, Figure } from "./types.ts";

const SUPPORTS_FILTER = "uni:plugin/index@1.0.0#[method]index-handle.supports-filter";

/** Nanoseconds per call of a loop body run `n` times. */
function nsPerCall(n: number, body: (n: number) => unknown): number {
  const t0 = now();
  body(n);
  return ((now() - t0) * 1e6) / n;
}

async function nsPerCallAsync(n: number, body: (n: number) => unknown): Promise<number> {
  const t0 = now();
  await body(n);
  return ((now() - t0) * 1e6) / n;
}

export async function callOverhead(env: BenchEnv): Promise<Figure[]> {
  const bytes = await env.component("vector-flat-v1");
  if (!bytes) throw new Error("vector-flat-v1.wasm is missing: call overhead needs it");
  const rounds = env.smoke ? 2 : 7;
  const n = env.smoke ? 20_000 : 2_000_000;
  const nAsync = env.smoke ? 2_000 : 200_000;
  const nPeer = env.smoke ? 200 : 20_000;

  const module = await ComponentModule.compile(bytes);
  const instance = await ComponentInstance.instantiate(module, { pluginId: "bench.call", grants: new Set() });
  const dim = 4;
  const source = indexSource(sequentialIds(8), randomVectors(8, dim, 1), dim);
  const handle = instance.index?.buildTable("vector.flat", source);
  if (!handle) throw new Error("vector-flat-v1 exports no index interface");
  const raw = instance.core[SUPPORTS_FILTER] as (rep: number) => number;
  // The rep the client passes: read it the way the client does, through the resource table.
  const rep = (handle as unknown as { rep: number }).rep;
  if (typeof raw !== "function" || !(rep > 0)) throw new Error("cannot reach the raw supports-filter export");
  if ((raw(rep) !== 0) !== handle.supportsFilter()) throw new Error("raw and client disagree on supports-filter");

  const host = new PluginHost({ onLog: () => {} });
  await host.load(bytes);
  const live = await host.createIndex("call", "vector.flat", source);

  const rawLoop = (count: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += raw(rep);
    return s;
  };
  const clientLoop = (count: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += handle.supportsFilter() ? 1 : 0;
    return s;
  };
  const liveLoop = async (count: number) => {
    let s = 0;
    for (let i = 0; i < count; i++) s += (await live.supportsFilter()) ? 1 : 0;
    return s;
  };

  const peers = [];
  for (const peer of env.peers ?? []) {
    try {
      peers.push({ name: peer.name, loop: await peer.prepare(), samples: [] as number[], base: [] as number[] });
    } catch (err) {
      env.log(`  peer ${peer.name} unavailable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // Warm-up: let the JIT settle every path before timing.
  nsPerCall(n, rawLoop);
  nsPerCall(n, clientLoop);
  await nsPerCallAsync(nAsync, liveLoop);
  for (const p of peers) await nsPerCallAsync(Math.max(1, nPeer >> 2), p.loop);

  const rawNs: number[] = [];
  const clientNs: number[] = [];
  const liveNs: number[] = [];
  const liveRaw: number[] = [];
  for (let r = 0; r < rounds; r++) {
    rawNs.push(nsPerCall(n, rawLoop));
    clientNs.push(nsPerCall(n, clientLoop));
    liveRaw.push(nsPerCall(n, rawLoop));
    liveNs.push(await nsPerCallAsync(nAsync, liveLoop));
    for (const p of peers) {
      p.base.push(nsPerCall(n, rawLoop));
      p.samples.push(await nsPerCallAsync(nPeer, p.loop));
    }
    await tick();
  }
  handle.drop();
  instance.dispose();
  host.dispose();

  const rawName = "raw core export `supports-filter` called directly";
  const figures: Figure[] = [
    figure({
      id: "call.client",
      group: "1. call overhead",
      name: "IndexHandle.supportsFilter() (typed sync client)",
      unit: "ns/call",
      samples: clientNs,
      baseline: { name: rawName, samples: rawNs },
      goal: { op: "<=", value: 1.5, of: "ratio" },
    }),
    figure({
      id: "call.live",
      group: "1. call overhead",
      name: "LiveIndex.supportsFilter() (async, through the reload gate)",
      unit: "ns/call",
      samples: liveNs,
      baseline: { name: rawName, samples: liveRaw },
      notes: "one await per call; no goal set (the goal is for the sync client)",
    }),
  ];
  for (const p of peers) {
    figures.push(
      figure({
        id: `call.peer.${p.name.split(" ")[0]?.toLowerCase()}`,
        group: "1. call overhead",
        name: p.name,
        unit: "ns/call",
        samples: p.samples,
        baseline: { name: rawName, samples: p.base },
        notes: "peer, for comparison; no goal",
      }),
    );
  }
  return figures;
}
