// The Deno side of watch.test.ts, run with `deno run --unstable-kv`: two fleet nodes in this process share one
// Deno KV (Deno.openKv) and notice changes only through `watch` (their fallback poll is a minute long). Prints one
// JSON line: the rollout's outcome, how long it took, and what each node serves after it.
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { denoKvChangeFeed } from "../../src/adapters/deno-kv-watch.ts";
import { FleetControl, FleetNode, nodeNamespace, watchNotifier } from "../../src/fleet/mod.ts";
import { PluginHost } from "../../src/mod.ts";
import { loadPlugin } from "../support/fixtures.ts";

declare const Deno: {
  args: string[];
  openKv(path: string): Promise<Parameters<typeof denoKvStore>[0] & Parameters<typeof denoKvChangeFeed>[0]>;
  exit(code: number): never;
};

const kv = await Deno.openKv(Deno.args[0] as string);
const store = denoKvStore(kv);
const control = new FleetControl(store);
await control.rollout(await loadPlugin("crdt-v1"));
const feed = denoKvChangeFeed(kv);
const notify = watchNotifier(feed, { fallbackMs: 60_000 });
const nodes = [];
for (const id of ["a", "b"]) {
  const host = new PluginHost({ onLog: () => {}, store, namespace: nodeNamespace(id) });
  const node = new FleetNode({ host, store, nodeId: id, notify, heartbeatMs: 100, antiEntropyMs: 100 });
  await node.start();
  await (await node.crdt("likes", "pn-counter")).apply([id, 1]);
  nodes.push({ host, node });
}
const t0 = performance.now();
const { rollout } = await control.rollout(await loadPlugin("crdt-v2"), { canary: "a" });
const outcome = await control.wait("dev.uni.crdt", rollout as string, { timeoutMs: 30_000 });
const ms = performance.now() - t0;
await Promise.all(nodes.map((n) => n.node.settled()));
const serving = nodes.map((n) => n.host.plugins().find((p) => p.id === "dev.uni.crdt")?.version);
console.log(JSON.stringify({ phase: outcome.phase, ms, serving, committed: outcome.committed.sort() }));
for (const n of nodes) {
  n.node.halt();
  n.host.dispose();
}
feed.close();
Deno.exit(0);
