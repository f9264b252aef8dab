// The `uni:plugin/crdt@1.0.0` surface for plugin authors: implement CrdtState
// and CrdtKind, call registerCrdtKind at module top level, and re-export
// `./crdt-exports` from the plugin's entry file.
import { FnError, Result, fnError } from "./error";

/** One live state. Methods must leave the state unchanged when they return an error. */
export abstract class CrdtState {
  /** Applies one MessagePack op. */
  abstract apply(op: Uint8Array): FnError | null;
  /** Merges another state of the same kind, given as its persisted bytes. */
  abstract merge(otherPersisted: Uint8Array): FnError | null;
  /** The observable value, MessagePack. */
  abstract value(): Result<Uint8Array>;
  /** Bytes `fromPersisted` turns back into an equal state. */
  abstract persist(): Result<Uint8Array>;
}

/** A CRDT kind: how to make states of it. */
export abstract class CrdtKind {
  abstract empty(): CrdtState;
  abstract fromPersisted(bytes: Uint8Array): Result<CrdtState>;
}

/** Plugin-defined code for "no such kind" (the host reserves <= 0xff). */
export const CODE_UNKNOWN_KIND: u32 = 0x100;

const kindNames: string[] = [];
const kindsByName = new Map<string, CrdtKind>();

/** Registers `kind` under `name`; call at module top level, once per kind. */
export function registerCrdtKind(name: string, kind: CrdtKind): void {
  if (!kindsByName.has(name)) kindNames.push(name);
  kindsByName.set(name, kind);
}

export function crdtKindNames(): string[] {
  return kindNames;
}

export function findCrdtKind(name: string): Result<CrdtKind> {
  if (!kindsByName.has(name)) {
    return Result.err<CrdtKind>(
      fnError(CODE_UNKNOWN_KIND, `unknown CRDT kind "${name}"; this plugin has ${kindNames.join(", ")}`),
    );
  }
  return Result.ok<CrdtKind>(kindsByName.get(name));
}

// rep -> state. The Map roots live states so the GC never frees a state the
// host still holds a handle to; [dtor] removes the entry.
const liveStates = new Map<i32, CrdtState>();
let nextRep: i32 = 1;

export function adoptState(state: CrdtState): i32 {
  const rep = nextRep++;
  if (nextRep <= 0) nextRep = 1; // wrap past i32 max: reps must stay non-zero
  liveStates.set(rep, state);
  return rep;
}

export function stateOf(rep: i32): CrdtState | null {
  return liveStates.has(rep) ? liveStates.get(rep) : null;
}

export function dropState(rep: i32): void {
  liveStates.delete(rep);
}
