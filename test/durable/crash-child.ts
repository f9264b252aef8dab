// The child process of the durable-host crash tests (Node: crash-child-node.ts, Deno: crash-child-deno.ts; the
// Chromium page runs the same steps). It restores a host from its store, reports what came back and what downstream
// holds, then runs the write-heavy workload until it is killed, reporting every acknowledgement on stdout as one
// JSON line — written before anything else happens, so a killed process has reported every write it acknowledged.
// Runtime-neutral: the entry points supply the stores, the components and the line writer.
import { PluginHost } from "../../src/mod.ts";
import type { StateStore } from "../../src/store/types.ts";
import { type Ack, Downstream, type HostView, runWorkload, view } from "../shared/durable-workload.ts";

/** One stdout line: an acknowledgement, or what a restart found. */
export type Line =
  | Ack
  | { t: "restored"; view: HostView; downstream: { position: string; records: [string, string, string[]][] } }
  | { t: "downstream"; position: string; records: [string, string, string[]][] }
  | { t: "ready"; restoreMs: number }
  | { t: "done" }
  | { t: "error"; message: string };

export interface ChildOptions {
  host: StateStore;
  sink: StateStore;
  component(name: string): Promise<Uint8Array>;
  say(line: Line): void;
  round: number;
  /** Downstream records from this LSN on are reported (the checker has seen the rest). */
  since: bigint;
  /** Restore, catch downstream up, report, exit: no workload. */
  final: boolean;
}

async function downstreamLine(downstream: Downstream, since: bigint) {
  await downstream.open();
  const records = (await downstream.records(since)).map(
    (r) => [String(r.lsnStart), String(r.lsnEnd), r.ids.map(String)] as [string, string, string[]],
  );
  return { position: String(downstream.position), records };
}

export async function runChild(o: ChildOptions): Promise<void> {
  const t0 = performance.now();
  // A CRDT journal folds into a snapshot every 20 ops, so kills land around those folds too.
  const host = new PluginHost({ onLog: () => {}, store: o.host, snapshotEveryOps: 20 });
  const report = await host.restored;
  const quarantined = report.quarantined.map((q) => `${q.key.join("/")}: ${q.reason}`);
  const downstream = new Downstream(o.sink);
  o.say({ t: "restored", view: await view(host, quarantined), downstream: await downstreamLine(downstream, o.since) });
  if (o.final) {
    const feed = host.cdc("feed");
    if (feed) {
      feed.onEmit(downstream.sink(o.say));
      await feed.checkpoint();
      await feed.delivered();
    }
    o.say({ t: "downstream", ...(await downstreamLine(downstream, o.since)) });
    o.say({ t: "done" });
    return;
  }
  await runWorkload({
    host,
    round: o.round,
    component: o.component,
    ack: o.say,
    downstream,
    reloadPauseMs: 15,
    onReady: () => o.say({ t: "ready", restoreMs: Math.round(performance.now() - t0) }),
  });
}
