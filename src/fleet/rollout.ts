/**
 * The rollout protocol as pure transitions of a plugin record (records.ts `PluginRecord`); whoever observes the
 * condition for a transition applies it with a compare-and-set, so no node is the coordinator and any of them may
 * die at any point.
 *
 *     (start)   stable = v1, desired = v2, phase canary: only the canary reloads, stopping before its commit step
 *     canary    the canary reached its commit barrier          → prepare: every other member reloads likewise
 *     prepare   every live member reached its barrier          → committed: stable = v2; every barrier opens
 *     committed every live member's reload committed           → done
 *     canary / prepare: a member refused (or timed out)      → reverted: desired = v1; every barrier throws, so
 *                                                                 every prepared reload rolls back
 *     canary:   the canary stopped heartbeating                → another live member becomes the canary
 *
 * A member "prepared" means its reload ran validate … handoff on its real live state and waits at `commit`, where
 * nothing can fail halfway: that is why the fleet is all-or-nothing although an older version may be unable to
 * read a newer one's state (crdt-v1 cannot read crdt-v2's format), so a node, once moved, could not be moved back.
 * Members that stop heartbeating are left out of the decisions; when they return they converge on their own to
 * whatever `stable` is by then.
 *
 * @module
 */
import { ErrorCode } from "../errors.ts";
import { FleetError } from "./errors.ts";
import type { PluginRecord, Rollout, VersionRef } from "./records.ts";

/** Phases in which a rollout is still deciding (members act on it). */
export function isDeciding(r: Rollout | undefined): r is Rollout {
  return r !== undefined && (r.phase === "canary" || r.phase === "prepare");
}

/** Phases before `done` / `reverted`. */
export function isActive(r: Rollout | undefined): r is Rollout {
  return r !== undefined && (r.phase === "canary" || r.phase === "prepare" || r.phase === "committed");
}

/** What decisions need to know about the fleet now. */
export interface FleetView {
  /** Whether a node is heartbeating (observed by versionstamps, see liveness.ts). */
  alive(node: string): boolean;
  /** The incarnation a live node runs now. */
  incarnation(node: string): string | undefined;
  now: number;
}

/**
 * A new rollout of `to` to `members`, canary first.
 *
 * # Errors
 * `Forbidden` while another rollout of the plugin is active; `TypeCoercion` without members or when the canary
 * is not one of them.
 */
export function start(
  rec: PluginRecord,
  to: VersionRef,
  options: { id: string; members: string[]; canary: string; now: number },
): PluginRecord {
  const r = rec.rollout;
  if (isActive(r)) {
    throw new FleetError(
      ErrorCode.Forbidden,
      `fleet: rollout ${r.id} of ${rec.id} ${r.from.version} → ${r.to.version} is still ${r.phase}; wait for it to end`,
      { retryable: true },
    );
  }
  if (options.members.length === 0) {
    throw new FleetError(
      ErrorCode.TypeCoercion,
      `fleet: no node that is up serves ${rec.id} ${rec.stable.version}: nothing to roll ${to.version} out to`,
    );
  }
  if (!options.members.includes(options.canary)) {
    throw new FleetError(ErrorCode.TypeCoercion, `fleet: canary ${options.canary} is not one of the nodes up`);
  }
  return {
    ...rec,
    desired: to,
    rollout: {
      id: options.id,
      from: rec.stable,
      to,
      phase: "canary",
      canary: options.canary,
      members: [...options.members].sort(),
      prepared: [],
      committed: [],
      startedAt: options.now,
    },
  };
}

/** The rollout `id` of `rec`, if it is the active one. */
function active(rec: PluginRecord, id: string): Rollout | undefined {
  const r = rec.rollout;
  return r && r.id === id ? r : undefined;
}

/** `node` reached its commit barrier; the canary's arrival opens the prepare phase. Null: nothing to change. */
export function prepared(
  rec: PluginRecord,
  id: string,
  node: string,
  incarnation: string,
  now: number,
): PluginRecord | null {
  const r = active(rec, id);
  if (!r || !isDeciding(r)) return null;
  const already = r.prepared.some((p) => p.node === node && p.incarnation === incarnation);
  const opens = r.phase === "canary" && r.canary === node;
  if (already && !opens) return null;
  return {
    ...rec,
    rollout: {
      ...r,
      phase: opens ? "prepare" : r.phase,
      prepared: [...r.prepared.filter((p) => p.node !== node), { node, incarnation, at: now }],
    },
  };
}

/** The live members that have not prepared in their current incarnation. */
export function waitingFor(r: Rollout, view: FleetView): string[] {
  return r.members.filter(
    (m) =>
      view.alive(m) &&
      !r.prepared.some((p) => p.node === m && p.incarnation === (view.incarnation(m) ?? p.incarnation)),
  );
}

/**
 * The commit decision: once the rollout is in its prepare phase and no live member is left to prepare (at least
 * one having prepared), it commits: the new version becomes stable. Null: not yet.
 */
export function decide(rec: PluginRecord, id: string, view: FleetView): PluginRecord | null {
  const r = active(rec, id);
  if (r?.phase !== "prepare" || r.prepared.length === 0 || waitingFor(r, view).length > 0) return null;
  const stable: VersionRef = { ...r.to, readsFrom: unique([r.from.version, ...r.to.readsFrom]) };
  return { ...rec, stable, desired: stable, rollout: { ...r, phase: "committed", decidedAt: view.now } };
}

/** Reverts an undecided rollout: the desired version goes back to the stable one. Null: too late, or not this one. */
export function revert(rec: PluginRecord, id: string, reason: string, by: string, now: number): PluginRecord | null {
  const r = active(rec, id);
  if (!r || !isDeciding(r)) return null;
  return {
    ...rec,
    desired: rec.stable,
    rollout: { ...r, phase: "reverted", reason, refusedBy: by, endedAt: now },
  };
}

/** A canary that stopped heartbeating before it prepared is replaced by the first live member. Null: no change. */
export function reassignCanary(rec: PluginRecord, view: FleetView): PluginRecord | null {
  const r = rec.rollout;
  if (r?.phase !== "canary" || view.alive(r.canary)) return null;
  const next = r.members.find((m) => m !== r.canary && view.alive(m));
  return next ? { ...rec, rollout: { ...r, canary: next } } : null;
}

/**
 * `node`'s reload committed (undefined: only check); the rollout is done once every live member's has. Null:
 * nothing to change.
 */
export function committed(
  rec: PluginRecord,
  id: string,
  node: string | undefined,
  view: FleetView,
): PluginRecord | null {
  const r = active(rec, id);
  if (r?.phase !== "committed") return null;
  const list = node === undefined || r.committed.includes(node) ? r.committed : [...r.committed, node];
  const done = r.members.every((m) => list.includes(m) || !view.alive(m));
  if (list === r.committed && !done) return null;
  return { ...rec, rollout: { ...r, committed: list, ...(done ? { phase: "done" as const, endedAt: view.now } : {}) } };
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
