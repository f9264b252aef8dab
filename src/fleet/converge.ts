/**
 * One node's side of versions: it serves each plugin id's stable version (loading it on join, reloading to it
 * after a restart or a committed rollout), takes part in rollouts as rollout.ts describes, and records every
 * reload's `ReloadReport` in the store.
 *
 * Taking part is a real `host.reload` whose `beforeStep("commit")` hook is the fleet's barrier: the reload has
 * run validate, instantiate, check-manifest, check-compat, quiesce and handoff on this node's live state; the hook
 * marks the node prepared and waits for the fleet's decision. Committed: the hook returns and the reload commits.
 * Reverted: the hook throws and the reload rolls back, the old version serving on as if nothing happened. While
 * the hook waits, calls to the plugin queue (the reload has quiesced it), so the wait is one poll interval after
 * the slowest member prepared; a member that takes longer than `rolloutTimeoutMs` fails its step and reverts the
 * rollout.
 *
 * @module
 */
import { ErrorCode, type PluginError, ReloadError, toPluginError } from "../errors.ts";
import type { PluginHost } from "../host.ts";
import type { PluginHandle } from "../plugin.ts";
import type { ReloadReport } from "../reload.ts";
import type { Entry, StateStore } from "../store/types.ts";
import { casUpdate } from "./cas.ts";
import { FleetError } from "./errors.ts";
import type { FleetKeys } from "./keys.ts";
import type { Membership } from "./membership.ts";
import type { ChangeNotifier } from "./notify.ts";
import {
  type PluginRecord,
  pluginBlobs,
  type ReportRecord,
  type ReportStage,
  type Rollout,
  readPlugin,
  type VersionRef,
  writePlugin,
  writeReport,
} from "./records.ts";
import * as rollout from "./rollout.ts";

export interface ConvergeOptions {
  host: PluginHost;
  store: StateStore;
  keys: FleetKeys;
  nodeId: string;
  incarnation: string;
  membership: Membership;
  notifier: ChangeNotifier;
  /** How long a member waits at the commit barrier (and any reload step may take) before it gives up. */
  rolloutTimeoutMs: number;
  /** A reload of `pluginId` committed here (index snapshots may need republishing in the new format). */
  onCommitted(pluginId: string): void;
  /** Something worth telling the operator (the node's `onEvent`). */
  event(e: FleetEvent): void;
}

/** What a node reports as it goes (`FleetNodeOptions.onEvent`). */
export type FleetEvent =
  | { type: "loaded"; plugin: string; version: string; generation: number }
  | { type: "reloaded"; plugin: string; version: string; generation: number; rollout: string; ms: number }
  | { type: "prepared"; plugin: string; rollout: string }
  | { type: "refused"; plugin: string; rollout: string; reason: string }
  | { type: "aborted"; plugin: string; rollout: string; reason: string }
  | { type: "diverged"; plugin: string; reason: string }
  | { type: "owner"; stream: string; token: number }
  | { type: "lost"; stream: string; reason: string }
  | { type: "error"; where: string; message: string };

/** The barrier's way of saying the fleet reverted (or this node is leaving): not this node's refusal. */
class FleetReverted extends FleetError {
  override name = "FleetReverted";
}

/** How long a plain convergence waits after failing before it tries again (doubling up to a minute). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 60_000;

export class Converger {
  readonly #o: ConvergeOptions;
  /** Plugin records as last read, by id. */
  readonly records = new Map<string, { record: PluginRecord; versionstamp: string }>();
  /** Why a plugin id does not serve its stable version here, when it does not. */
  readonly diverged: Record<string, string> = {};
  readonly #participating = new Map<string, Promise<void>>();
  readonly #attempted = new Set<string>();
  readonly #prechecked = new Set<string>();
  readonly #retry = new Map<string, { at: number; wait: number }>();
  /** Set by {@link stop}: waits at a barrier end, rolling this node's reload back without reverting the rollout. */
  #stopping = false;
  readonly #barriers = new Set<{ poke(): void }>();

  constructor(options: ConvergeOptions) {
    this.#o = options;
  }

  /** What this node serves of `id`. */
  serving(id: string): { handle: PluginHandle; hash: string } | undefined {
    const p = this.#o.host.plugins().find((x) => x.id === id);
    return p ? { handle: { id: p.id, version: p.version, generation: p.generation }, hash: p.hash } : undefined;
  }

  /**
   * The versions whose persisted state the serving version of `id` reads: itself, and those its rollout proved it
   * reads (CRDT replicas and index snapshots of other versions wait until this node serves one that reads them).
   */
  readable(id: string): string[] {
    const s = this.serving(id);
    if (!s) return [];
    const rec = this.records.get(id)?.record;
    const out = [s.handle.version];
    if (rec && rec.stable.hash === s.hash) out.push(...rec.stable.readsFrom);
    return out;
  }

  /** Whether a rollout is deciding or completing for some plugin (loops poll at their fastest meanwhile). */
  get busy(): boolean {
    return this.#participating.size > 0 || [...this.records.values()].some((r) => rollout.isActive(r.record.rollout));
  }

  /** Reads every plugin record and moves each plugin a step towards what the fleet wants of this node. */
  async pass(): Promise<void> {
    const o = this.#o;
    for await (const e of o.store.list({ prefix: o.keys.plugins() })) {
      let record: PluginRecord;
      try {
        record = readPlugin(e.key, e.value);
      } catch (err) {
        o.event({ type: "error", where: `plugin record ${String(e.key.at(-1))}`, message: toPluginError(err).message });
        continue;
      }
      this.records.set(record.id, { record, versionstamp: e.versionstamp });
      try {
        await this.#step(record);
      } catch (err) {
        o.event({ type: "error", where: `converging ${record.id}`, message: toPluginError(err).message });
      }
    }
  }

  /**
   * The node is leaving: a reload waiting at a commit barrier rolls back now (reported `aborted`, the rollout goes
   * on without this node), and no new one starts.
   */
  stop(): void {
    this.#stopping = true;
    for (const b of this.#barriers) b.poke();
  }

  /** Waits for every rollout this node takes part in to finish here. */
  async settled(): Promise<void> {
    await Promise.all([...this.#participating.values()]);
  }

  async #step(rec: PluginRecord): Promise<void> {
    const o = this.#o;
    const r = rec.rollout;
    const serving = this.serving(rec.id);
    await this.#duties(rec);
    if (this.#participating.has(rec.id) || this.#stopping) return;
    if (rollout.isDeciding(r)) {
      const myTurn = r.phase === "prepare" || r.canary === o.nodeId;
      if (r.members.includes(o.nodeId) && myTurn && !this.#attempted.has(r.id)) {
        if (serving?.hash === r.from.hash) {
          this.#participate(rec.id, r);
          return;
        }
        // A member not serving the version the rollout starts from cannot prepare it: waiting for it would only
        // end in the rollout's timeout, so it refuses now.
        this.#attempted.add(r.id);
        const what = serving ? `${serving.handle.version} (${serving.hash.slice(0, 12)})` : "nothing";
        const reason = `${o.nodeId} refused ${rec.id} ${r.to.version}: it serves ${what}, not ${r.from.version}`;
        const now = Date.now();
        await this.#report(rec.id, r.id, "refused", false);
        await this.#update(rec.id, (cur) => rollout.revert(cur, r.id, reason, o.nodeId, now));
        o.event({ type: "refused", plugin: rec.id, rollout: r.id, reason });
        return;
      }
      if (r.members.includes(o.nodeId) && !myTurn && !this.#prechecked.has(r.id) && serving?.hash === r.from.hash) {
        this.#precheck(rec.id, r);
        return;
      }
      // Not taking part (not a member, not its turn, or it already did): it serves the stable version meanwhile.
      if (!serving) await this.#converge(rec, rec.stable);
      return;
    }
    if (serving?.hash !== rec.stable.hash) await this.#converge(rec, rec.stable);
  }

  /** What any node does for a rollout it observes: replace a dead canary, decide, note the end. */
  async #duties(rec: PluginRecord): Promise<void> {
    const r = rec.rollout;
    if (!rollout.isActive(r)) return;
    const m = this.#o.membership;
    if (r.phase === "canary") await this.#update(rec.id, (cur) => rollout.reassignCanary(cur, m.view()));
    if (r.phase === "prepare") await this.#update(rec.id, (cur) => rollout.decide(cur, r.id, m.view()));
    if (r.phase === "committed") await this.#update(rec.id, (cur) => rollout.committed(cur, r.id, undefined, m.view()));
  }

  /** Applies a rollout transition to the current plugin record (compare-and-set). */
  async #update(id: string, next: (cur: PluginRecord) => PluginRecord | null): Promise<PluginRecord | undefined> {
    const o = this.#o;
    const key = o.keys.plugin(id);
    const res = await casUpdate(o.store, key, (entry: Entry | null) => {
      if (!entry) return null;
      const n = next(readPlugin(key, entry.value));
      return n ? { value: writePlugin(n), blobs: pluginBlobs(n) } : null;
    });
    if (!res.entry) return undefined;
    const record = readPlugin(key, res.entry.value);
    this.records.set(id, { record, versionstamp: res.entry.versionstamp });
    return record;
  }

  /** Takes part in rollout `r` of `id` (in the background: the node's loops keep running). */
  #participate(id: string, r: Rollout): void {
    const o = this.#o;
    this.#attempted.add(r.id);
    const run = (async () => {
      const t0 = performance.now();
      const serving = this.serving(id);
      try {
        if (!serving) throw new FleetError(ErrorCode.NotFound, `${id} is not loaded here`);
        const bytes = await o.store.getBlob(r.to.blob);
        const report = await o.host.reload(serving.handle, bytes, {
          stepTimeoutMs: o.rolloutTimeoutMs,
          beforeStep: async (step) => {
            if (step === "commit") await this.#barrier(id, r.id);
          },
        });
        await this.#report(id, r.id, "committed", true, report);
        await this.#update(id, (cur) => rollout.committed(cur, r.id, o.nodeId, o.membership.view()));
        delete this.diverged[id];
        const to = report.to as PluginHandle;
        o.event({
          type: "reloaded",
          plugin: id,
          version: to.version,
          generation: to.generation,
          rollout: r.id,
          ms: performance.now() - t0,
        });
        o.onCommitted(id);
      } catch (err) {
        const e = toPluginError(err);
        const report = err instanceof ReloadError ? err.report : undefined;
        const reverted = e instanceof FleetReverted || e.cause instanceof FleetReverted;
        await this.#report(id, r.id, reverted ? "aborted" : "refused", false, report, e, err);
        if (reverted) {
          o.event({ type: "aborted", plugin: id, rollout: r.id, reason: e.message });
        } else {
          const step = err instanceof ReloadError ? ` at ${err.step}` : "";
          const reason = `${o.nodeId} refused ${id} ${r.to.version}${step}: ${e.message}`;
          const now = Date.now();
          const after = await this.#update(id, (cur) => rollout.revert(cur, r.id, reason, o.nodeId, now));
          o.event({ type: "refused", plugin: id, rollout: r.id, reason });
          // Too late to revert (the fleet committed while this node failed its own commit): it converges alone.
          if (after?.rollout?.phase !== "reverted") this.diverged[id] = reason;
        }
      }
    })().finally(() => this.#participating.delete(id));
    this.#participating.set(id, run);
  }

  /**
   * While the canary prepares, every other member dry-runs the new version on its own live state
   * (`reload(…, { dryRun: true })`: validate … check-compat, then roll back). A refusal reverts the rollout before
   * any node moves; a pass compiled the new version (compiles are cached), so this node's real reload in the prepare
   * phase is shorter. In the background, like a participation (which waits for it).
   */
  #precheck(id: string, r: Rollout): void {
    const o = this.#o;
    this.#prechecked.add(r.id);
    const run = (async () => {
      const serving = this.serving(id);
      if (!serving) return;
      try {
        const bytes = await o.store.getBlob(r.to.blob);
        await o.host.reload(serving.handle, bytes, { dryRun: true, stepTimeoutMs: o.rolloutTimeoutMs });
      } catch (err) {
        const e = toPluginError(err);
        this.#attempted.add(r.id);
        const step = err instanceof ReloadError ? ` at ${err.step} (dry run)` : " (dry run)";
        const reason = `${o.nodeId} refused ${id} ${r.to.version}${step}: ${e.message}`;
        const now = Date.now();
        await this.#report(id, r.id, "refused", false, err instanceof ReloadError ? err.report : undefined, e, err);
        await this.#update(id, (cur) => rollout.revert(cur, r.id, reason, o.nodeId, now));
        o.event({ type: "refused", plugin: id, rollout: r.id, reason });
      }
    })().finally(() => this.#participating.delete(id));
    this.#participating.set(id, run);
  }

  /** The commit barrier: mark prepared (and decide, when this node is the last), then wait for the decision. */
  async #barrier(id: string, rolloutId: string): Promise<void> {
    const o = this.#o;
    const now = () => o.membership.view();
    // Watch before the first read: a change made between the read and the watch would otherwise go unnoticed.
    const waker = o.notifier.waker([o.keys.plugin(id)]);
    this.#barriers.add(waker);
    try {
      let rec = await this.#update(id, (cur) => {
        const p = rollout.prepared(cur, rolloutId, o.nodeId, o.incarnation, Date.now());
        return rollout.decide(p ?? cur, rolloutId, now()) ?? p;
      });
      // Being prepared is recorded in the rollout record itself (its `prepared` list), not in a report.
      o.event({ type: "prepared", plugin: id, rollout: rolloutId });
      for (;;) {
        const r = rec?.rollout;
        if (!r || r.id !== rolloutId) throw new FleetReverted(ErrorCode.Reload, `rollout ${rolloutId} was replaced`);
        if (r.phase === "reverted") {
          throw new FleetReverted(
            ErrorCode.Reload,
            `the fleet reverted rollout ${rolloutId}: ${r.reason ?? "no reason"}`,
          );
        }
        if (r.phase === "committed" || r.phase === "done") return;
        await waker.next(true);
        if (this.#stopping) throw new FleetReverted(ErrorCode.Disposed, `${o.nodeId} is leaving the fleet`);
        rec = await this.#update(
          id,
          (cur) => rollout.decide(cur, rolloutId, now()) ?? rollout.reassignCanary(cur, now()),
        );
      }
    } finally {
      this.#barriers.delete(waker);
      waker.close();
    }
  }

  /** Brings `id` to `target` outside a rollout: a load on a node that lacks it, else a reload. */
  async #converge(rec: PluginRecord, target: VersionRef): Promise<void> {
    const o = this.#o;
    const retry = this.#retry.get(rec.id);
    if (retry && performance.now() < retry.at) return;
    const serving = this.serving(rec.id);
    try {
      const bytes = await o.store.getBlob(target.blob);
      let report: ReloadReport | { loaded: PluginHandle };
      if (!serving) {
        const handle = await o.host.load(bytes);
        report = { loaded: handle };
        o.event({ type: "loaded", plugin: rec.id, version: handle.version, generation: handle.generation });
      } else {
        const t0 = performance.now();
        const r = await o.host.reload(serving.handle, bytes, { stepTimeoutMs: o.rolloutTimeoutMs });
        report = r;
        const to = r.to as PluginHandle;
        o.event({
          type: "reloaded",
          plugin: rec.id,
          version: to.version,
          generation: to.generation,
          rollout: "converge",
          ms: performance.now() - t0,
        });
        o.onCommitted(rec.id);
      }
      this.#retry.delete(rec.id);
      delete this.diverged[rec.id];
      await this.#report(rec.id, "converge", "converged", true, report);
      // A member that missed its rollout's commit (it was down, or its own commit failed) counts as committed once
      // it serves the new version, so the rollout can end.
      const r = rec.rollout;
      if (r?.phase === "committed" && r.to.hash === target.hash && r.members.includes(o.nodeId)) {
        await this.#update(rec.id, (cur) => rollout.committed(cur, r.id, o.nodeId, o.membership.view()));
      }
    } catch (err) {
      const e = toPluginError(err);
      const wait = Math.min(RETRY_MAX_MS, (retry?.wait ?? RETRY_MIN_MS / 2) * 2);
      this.#retry.set(rec.id, { at: performance.now() + wait, wait });
      const reason = `cannot serve ${rec.id} ${target.version}: ${e.message}`;
      this.diverged[rec.id] = reason;
      o.event({ type: "diverged", plugin: rec.id, reason });
      await this.#report(
        rec.id,
        "converge",
        "converge-failed",
        false,
        err instanceof ReloadError ? err.report : undefined,
        e,
        err,
      );
    }
  }

  /** Records this node's report of a rollout (or of a convergence) in the store. */
  async #report(
    plugin: string,
    rolloutId: string,
    stage: ReportStage,
    ok: boolean,
    report?: unknown,
    error?: PluginError,
    raw?: unknown,
  ): Promise<void> {
    const o = this.#o;
    const record: ReportRecord = {
      node: o.nodeId,
      incarnation: o.incarnation,
      plugin,
      rollout: rolloutId,
      stage,
      ok,
      at: Date.now(),
      ...(report === undefined ? {} : { report: plain(report) }),
      ...(error
        ? {
            error: {
              code: error.code,
              message: error.message.slice(0, 4000),
              ...(raw instanceof ReloadError ? { step: raw.step } : {}),
            },
          }
        : {}),
    };
    try {
      await o.store.commit({
        mutations: [{ type: "set", key: o.keys.report(plugin, rolloutId, o.nodeId), value: writeReport(record) }],
      });
    } catch (err) {
      o.event({ type: "error", where: `report of ${plugin} ${rolloutId}`, message: toPluginError(err).message });
    }
  }
}

/** JSON-compatible data of a report (no functions, no undefined), its messages capped so it fits one record. */
function plain(x: unknown): unknown {
  return JSON.parse(
    JSON.stringify(x, (_k, v) => (typeof v === "string" && v.length > 2000 ? `${v.slice(0, 2000)}…` : v)),
  );
}
