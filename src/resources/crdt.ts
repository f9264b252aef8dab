/**
 * A named, host-owned CRDT state. Ops and values cross as MessagePack; merging
 * two states moves one's persisted bytes into the other (docs in wit/crdt.wit).
 *
 * @module
 */
import { decode, encode } from "@msgpack/msgpack";
import type { CrdtState } from "../surfaces/crdt.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";

export class LiveCrdt extends LiveResource {
  readonly surface = "crdt" as const;
  /** @internal the serving version's state; swapped by reload's commit. */
  state: CrdtState;

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
   */
  apply(op: unknown): Promise<void> {
    const bytes = op instanceof Uint8Array ? op : encode(op);
    return this.call(() => this.state.apply(bytes));
  }

  /** Merges another state: a live one of the same kind, or persisted bytes. */
  async merge(other: LiveCrdt | Uint8Array): Promise<void> {
    const bytes = other instanceof Uint8Array ? other : await other.persist();
    return this.call(() => this.state.merge(bytes));
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
}
