/**
 * The fleet as the store holds it, as plain JSON-compatible data (bigints as decimal strings): nodes with the
 * versions and generations they serve, each plugin's stable and desired version with its last rollout's progress
 * and every node's report, stream owners and positions, CRDT replicas, index snapshots. Anyone with the store can
 * read it — an operator's script, or the edge server's `GET /fleet`:
 *
 * ```ts
 * if (url.pathname === "/fleet") return Response.json(await readFleetStatus(store, { namespace }));
 * ```
 *
 * Whether a node is up is judged here by the wall-clock time of its last heartbeat (`nodeTtlMs`), since one read
 * cannot observe versionstamps changing; nodes themselves use versionstamps (membership.ts).
 *
 * @module
 */
import type { StateStore } from "../store/types.ts";
import { FleetKeys } from "./keys.ts";
import {
  readIndex,
  readLease,
  readNode,
  readPlugin,
  readReplica,
  readReport,
  readStream,
  type ReportRecord,
  type RolloutPhase,
  type ServingRecord,
} from "./records.ts";

export interface FleetStatusOptions {
  /** Default `"default"`. */
  namespace?: string;
  /** A node whose last heartbeat is older than this is shown as down. Default 5000 ms. */
  nodeTtlMs?: number;
}

export interface FleetStatus {
  namespace: string;
  /** When this was read (wall-clock ms). */
  at: number;
  nodes: {
    id: string;
    runtime: string;
    incarnation: string;
    up: boolean;
    /** Milliseconds since its last heartbeat. */
    lastSeenMs: number;
    state: "up" | "left";
    plugins: Record<string, ServingRecord>;
    owns: string[];
    diverged: Record<string, string>;
  }[];
  plugins: {
    id: string;
    stable: { version: string; hash: string };
    desired: { version: string; hash: string };
    /** Which nodes that are up serve which version. */
    serving: Record<string, string[]>;
    rollout?: {
      id: string;
      from: string;
      to: string;
      phase: RolloutPhase;
      canary: string;
      members: string[];
      prepared: string[];
      committed: string[];
      startedAt: number;
      decidedAt?: number;
      endedAt?: number;
      /** From start to done or reverted (so far, while it runs). */
      durationMs: number;
      reason?: string;
      refusedBy?: string;
      reports: {
        node: string;
        stage: ReportRecord["stage"];
        ok: boolean;
        at: number;
        totalMs?: number;
        failedStep?: string;
        error?: { code: number; message: string; step?: string };
      }[];
    };
  }[];
  streams: {
    name: string;
    owner?: string;
    token?: number;
    /** Positions the owner last published (exclusive LSN bounds). */
    nextLsn?: string;
    acknowledged?: string;
    confirmed?: string;
    publishedAt?: number;
  }[];
  crdts: { name: string; kind: string; replicas: { node: string; plugin: string; version: string; at: number }[] }[];
  indexes: { name: string; kind: string; plugin: string; version: string; createdBy: string; at: number }[];
  /** Records that did not read back, with why (they are skipped, never trusted). */
  problems: string[];
}

async function each<T>(
  store: StateStore,
  prefix: readonly (string | number | bigint)[],
  read: (key: readonly (string | number | bigint)[], value: Uint8Array, versionstamp: string) => T,
  problems: string[],
): Promise<T[]> {
  const out: T[] = [];
  for await (const e of store.list(
    { prefix },
    { onCorrupt: (key, err) => problems.push(`${key.map(String).join("/")}: ${err.message}`) },
  )) {
    try {
      out.push(read(e.key, e.value, e.versionstamp));
    } catch (err) {
      problems.push(`${e.key.map(String).join("/")}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/**
 * Reads the fleet's status from the store (see the module doc).
 *
 * # Errors
 * The store's (`Io`, `Disposed`). Damaged records do not fail the read: they are listed under `problems`.
 */
export async function readFleetStatus(store: StateStore, options: FleetStatusOptions = {}): Promise<FleetStatus> {
  const namespace = options.namespace ?? "default";
  const ttl = options.nodeTtlMs ?? 5000;
  const keys = new FleetKeys(namespace);
  const problems: string[] = [];
  const now = Date.now();
  const nodes = (await each(store, keys.nodes(), (k, v) => readNode(k, v), problems)).map((n) => ({
    id: n.id,
    runtime: n.runtime,
    incarnation: n.incarnation,
    up: n.state === "up" && now - n.at < ttl,
    lastSeenMs: Math.max(0, now - n.at),
    state: n.state,
    plugins: n.plugins,
    owns: n.owns,
    diverged: n.diverged,
  }));
  const plugins: FleetStatus["plugins"] = [];
  for (const p of await each(store, keys.plugins(), (k, v) => readPlugin(k, v), problems)) {
    const serving: Record<string, string[]> = {};
    for (const n of nodes) {
      const s = n.plugins[p.id];
      if (n.up && s) serving[s.version] = [...(serving[s.version] ?? []), n.id];
    }
    const entry: FleetStatus["plugins"][number] = {
      id: p.id,
      stable: { version: p.stable.version, hash: p.stable.hash },
      desired: { version: p.desired.version, hash: p.desired.hash },
      serving,
    };
    const r = p.rollout;
    if (r) {
      const reports = await each(store, keys.reports(p.id, r.id), (k, v) => readReport(k, v), problems);
      entry.rollout = {
        id: r.id,
        from: r.from.version,
        to: r.to.version,
        phase: r.phase,
        canary: r.canary,
        members: r.members,
        prepared: r.prepared.map((x) => x.node),
        committed: r.committed,
        startedAt: r.startedAt,
        ...(r.decidedAt === undefined ? {} : { decidedAt: r.decidedAt }),
        ...(r.endedAt === undefined ? {} : { endedAt: r.endedAt }),
        durationMs: (r.endedAt ?? now) - r.startedAt,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        ...(r.refusedBy === undefined ? {} : { refusedBy: r.refusedBy }),
        reports: reports.map((x) => {
          const rep = (x.report ?? {}) as { totalMs?: unknown; failedStep?: unknown };
          return {
            node: x.node,
            stage: x.stage,
            ok: x.ok,
            at: x.at,
            ...(typeof rep.totalMs === "number" ? { totalMs: rep.totalMs } : {}),
            ...(typeof rep.failedStep === "string" ? { failedStep: rep.failedStep } : {}),
            ...(x.error ? { error: x.error } : {}),
          };
        }),
      };
    }
    plugins.push(entry);
  }
  const leases = new Map(
    (await each(store, keys.leases(), (k, v) => ({ name: String(k.at(-1)), lease: readLease(k, v) }), problems)).map(
      (x) => [x.name, x.lease],
    ),
  );
  const states = new Map(
    (await each(store, keys.streams(), (k, v) => readStream(k, v), problems)).map((s) => [s.name, s]),
  );
  const streams: FleetStatus["streams"] = [...new Set([...leases.keys(), ...states.keys()])].sort().map((name) => {
    const lease = leases.get(name);
    const state = states.get(name);
    return {
      name,
      ...(lease ? { owner: lease.owner, token: lease.token } : {}),
      ...(state
        ? {
            nextLsn: String(state.nextLsn),
            acknowledged: String(state.acknowledged),
            confirmed: String(state.confirmed),
            publishedAt: state.at,
          }
        : {}),
    };
  });
  const crdtMap = new Map<string, FleetStatus["crdts"][number]>();
  for (const r of await each(store, keys.allReplicas(), (k, v) => readReplica(k, v), problems)) {
    const c = crdtMap.get(r.name) ?? { name: r.name, kind: r.kind, replicas: [] };
    c.replicas.push({ node: r.node, plugin: r.plugin, version: r.version, at: r.at });
    crdtMap.set(r.name, c);
  }
  const indexes = (await each(store, keys.indexes(), (k, v) => readIndex(k, v), problems)).map((i) => ({
    name: i.name,
    kind: i.kind,
    plugin: i.plugin,
    version: i.version,
    createdBy: i.createdBy,
    at: i.at,
  }));
  return { namespace, at: now, nodes, plugins, streams, crdts: [...crdtMap.values()], indexes, problems };
}
