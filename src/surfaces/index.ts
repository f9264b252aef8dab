/**
 * The `index` surface client: typed, synchronous calls into a component's
 * `uni:plugin/index@1.0.0` core exports, one copy each way.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import { interfaceName } from "../component/abi.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import { PluginCallError } from "../errors.ts";
import {
  checkBytes,
  lendPersisted,
  checkString,
  checkU32,
  coreFn,
  dropOwned,
  type Post,
  postFn,
  takeHandle,
  takeList,
  takePlainList,
  listNames,
} from "./lift.ts";

type Area0 = () => number;
type Area1 = (a: number) => number;
type Area4 = (a: number, b: number, c: number, d: number) => number;
type Area6 = (a: number, b: number, c: number, d: number, e: number, f: number) => number;

/** The raw core functions of the index surface, bound once per instance. */
class IndexCore {
  declare readonly kinds: Area0;
  declare readonly build: Area6;
  declare readonly open: Area4;
  declare readonly probe: Area4;
  declare readonly supportsFilter: Area1;
  declare readonly probeFiltered: Area6;
  declare readonly persist: Area1;
  declare readonly schema: Area1;
  declare readonly dtor: (rep: number) => void;
  declare readonly postKinds: Post;
  declare readonly postBuild: Post;
  declare readonly postOpen: Post;
  declare readonly postProbe: Post;
  declare readonly postProbeFiltered: Post;
  declare readonly postPersist: Post;
  declare readonly postSchema: Post;

  constructor(x: WebAssembly.Exports) {
    const i = `${interfaceName("index")}#`;
    this.kinds = coreFn(x, `${i}kinds`);
    this.build = coreFn(x, `${i}build`);
    this.open = coreFn(x, `${i}open`);
    this.probe = coreFn(x, `${i}[method]index-handle.probe`);
    this.supportsFilter = coreFn(x, `${i}[method]index-handle.supports-filter`);
    this.probeFiltered = coreFn(x, `${i}[method]index-handle.probe-filtered`);
    this.persist = coreFn(x, `${i}[method]index-handle.persist`);
    this.schema = coreFn(x, `${i}[method]index-handle.schema`);
    this.dtor = coreFn(x, `${i}[dtor]index-handle`);
    this.postKinds = postFn(x, `${i}kinds`);
    this.postBuild = postFn(x, `${i}build`);
    this.postOpen = postFn(x, `${i}open`);
    this.postProbe = postFn(x, `${i}[method]index-handle.probe`);
    this.postProbeFiltered = postFn(x, `${i}[method]index-handle.probe-filtered`);
    this.postPersist = postFn(x, `${i}[method]index-handle.persist`);
    this.postSchema = postFn(x, `${i}[method]index-handle.schema`);
  }
}

/** `instance.index`: the component's index kinds. */
export class IndexClient {
  /** @internal */
  declare readonly core: IndexCore;

  /** @internal Built by ComponentInstance. */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;

  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.g = g;
    this.table = table;
    this.core = new IndexCore(exports);
  }

  /** The index kinds this component implements (e.g. `vector.flat`). */
  kinds(): string[] {
    return listNames(this.g, this.core.kinds, this.core.postKinds, "index.kinds");
  }

  /** Builds an index of `kind` over `source` (Arrow IPC stream bytes). */
  build(kind: string, source: Uint8Array, optionsJson = "{}"): IndexHandle {
    const g = this.g;
    const kindBytes = g.encode(checkString(g, kind, "index.build kind"));
    checkBytes(g, source, "index.build source");
    const optionBytes = g.encode(checkString(g, optionsJson, "index.build optionsJson"));
    if (!g.live) g.refuse("index.build");
    let r: number | PluginCallError;
    try {
      const kp = g.writeBytes(kindBytes);
      const sp = g.writeBytes(source);
      const op = g.writeBytes(optionBytes);
      const area = this.core.build(kp, kindBytes.length, sp, source.length, op, optionBytes.length);
      r = takeHandle(g, this.table, area, this.core.postBuild);
    } catch (e) {
      throw g.trap(e, "index.build");
    }
    if (r instanceof PluginCallError) throw r;
    return this.adopt(r);
  }

  /** `build` from an Arrow table, options as an object (serialised to JSON). */
  buildTable(kind: string, source: Table, options: Record<string, unknown> = {}): IndexHandle {
    return this.build(kind, toIPC(source), JSON.stringify(options));
  }

  /**
   * Reopens persisted bytes. `persisted` may be a lent view into another
   * instance's memory (see `IndexHandle.persistLent`): it is copied once, straight in.
   */
  open(kind: string, persisted: Uint8Array): IndexHandle {
    const g = this.g;
    const kindBytes = g.encode(checkString(g, kind, "index.open kind"));
    checkBytes(g, persisted, "index.open persisted");
    if (!g.live) g.refuse("index.open");
    let r: number | PluginCallError;
    try {
      const kp = g.writeBytes(kindBytes);
      const pp = g.writeBytes(persisted);
      const area = this.core.open(kp, kindBytes.length, pp, persisted.length);
      r = takeHandle(g, this.table, area, this.core.postOpen);
    } catch (e) {
      throw g.trap(e, "index.open");
    }
    if (r instanceof PluginCallError) throw r;
    return this.adopt(r);
  }

  private adopt(handle: number): IndexHandle {
    const h = new IndexHandle(this.g, this.table, this.core, handle, this.table.rep(handle));
    this.table.own(handle, h);
    return h;
  }
}

/** A live index inside the component. Drop it (or `using` it) when done. */
export class IndexHandle {
  /** 0 once dropped. */
  declare private rep: number;

  /** @internal */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;
  declare private readonly core: IndexCore;
  declare private readonly handle: number;

  constructor(g: Guest, table: ResourceTable, core: IndexCore, handle: number, rep: number) {
    this.g = g;
    this.table = table;
    this.core = core;
    this.handle = handle;
    this.rep = rep;
  }

  /** Whether the handle has been dropped (by `drop()` or the instance's `dispose()`). */
  get dropped(): boolean {
    return this.rep === 0;
  }

  /** k nearest rows for every query row; Arrow IPC in, Arrow IPC out. */
  probe(query: Uint8Array, k: number): Uint8Array {
    const g = this.g;
    checkBytes(g, query, "index-handle.probe query");
    checkU32(g, k, "index-handle.probe k");
    if (!g.live || this.rep === 0) g.refuse("index-handle.probe", this.rep === 0);
    let r: Uint8Array | PluginCallError;
    try {
      const qp = g.writeBytes(query);
      r = takeList(g, this.core.probe(this.rep, qp, query.length, k), this.core.postProbe);
    } catch (e) {
      throw g.trap(e, "index-handle.probe");
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /** `probe` with Arrow tables. */
  probeTable(query: Table, k: number): Table {
    return fromIPC(this.probe(toIPC(query), k));
  }

  supportsFilter(): boolean {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse("index-handle.supports-filter", this.rep === 0);
    try {
      return this.core.supportsFilter(this.rep) !== 0;
    } catch (e) {
      throw g.trap(e, "index-handle.supports-filter");
    }
  }

  /** Like `probe`, restricted to rows whose bit is set in `mask` (LSB-first bitmap in build order). */
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array): Uint8Array {
    const g = this.g;
    checkBytes(g, query, "index-handle.probe-filtered query");
    checkU32(g, k, "index-handle.probe-filtered k");
    checkBytes(g, mask, "index-handle.probe-filtered mask");
    if (!g.live || this.rep === 0) g.refuse("index-handle.probe-filtered", this.rep === 0);
    let r: Uint8Array | PluginCallError;
    try {
      const qp = g.writeBytes(query);
      const mp = g.writeBytes(mask);
      const area = this.core.probeFiltered(this.rep, qp, query.length, k, mp, mask.length);
      r = takeList(g, area, this.core.postProbeFiltered);
    } catch (e) {
      throw g.trap(e, "index-handle.probe-filtered");
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /** Self-contained bytes that `open` turns back into an equal index (copied out of the guest). */
  persist(): Uint8Array {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse("index-handle.persist", this.rep === 0);
    let r: Uint8Array | PluginCallError;
    try {
      r = takeList(g, this.core.persist(this.rep), this.core.postPersist);
    } catch (e) {
      throw g.trap(e, "index-handle.persist");
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /**
   * Persist without copying out: `use` gets a view straight into this
   * instance's memory, valid only during the callback (post-return runs after
   * it). Pass it to another instance's `open` to move the bytes with one memcpy.
   * Do not call into *this* instance from `use`: memory growth would detach the view.
   */
  persistLent<T>(use: (view: Uint8Array) => T): T {
    return lendPersisted(this.g, this.core.persist, this.core.postPersist, this.rep, "index-handle.persist", use);
  }

  /** The probe output schema, as an Arrow IPC stream with no batches. */
  schema(): Uint8Array {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse("index-handle.schema", this.rep === 0);
    try {
      return takePlainList(g, this.core.schema(this.rep), this.core.postSchema);
    } catch (e) {
      throw g.trap(e, "index-handle.schema");
    }
  }

  /** Drops the handle: runs the guest destructor. Idempotent; after dispose/poison it only forgets the handle. */
  drop(): void {
    if (this.rep !== 0) dropOwned(this.g, this.table, this.handle, this.core.dtor, "index-handle drop");
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal The table forgot the handle (drop, dispose or guest `[resource-drop]`). */
  release(): void {
    this.rep = 0;
  }
}
