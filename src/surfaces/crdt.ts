/**
 * The `crdt` surface client: state-based CRDT states living in the guest.
 * Another state travels as its persisted bytes (`merge(other.persist())`).
 *
 * @module
 */
import { interfaceName } from "../component/abi.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import { PluginCallError } from "../errors.ts";
import {
  checkBytes,
  lendPersisted,
  checkString,
  coreFn,
  dropOwned,
  type Post,
  postFn,
  takeHandle,
  takeList,
  listNames,
  takeUnit,
} from "./lift.ts";

type Area1 = (a: number) => number;
type Area2 = (a: number, b: number) => number;
type Area3 = (a: number, b: number, c: number) => number;
type Area4 = (a: number, b: number, c: number, d: number) => number;

class CrdtCore {
  declare readonly kinds: () => number;
  declare readonly empty: Area2;
  declare readonly fromPersisted: Area4;
  declare readonly apply: Area3;
  declare readonly merge: Area3;
  declare readonly value: Area1;
  declare readonly persist: Area1;
  declare readonly dtor: (rep: number) => void;
  declare readonly postKinds: Post;
  declare readonly postEmpty: Post;
  declare readonly postFromPersisted: Post;
  declare readonly postApply: Post;
  declare readonly postMerge: Post;
  declare readonly postValue: Post;
  declare readonly postPersist: Post;

  constructor(x: WebAssembly.Exports) {
    const i = `${interfaceName("crdt")}#`;
    this.kinds = coreFn(x, `${i}kinds`);
    this.empty = coreFn(x, `${i}empty`);
    this.fromPersisted = coreFn(x, `${i}from-persisted`);
    this.apply = coreFn(x, `${i}[method]crdt-state.apply`);
    this.merge = coreFn(x, `${i}[method]crdt-state.merge`);
    this.value = coreFn(x, `${i}[method]crdt-state.value`);
    this.persist = coreFn(x, `${i}[method]crdt-state.persist`);
    this.dtor = coreFn(x, `${i}[dtor]crdt-state`);
    this.postKinds = postFn(x, `${i}kinds`);
    this.postEmpty = postFn(x, `${i}empty`);
    this.postFromPersisted = postFn(x, `${i}from-persisted`);
    this.postApply = postFn(x, `${i}[method]crdt-state.apply`);
    this.postMerge = postFn(x, `${i}[method]crdt-state.merge`);
    this.postValue = postFn(x, `${i}[method]crdt-state.value`);
    this.postPersist = postFn(x, `${i}[method]crdt-state.persist`);
  }
}

/** `instance.crdt`: the component's CRDT kinds. */
export class CrdtClient {
  /** @internal */
  declare readonly core: CrdtCore;

  /** @internal Built by ComponentInstance. */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;

  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.g = g;
    this.table = table;
    this.core = new CrdtCore(exports);
  }

  kinds(): string[] {
    return listNames(this.g, this.core.kinds, this.core.postKinds, "crdt.kinds");
  }

  empty(kind: string): CrdtState {
    const g = this.g;
    const k = g.encode(checkString(g, kind, "crdt.empty kind"));
    if (!g.live) g.refuse("crdt.empty");
    let r: number | PluginCallError;
    try {
      const kp = g.writeBytes(k);
      r = takeHandle(g, this.table, this.core.empty(kp, k.length), this.core.postEmpty);
    } catch (e) {
      throw g.trap(e, "crdt.empty");
    }
    if (r instanceof PluginCallError) throw r;
    return this.adopt(r);
  }

  /** Reopens persisted bytes; may be a lent view from another instance (`CrdtState.persistLent`). */
  fromPersisted(kind: string, persisted: Uint8Array): CrdtState {
    const g = this.g;
    const k = g.encode(checkString(g, kind, "crdt.from-persisted kind"));
    checkBytes(g, persisted, "crdt.from-persisted persisted");
    if (!g.live) g.refuse("crdt.from-persisted");
    let r: number | PluginCallError;
    try {
      const kp = g.writeBytes(k);
      const pp = g.writeBytes(persisted);
      r = takeHandle(
        g,
        this.table,
        this.core.fromPersisted(kp, k.length, pp, persisted.length),
        this.core.postFromPersisted,
      );
    } catch (e) {
      throw g.trap(e, "crdt.from-persisted");
    }
    if (r instanceof PluginCallError) throw r;
    return this.adopt(r);
  }

  private adopt(handle: number): CrdtState {
    const s = new CrdtState(this.g, this.table, this.core, handle, this.table.rep(handle));
    this.table.own(handle, s);
    return s;
  }
}

/** One CRDT state inside the component. */
export class CrdtState {
  declare private rep: number;

  /** @internal */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;
  declare private readonly core: CrdtCore;
  declare private readonly handle: number;

  constructor(g: Guest, table: ResourceTable, core: CrdtCore, handle: number, rep: number) {
    this.g = g;
    this.table = table;
    this.core = core;
    this.handle = handle;
    this.rep = rep;
  }

  get dropped(): boolean {
    return this.rep === 0;
  }

  /** Applies one local operation (MessagePack). */
  apply(op: Uint8Array): void {
    this.unitCall(this.core.apply, this.core.postApply, op, "crdt-state.apply");
  }

  /** Merges another state of the same kind, given as its persisted bytes. */
  merge(otherPersisted: Uint8Array): void {
    this.unitCall(this.core.merge, this.core.postMerge, otherPersisted, "crdt-state.merge");
  }

  private unitCall(fn: Area3, post: Post, bytes: Uint8Array, what: string): void {
    const g = this.g;
    checkBytes(g, bytes, what);
    if (!g.live || this.rep === 0) g.refuse(what, this.rep === 0);
    let err: PluginCallError | undefined;
    try {
      const p = g.writeBytes(bytes);
      err = takeUnit(g, fn(this.rep, p, bytes.length), post);
    } catch (e) {
      throw g.trap(e, what);
    }
    if (err) throw err;
  }

  /** The observable value, MessagePack. */
  value(): Uint8Array {
    return this.listCall(this.core.value, this.core.postValue, "crdt-state.value");
  }

  /** Self-contained bytes that `fromPersisted` turns back into an equal state. */
  persist(): Uint8Array {
    return this.listCall(this.core.persist, this.core.postPersist, "crdt-state.persist");
  }

  private listCall(fn: Area1, post: Post, what: string): Uint8Array {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse(what, this.rep === 0);
    let r: Uint8Array | PluginCallError;
    try {
      r = takeList(g, fn(this.rep), post);
    } catch (e) {
      throw g.trap(e, what);
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /** Persist without copying out; see `IndexHandle.persistLent` for the rules. */
  persistLent<T>(use: (view: Uint8Array) => T): T {
    return lendPersisted(this.g, this.core.persist, this.core.postPersist, this.rep, "crdt-state.persist", use);
  }

  drop(): void {
    if (this.rep !== 0) dropOwned(this.g, this.table, this.handle, this.core.dtor, "crdt-state drop");
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal */
  release(): void {
    this.rep = 0;
  }
}
