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
import type { CrdtClient, CrdtState } from "../surfaces/crdt.ts";
import { naming, sameValue } from "./compat.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";
import { checkOnly, type Handoff, type HandoffContext, type HandoffOutcome, quietly } from "./handoff.ts";

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

/** What a CRDT state carries through a reload: its state in the new version, or the decision to drop it. */
type CrdtPending = { state: CrdtState; retiring?: CrdtState } | { drop: true };

export class LiveCrdt extends LiveResource<CrdtPending> {
  readonly surface = "crdt" as const;
  /** @internal A state's bytes live in the plugin's memory: a trapped version takes them along. */
  readonly survivesTrap = false;
  /** @internal the serving version's state; swapped by reload's commit. */
  state: CrdtState;
  /** @internal its snapshot and journal in the host's store (durable hosts only). */
  log: CrdtLog | undefined;

  /** @internal created by PluginHost.createCrdt */
  constructor(entry: PluginEntry, name: string, kind: string, state: CrdtState, onDrop: (r: LiveResource) => void) {
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
  apply(op: unknown): Promise<void> {
    return this.call(() => {
      const bytes = opBytes(op, `crdt "${this.name}".apply`);
      this.state.apply(bytes);
      // A durable host journals the op (copied now: `bytes` may be the encoder's buffer); the call resolves
      // once it is durable (journal durability), so an acknowledged op survives a crash.
      return this.log?.applied({ op: "apply", bytes });
    });
  }

  /** Merges another state: a live one of the same kind, or persisted bytes. */
  async merge(other: LiveCrdt | Uint8Array): Promise<void> {
    if (!(other instanceof LiveCrdt) && !(other instanceof Uint8Array)) {
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `crdt "${this.name}".merge: expected a LiveCrdt or persisted bytes (Uint8Array), got ${typeof other}`,
      );
    }
    const bytes = other instanceof Uint8Array ? other : await other.persist();
    return this.call(() => {
      this.state.merge(bytes);
      return this.log?.applied({ op: "merge", bytes });
    });
  }

  /** The value, decoded from MessagePack. */
  async value(): Promise<unknown> {
    return decode(await this.valueBytes());
  }

  /** The value as the plugin returned it (MessagePack). */
  valueBytes(): Promise<Uint8Array> {
    return this.call(() => this.state.value());
  }

  /** Self-contained bytes that `createCrdt(name, kind, bytes)` reopens. */
  persist(): Promise<Uint8Array> {
    return this.call(() => this.state.persist());
  }

  protected release(): void {
    this.state.drop();
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
  check(ctx: HandoffContext): undefined {
    const next = ctx.next.instance.crdt;
    if (ctx.oldPoisoned || !ctx.kept("crdt", this.kind) || !next) return undefined;
    const want = decode(this.state.value());
    // Every call below goes to the new instance, so the lent view of the old one's bytes stays valid.
    this.state.persistLent((bytes) => {
      const [read, merged] = naming("crdt", this.kind, () => [
        next.fromPersisted(this.kind, bytes),
        next.empty(this.kind),
      ]);
      try {
        sameValue("crdt", this.kind, "read back by the new version", want, decode(read.value()));
        naming("crdt", this.kind, () => merged.merge(bytes));
        sameValue("crdt", this.kind, "merged into an empty new-version state", want, decode(merged.value()));
        read.merge(merged.persist());
        sameValue("crdt", this.kind, "merged with itself across versions", want, decode(read.value()));
      } finally {
        quietly(() => read.drop());
        quietly(() => merged.drop());
      }
    });
    return undefined;
  }

  /** @internal handoff: persist (old) → from-persisted (new), one copy; the value must come out equal. */
  handoff(ctx: HandoffContext): CrdtPending | undefined {
    const next = ctx.next.instance.crdt;
    if (ctx.oldPoisoned || !ctx.kept("crdt", this.kind) || !next) return { drop: true };
    if (this.dropped) return undefined;
    const want = decode(this.state.value());
    const state = this.state.persistLent((view) => {
      ctx.moved(view.byteLength);
      return next.fromPersisted(this.kind, view);
    });
    try {
      sameValue("crdt", this.kind, `state "${this.name}" handed over`, want, decode(state.value()));
    } catch (err) {
      quietly(() => state.drop());
      throw err;
    }
    return { state };
  }

  /** @internal */
  /** @internal The store write of the new version's snapshot (a new journal epoch), or of the removal. */
  async durable(ctx: HandoffContext, pending: CrdtPending | undefined): Promise<readonly Mutation[]> {
    if (!this.log || !pending) return [];
    if ("drop" in pending) return [await this.log.removal()];
    return [await this.log.reloadWrite(pending.state.persist(), ctx.next.manifest.version)];
  }

  commit(pending: CrdtPending | undefined): HandoffOutcome {
    if (!pending) return "none";
    if ("drop" in pending) {
      this.dropNow();
      void this.log?.sweep().catch(() => {}); // its record went in the reload's commit; its journal follows
      return "dropped";
    }
    pending.retiring = this.state;
    this.state = pending.state;
    this.log?.committed(this.entry.current.manifest.id, this.entry.current.manifest.version, () =>
      this.state.persist(),
    );
    return "moved";
  }

  /** @internal */
  abort(pending: CrdtPending | undefined): void {
    if (pending && "state" in pending) quietly(() => pending.state.drop());
  }

  /** @internal */
  retire(pending: CrdtPending | undefined): void {
    if (pending && "retiring" in pending) pending.retiring?.drop();
  }
}

/**
 * The reload check of a CRDT kind no live state uses: the new version must still read the old version's
 * empty state (a state created after the reload may meet bytes persisted before it).
 */
export function crdtKindChecks(ctx: HandoffContext, live: ReadonlySet<string>): Handoff[] {
  const [oldCrdt, nextCrdt] = [ctx.old.instance.crdt, ctx.next.instance.crdt];
  if (!oldCrdt || !nextCrdt) return [];
  return declared(ctx.old.manifest, "crdt")
    .filter((kind) => !live.has(kind) && ctx.kept("crdt", kind))
    .map((kind) => kindCheck(kind, oldCrdt, nextCrdt));
}

function kindCheck(kind: string, oldCrdt: CrdtClient, nextCrdt: CrdtClient): Handoff {
  return checkOnly("crdt", `crdt kind "${kind}"`, () => {
    const empty = oldCrdt.empty(kind);
    try {
      naming("crdt", kind, () => empty.persistLent((bytes) => nextCrdt.fromPersisted(kind, bytes))).drop();
    } finally {
      quietly(() => empty.drop());
    }
  });
}
