/**
 * Everything a reload of one plugin must carry over or check: its live
 * resources (each owns its handoff), plus the kind-level checks of surfaces
 * that hold no live state of that kind (CRDT kinds without a state, logical
 * types). The reload step runner sees only this list.
 *
 * @module
 */
import { crdtKindChecks } from "./crdt.ts";
import type { LiveResource, PluginEntry } from "./entry.ts";
import type { Handoff, HandoffContext } from "./handoff.ts";
import { logicalTypeChecks } from "./logical-type.ts";

/** Every live resource is a reload participant (checked here, at compile time). */
const _liveResourcesParticipate = (r: LiveResource): Handoff => r;

/** Surfaces in the order their resources are checked and handed over: bulky state first, streams last. */
const ORDER = { index: 0, crdt: 1, cdc: 2 } as const;

/** The live resources of `entry` that have not been dropped: indexes, then CRDT states, then CDC streams. */
export function liveResources(entry: PluginEntry): Handoff[] {
  return [...entry.resources].filter((r) => !r.dropped).sort((a, b) => ORDER[a.surface] - ORDER[b.surface]);
}

/** Every participant of a reload of `entry`, in the order their checks run. */
export function participants(entry: PluginEntry, ctx: HandoffContext): Handoff[] {
  const live = liveResources(entry);
  const liveKinds = new Set([...entry.resources].filter((r) => r.surface === "crdt").map((r) => r.key));
  return [...live, ...crdtKindChecks(ctx, liveKinds), ...logicalTypeChecks(ctx)];
}
