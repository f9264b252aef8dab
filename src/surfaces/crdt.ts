/**
 * The `crdt` surface client: state-based CRDT states living in the guest.
 * Another state travels as its persisted bytes (`merge(other.persist())`).
 * Every call goes through one {@link TypedFunc} bound from `component/abi.ts`.
 *
 * @module
 */
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import { bindSurface, type SurfaceFuncs } from "./typed-func.ts";

type CrdtFuncs = SurfaceFuncs<"crdt">;

/** `instance.crdt`: the component's CRDT kinds. */
export class CrdtClient {
  declare private readonly fns: CrdtFuncs;
  declare private readonly table: ResourceTable;

  /** @internal Built by ComponentInstance. */
  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.table = table;
    this.fns = bindSurface(g, exports, "crdt", table);
  }

  kinds(): string[] {
    return this.fns.kinds.call0() as string[];
  }

  empty(kind: string): CrdtState {
    return this.adopt(this.fns.empty.call(kind) as number);
  }

  /** Reopens persisted bytes; may be a lent view from another instance (`CrdtState.persistLent`). */
  fromPersisted(kind: string, persisted: Uint8Array): CrdtState {
    return this.adopt(this.fns["from-persisted"].call(kind, persisted) as number);
  }

  private adopt(handle: number): CrdtState {
    const s = new CrdtState(this.fns, this.table, handle);
    this.table.own(handle, s);
    return s;
  }
}

/** One CRDT state inside the component. */
export class CrdtState {
  /** The guest's rep; 0 once dropped. */
  declare private rep: number;
  declare private readonly fns: CrdtFuncs;
  declare private readonly table: ResourceTable;
  declare private readonly handle: number;

  /** @internal Built by CrdtClient. */
  constructor(fns: CrdtFuncs, table: ResourceTable, handle: number) {
    this.fns = fns;
    this.table = table;
    this.handle = handle;
    this.rep = table.rep(handle);
  }

  get dropped(): boolean {
    return this.rep === 0;
  }

  /** Applies one local operation (MessagePack). */
  apply(op: Uint8Array): void {
    this.fns["[method]crdt-state.apply"].callSelfBytes(this.rep, op);
  }

  /** Merges another state of the same kind, given as its persisted bytes. */
  merge(otherPersisted: Uint8Array): void {
    this.fns["[method]crdt-state.merge"].callSelfBytes(this.rep, otherPersisted);
  }

  /** The observable value, MessagePack. */
  value(): Uint8Array {
    return this.fns["[method]crdt-state.value"].callSelf(this.rep) as Uint8Array;
  }

  /** Self-contained bytes that `fromPersisted` turns back into an equal state. */
  persist(): Uint8Array {
    return this.fns["[method]crdt-state.persist"].callSelf(this.rep) as Uint8Array;
  }

  /** Persist without copying out; see `IndexHandle.persistLent` for the rules. */
  persistLent<T>(use: (view: Uint8Array) => T): T {
    return this.fns["[method]crdt-state.persist"].lend(this.rep, use);
  }

  drop(): void {
    if (this.rep !== 0) this.fns["[dtor]crdt-state"].dropHandle(this.table, this.handle);
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal The table forgot the handle. */
  release(): void {
    this.rep = 0;
  }
}
