/**
 * The reload contract every live resource (and every kind-level check) carries,
 * modelled on OTP's rule that each module owns its own `code_change`: the
 * resource knows how its state moves to a new version; `reload.ts` only orders
 * the steps and undoes them.
 *
 *   check    (step check-compat) prove the new version on the live state; may prepare
 *            state in the new version (invisible) and return it, or return nothing
 *   handoff  (step handoff, callers queued and drained) bring the prepared state up to
 *            date, or prepare it now; decide what commit does (move, drop, or nothing)
 *   durable  (step commit, durable hosts) the store writes of the new state, committed with the version switch
 *   commit   (step commit) make the new state the serving one — must not fail
 *   abort    (rollback) undo whatever check/handoff made in the new version — must not fail
 *   retire   (step retire, after commit) release the old version's side
 *
 * @module
 */
import type { Surface } from "../manifest.ts";
import type { Mutation } from "../store/types.ts";
import type { PluginVersion } from "../plugin.ts";

/** What a reload tells each participant. */
export interface HandoffContext {
  readonly old: PluginVersion;
  readonly next: PluginVersion;
  /** `{ force: true }`: the new version may drop kinds (and their live state). */
  readonly force: boolean;
  /** The serving version trapped: nothing may be read out of its memory. */
  readonly oldPoisoned: boolean;
  /** Whether the new version still declares `key` on `surface`. */
  kept(surface: Surface, key: string): boolean;
  /** Counts bytes moved from the old instance into the new one (for the report). */
  moved(bytes: number): void;
  /** The literals seen in traffic for a logical type (the reload's samples). */
  samples(name: string): readonly string[];
}

/** What a committed handoff did, for the report. */
export type HandoffOutcome = "moved" | "dropped" | "none";

/**
 * One participant in a reload. `P` is whatever it prepares (a new handle, a
 * started stream…) and carries from step to step; `undefined` means nothing.
 */
export interface Handoff<P = unknown> {
  /** The surface it belongs to (the report counts moves per surface). */
  readonly surface: Surface;
  /** How messages name it, e.g. `index "docs"`. */
  readonly label: string;
  /**
   * Whether its state outlives a trapped serving version. A CDC stream does (the host's log holds every
   * batch after what its sink received); an index or CRDT state does not (its bytes lived in the trapped
   * memory), so replacing a trapped version needs `force`, and drops it.
   */
  readonly survivesTrap: boolean;
  /** Step check-compat. Throws to refuse the reload (naming the kind and why). */
  check(ctx: HandoffContext): P | undefined | Promise<P | undefined>;
  /** Step handoff; `prepared` is what {@link check} returned. */
  handoff(ctx: HandoffContext, prepared: P | undefined): P | undefined | Promise<P | undefined>;
  /**
   * Step commit, first half, for a durable host: the store writes this participant's new state needs (its
   * snapshot by the new version, or its removal), committed atomically with the version switch. Absent, or
   * resolving none, when nothing changes in the store.
   */
  durable?(ctx: HandoffContext, pending: P | undefined): Promise<readonly Mutation[]>;
  /** Step commit: the new version serves now. Must not throw. */
  commit(pending: P | undefined): HandoffOutcome;
  /** Rollback: undo what check/handoff made in the new version. Must not throw. */
  abort(pending: P | undefined): void;
  /** Step retire: release the old side. A throw or rejection is reported; the new version serves anyway. */
  retire(pending: P | undefined): void | Promise<void>;
}

/**
 * A participant that only checks (a kind or type with no live state of its own): nothing of it lives in the
 * old version's memory and nothing is handed over. Its check is skipped when the old version trapped (nothing
 * can be read from it then).
 */
export function checkOnly(
  surface: Surface,
  label: string,
  check: (ctx: HandoffContext) => void | Promise<void>,
): Handoff {
  return {
    surface,
    label,
    survivesTrap: true,
    check: async (ctx) => {
      if (!ctx.oldPoisoned) await check(ctx);
      return undefined;
    },
    handoff: () => undefined,
    commit: () => "none",
    abort: () => {},
    retire: () => {},
  };
}

/** Runs `fn`, and on failure calls `undo` (ignoring its own failure) before rethrowing. */
export function undoing<T>(fn: () => T, undo: () => void): T {
  try {
    return fn();
  } catch (err) {
    quietly(undo);
    throw err;
  }
}

/** Runs a cleanup whose failure changes nothing (the new version it belongs to is being thrown away). */
export function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Undoing a half-made resource of a version being thrown away, or releasing one already gone.
  }
}
