/**
 * A named, host-owned CRDT state, and its reload rules. Ops and values cross
 * as MessagePack; merging two states moves one's persisted bytes into the other
 * (docs in wit/crdt.wit). A reload proves, on the live state, that the new
 * version reads the old bytes back to an equal value and that states merge
 * across versions in both directions; then it moves the bytes in one copy.
 *
 * @module
 */
import { decode, Encoder } from "@msgpack/msgpack";
import { ErrorCode, PluginError } from "../errors.ts";
import { declared } from "../manifest.ts";
import type { CrdtLog } from "../durable/logs.ts";
import type { Mutation } from "../store/types.ts";
import type { CrdtJournalEntry } from "../durable/records.ts";
import type { PluginVersion } from "../plugin.ts";
import {
  type CallOptions,
  type CrdtClientLike,
  type CrdtStateLike,
  dropQuietly,
  inThread,
  moveState,
  type PluginInstance,
} from "./clients.ts";
import { namingAsync, sameValue } from "./compat.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import { checkOnly, type Handoff, type HandoffContext, type HandoffOutcome } from "./handoff.ts";

/**
 * One encoder for every op: `encodeSharedRef` reuses its buffer instead of allocating per call. The bytes it
 * returns are valid until the next encode, so an op is encoded right before the synchronous call that copies
 * it into the guest. bigints encode as (u)int64, so counters past 2^53 work.
 */
const encoder = new Encoder({ useBigInt64: true });

const INT64_MIN = -(1n << 63n);
const UINT64_LIMIT = 1n << 64n;

/**
 * The first bigint MessagePack cannot hold (outside [-2^63, 2^64)), if any: the encoder would silently wrap it
 * modulo 2^64. Looks as deep as the encoder goes; deeper nesting is the encoder's own refusal.
 */
function outOfRange(value: unknown, depth = 0): bigint | undefined {
  if (typeof value === "bigint") return value < INT64_MIN || value >= UINT64_LIMIT ? value : undefined;
  if (depth > 100 || typeof value !== "object" || value === null || value instanceof Uint8Array) return undefined;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const bad = outOfRange(v, depth + 1);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** MessagePack bytes of an op: a `Uint8Array` as is, anything else encoded. Unencodable input is a typed error. */
function opBytes(op: unknown, what: string): Uint8Array {
  if (op instanceof Uint8Array) return op;
  try {
    const bad = outOfRange(op);
    if (bad !== undefined) throw new RangeError(`bigint ${bad} is outside the 64-bit integer range`);
    return encoder.encodeSharedRef(op);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `${what}: the op cannot be encoded as MessagePack (${reason}); ops are plain values: numbers, bigints in the ` +
        "64-bit range, strings, booleans, null, byte arrays, and arrays/objects of those nested at most 100 deep",
      { cause: err },
    );
  }
}

/**
 * A state's value, decoded: the WIT says it is MessagePack. A plugin that answers something else gets a typed
 * error naming the kind, not a decoder's exception.
 */
function decodedValue(bytes: Uint8Array, kind: string): unknown {
  try {
    return decode(bytes);
  } catch (err) {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `crdt "${kind}": the plugin's value is not MessagePack (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
}

/** What a CRDT state carries through a reload: its state in the new version, or the decision to drop it. */
type CrdtPending =
  | { state: CrdtStateLike; retiring?: CrdtStateLike; shared?: Uint8Array; sameRecovery?: true }
  | { drop: true };

/** One op or merge a worker-hosted state was given since its last shared snapshot; `failed` ones are skipped. */
interface RecoveryEntry {
  entry: CrdtJournalEntry;
  failed: boolean;
}

/** A worker-hosted state folds its recovery ops into a fresh shared snapshot this often. */
const RECOVERY_FOLD_OPS = 256;

export class LiveCrdt extends LiveResource<CrdtPending> {
  readonly surface = "crdt" as const;
  /** @internal An in-thread state's bytes live in the plugin's memory: a trapped version takes them along. */
  readonly survivesTrap = false;
  /** @internal the serving version's state; swapped by reload's commit. */
  state: CrdtStateLike;
  /** @internal its snapshot and journal in the host's store (durable hosts only). */
  log: CrdtLog | undefined;
  /**
   * @internal worker-hosted: a shared snapshot (taken in the worker) and every op and merge given since, in the
   * order the worker runs them, so a state whose worker was ended at a deadline is restored exactly.
   */
  recovery: { snapshot: Uint8Array; ops: RecoveryEntry[] } | undefined;
  #folding = false;

  /** @internal created by PluginHost.createCrdt */
  constructor(entry: PluginEntry, name: string, kind: string, state: CrdtStateLike, onDrop: (r: LiveResource) => void) {
    super(entry, name, kind, onDrop);
    this.state = state;
  }

  /** The CRDT kind, e.g. `pn-counter`. */
  get kind(): string {
    return this.key;
  }

  /**
   * Applies one op. A `Uint8Array` is passed as MessagePack bytes as is;
   * anything else is MessagePack-encoded first (e.g. `["replica-a", 1]`).
   *
   * # Errors
   * Rejects with `PluginError(TypeCoercion)` for an op MessagePack cannot encode, and with the plugin's
   * `PluginCallError` for an op it refuses; the state is unchanged either way.
   */
  apply(op: unknown, call?: CallOptions): Promise<void> {
    return this.call(() => this.#applied({ op: "apply", bytes: opBytes(op, `crdt "${this.name}".apply`) }, call));
  }

  /** Merges another state: a live one of the same kind, or persisted bytes. */
  async merge(other: LiveCrdt | Uint8Array, call?: CallOptions): Promise<void> {
    if (!(other instanceof LiveCrdt) && !(other instanceof Uint8Array)) {
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `crdt "${this.name}".merge: expected a LiveCrdt or persisted bytes (Uint8Array), got ${typeof other}`,
      );
    }
    const bytes = other instanceof Uint8Array ? other : await other.persist();
    return this.call(() => this.#applied({ op: "merge", bytes }, call));
  }

  /**
   * Gives the state one op or merge; then a durable host journals it (the call resolves once it is durable, with
   * journal durability), and a worker-hosted state keeps it for recovery until its next snapshot.
   */
  #applied(entry: CrdtJournalEntry, call?: CallOptions): Promise<void> | undefined {
    const recovery = this.recovery;
    if (!recovery) {
      // In-thread: `entry.bytes` may be the encoder's buffer, read (copied) before anything else is encoded.
      this.state[entry.op](entry.bytes);
      return this.log?.applied(entry);
    }
    const kept: RecoveryEntry = { entry: { op: entry.op, bytes: entry.bytes.slice() }, failed: false };
    recovery.ops.push(kept); // in the order the worker runs them
    const given = Promise.resolve(this.state[entry.op](kept.entry.bytes, call)).then(
      () => {
        this.#fold();
        return this.log?.applied(kept.entry);
      },
      (err) => {
        kept.failed = true; // refused, or its worker died: not applied, as the caller is told
        throw err;
      },
    );
    return given;
  }

  /** Worker-hosted: every {@link RECOVERY_FOLD_OPS} ops, a new shared snapshot replaces the ops it covers. */
  #fold(): void {
    const recovery = this.recovery;
    if (!recovery || this.#folding || recovery.ops.length < RECOVERY_FOLD_OPS) return;
    this.#folding = true;
    const covered = recovery.ops.length; // the worker runs the snapshot after every op issued so far
    const state = this.state;
    Promise.resolve(sharedState(state))
      .then((snapshot) => {
        if (snapshot && this.recovery === recovery && this.state === state) {
          this.recovery = { snapshot, ops: recovery.ops.slice(covered) };
        }
      })
      .catch(() => {}) // keep the old snapshot and its ops: still exact
      .finally(() => {
        this.#folding = false;
      });
  }

  /** The value, decoded from MessagePack. */
  async value(call?: CallOptions): Promise<unknown> {
    return decodedValue(await this.valueBytes(call), this.kind);
  }

  /** The value as the plugin returned it (MessagePack). */
  valueBytes(call?: CallOptions): Promise<Uint8Array> {
    return this.call(() => this.state.value(call));
  }

  /** Self-contained bytes that `createCrdt(name, kind, bytes)` reopens. */
  persist(call?: CallOptions): Promise<Uint8Array> {
    return this.call(() => this.state.persist(call));
  }

  protected release(): void {
    dropQuietly(this.state);
  }

  /** @internal after a drop: its snapshot and journal go from the host's store. */
  protected override forget(): Promise<void> | undefined {
    return this.log?.gone();
  }

  // ---------------------------------------------------------------- reload (see resources/handoff.ts)

  /** @internal
   * check-compat, on the live state: the new version reads the old bytes back to an equal value; the old
   * bytes merge into an empty new-version state to that value; and new-version bytes merge back
   * idempotently. Every probe state is dropped again: nothing prepared here survives the step.
   */
  async check(ctx: HandoffContext): Promise<undefined> {
    const next = ctx.next.instance.crdt as CrdtClientLike | undefined;
    if (ctx.oldPoisoned || !ctx.kept("crdt", this.kind) || !next) return undefined;
    // The old state's bytes first, then its value (an in-thread copy of the bytes stays valid across the awaits).
    let want: unknown;
    await moveState(
      this.state,
      inThread(ctx.next.instance),
      async (bytes) => {
        want = decodedValue(await this.state.value(), this.kind);
        const read = await namingAsync("crdt", this.kind, () => next.fromPersisted(this.kind, bytes));
        const merged = await namingAsync("crdt", this.kind, () => next.empty(this.kind)).catch((err) => {
          dropQuietly(read);
          throw err;
        });
        try {
          sameValue(
            "crdt",
            this.kind,
            "read back by the new version",
            want,
            decodedValue(await read.value(), this.kind),
          );
          await namingAsync("crdt", this.kind, () => merged.merge(bytes));
          sameValue(
            "crdt",
            this.kind,
            "merged into an empty new-version state",
            want,
            decodedValue(await merged.value(), this.kind),
          );
          await read.merge(await merged.persist());
          sameValue(
            "crdt",
            this.kind,
            "merged with itself across versions",
            want,
            decodedValue(await read.value(), this.kind),
          );
        } finally {
          dropQuietly(read);
          dropQuietly(merged);
        }
      },
      () => {},
      false,
    );
    return undefined;
  }

  /** @internal handoff: persist (old) → from-persisted (new), one copy; the value must come out equal. */
  async handoff(ctx: HandoffContext): Promise<CrdtPending | undefined> {
    const next = ctx.next.instance.crdt as CrdtClientLike | undefined;
    if (ctx.oldPoisoned || !ctx.kept("crdt", this.kind) || !next) return { drop: true };
    if (this.dropped) return undefined;
    const want = decodedValue(await this.state.value(), this.kind);
    const state = await moveState(
      this.state,
      inThread(ctx.next.instance),
      (view) => next.fromPersisted(this.kind, view),
      ctx.moved,
    );
    try {
      sameValue(
        "crdt",
        this.kind,
        `state "${this.name}" handed over`,
        want,
        decodedValue(await state.value(), this.kind),
      );
      const shared = await sharedState(state, ctx.next.instance);
      return { state, ...(shared ? { shared } : {}) };
    } catch (err) {
      dropQuietly(state);
      throw err;
    }
  }

  /**
   * @internal Restores this state into a fresh instance of the same version (its worker was ended at a deadline):
   * its last shared snapshot, then every op and merge given since that was not refused.
   */
  async recover(next: PluginVersion): Promise<CrdtPending> {
    const instance = next.instance;
    const crdt = instance.crdt as CrdtClientLike | undefined;
    if (!crdt || !this.recovery) {
      throw new PluginError(ErrorCode.Reload, `crdt "${this.name}": nothing to restore it from (no snapshot was kept)`);
    }
    const { snapshot, ops } = this.recovery;
    const state = await crdt.fromPersisted(this.kind, snapshot);
    try {
      for (const kept of ops) if (!kept.failed) await state[kept.entry.op](kept.entry.bytes);
      // The same snapshot and ops stay the way back (a fresh snapshot would ask the state to persist, which may
      // be what ran away): the next fold takes a new one.
      return { state, sameRecovery: true };
    } catch (err) {
      dropQuietly(state);
      throw err;
    }
  }

  /** @internal The store write of the new version's snapshot (a new journal epoch), or of the removal. */
  async durable(ctx: HandoffContext, pending: CrdtPending | undefined): Promise<readonly Mutation[]> {
    if (!this.log || !pending) return [];
    if ("drop" in pending) return [await this.log.removal()];
    return [await this.log.reloadWrite(pending.shared ?? (await pending.state.persist()), ctx.next.manifest.version)];
  }

  /** @internal */
  commit(pending: CrdtPending | undefined): HandoffOutcome {
    if (!pending) return "none";
    if ("drop" in pending) {
      this.dropNow();
      void this.log?.sweep().catch(() => {}); // its record went in the reload's commit; its journal follows
      return "dropped";
    }
    pending.retiring = this.state;
    this.state = pending.state;
    this.recovery = pending.shared
      ? { snapshot: pending.shared, ops: [] }
      : pending.sameRecovery
        ? this.recovery
        : undefined;
    this.log?.committed(this.entry.current.manifest.id, this.entry.current.manifest.version, () =>
      this.state.persist(),
    );
    return "moved";
  }

  /** @internal */
  abort(pending: CrdtPending | undefined): void {
    if (pending && "state" in pending) dropQuietly(pending.state);
  }

  /** @internal */
  retire(pending: CrdtPending | undefined): void {
    if (pending && "retiring" in pending) dropQuietly(pending.retiring);
  }
}

/** A worker-hosted state's persisted bytes, shared (taken in its worker); none for an in-thread one. */
export async function sharedState(state: CrdtStateLike, instance?: PluginInstance): Promise<Uint8Array | undefined> {
  if (instance && inThread(instance)) return undefined;
  const remote = state as unknown as { persistShared?: () => Promise<Uint8Array> };
  return remote.persistShared ? await remote.persistShared() : undefined;
}

/**
 * The reload check of a CRDT kind no live state uses: the new version must still read the old version's
 * empty state (a state created after the reload may meet bytes persisted before it).
 */
export function crdtKindChecks(ctx: HandoffContext, live: ReadonlySet<string>): Handoff[] {
  const [oldCrdt, nextCrdt] = [
    ctx.old.instance.crdt as CrdtClientLike | undefined,
    ctx.next.instance.crdt as CrdtClientLike | undefined,
  ];
  if (!oldCrdt || !nextCrdt) return [];
  return declared(ctx.old.manifest, "crdt")
    .filter((kind) => !live.has(kind) && ctx.kept("crdt", kind))
    .map((kind) => kindCheck(kind, oldCrdt, nextCrdt));
}

function kindCheck(kind: string, oldCrdt: CrdtClientLike, nextCrdt: CrdtClientLike): Handoff {
  return checkOnly("crdt", `crdt kind "${kind}"`, async (ctx) => {
    const empty = await oldCrdt.empty(kind);
    try {
      const read = await moveState(
        empty,
        inThread(ctx.next.instance),
        (bytes) => namingAsync("crdt", kind, () => nextCrdt.fromPersisted(kind, bytes)),
        () => {},
        false,
      );
      dropQuietly(read);
    } finally {
      dropQuietly(empty);
    }
  });
}
