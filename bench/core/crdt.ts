/**
 * 5a. CRDT merge throughput: a `g-counter` state with n replicas (200k in the
 * full run) merged into an empty state, per 1M values. Baseline, same round:
 * the same merge in plain TypeScript (MessagePack-decode the v1 persisted
 * bytes with @msgpack/msgpack, max per replica into a Map).
 *
 * @module
 */
import { decode, encode } from "@msgpack/msgpack";
import { component } from "../../src/mod.ts";
import { figure } from "./figure.ts";
import { now, tick } from "./stats.ts";
import type { BenchEnv, ComponentName, Figure } from "./types.ts";

const KIND = "g-counter";

/** Persisted format 1 of a g-counter (see plugins-wasm/assemblyscript/crdt/format.ts): MessagePack. */
function gCounterV1(n: number): Uint8Array {
  const state: Record<string, number> = {};
  for (let i = 0; i < n; i++) state[`replica-${i}`] = (i % 1000) + 1;
  return encode({ format: 1, kind: KIND, state });
}

/** The baseline: the same merge (max per replica) in plain TypeScript. */
function mergeTs(into: Map<string, number>, persisted: Uint8Array): void {
  const doc = decode(persisted) as { state: Record<string, number> };
  for (const [replica, count] of Object.entries(doc.state)) {
    const have = into.get(replica);
    if (have === undefined || count > have) into.set(replica, count);
  }
}

export async function crdtMerge(env: BenchEnv): Promise<Figure[]> {
  // 200k replicas keeps a round to seconds on 2 shared cores; figures are normalised per 1M.
  const n = env.smoke ? 1_000 : 200_000;
  const rounds = env.smoke ? 1 : 5;
  const v1Bytes = gCounterV1(n);
  const figures: Figure[] = [];
  for (const name of ["crdt-v1", "crdt-v2"] as ComponentName[]) {
    const bytes = await env.component(name);
    if (!bytes) continue;
    const instance = await component.ComponentInstance.instantiate(await component.ComponentModule.compile(bytes), {
      pluginId: `bench.${name}`,
      grants: new Set(),
    });
    const crdt = instance.crdt as component.CrdtClient;
    // Each version merges bytes in its own format (v2 reads v1 and re-persists as its binary format 2).
    const source = crdt.fromPersisted(KIND, v1Bytes);
    const persisted = source.persist();
    const want = BigInt(decode(source.value()) as number | bigint);
    source.drop();

    const wasmMs: number[] = [];
    const tsMs: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      const target = crdt.empty(KIND);
      let t0 = now();
      target.merge(persisted);
      const wasm = now() - t0;
      const got = BigInt(decode(target.value()) as number | bigint);
      target.drop();
      if (got !== want) throw new Error(`${name}: merged g-counter has value ${got}, expected ${want}`);
      const map = new Map<string, number>();
      t0 = now();
      mergeTs(map, v1Bytes);
      const ts = now() - t0;
      if (map.size !== n) throw new Error(`TS baseline merged ${map.size} replicas, expected ${n}`);
      if (r > 0) {
        wasmMs.push((wasm * 1e6) / n);
        tsMs.push((ts * 1e6) / n);
      }
      await tick();
    }
    instance.dispose();
    figures.push(
      figure({
        id: `crdt.merge.${name.replace("crdt-", "")}`,
        group: "5. CRDT merge",
        name: `${name} g-counter merge of ${n} replicas into an empty state (${persisted.length} persisted bytes)`,
        unit: "ms per 1M values",
        samples: wasmMs,
        baseline: { name: "plain TS: @msgpack/msgpack decode of the v1 bytes + max into a Map", samples: tsMs },
        notes: "no goal set; ratio < 1 means the plugin is faster than the TS baseline",
      }),
    );
  }
  if (!figures.length) throw new Error("no crdt component is built");
  return figures;
}
