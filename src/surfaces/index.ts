/**
 * The `index` surface client: typed, synchronous calls into a component's
 * `uni:plugin/index@1.0.0` core exports, one copy each way. Every call goes
 * through one {@link TypedFunc} bound from `component/abi.ts`.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import { bindSurface, type SurfaceFuncs } from "./typed-func.ts";

type IndexFuncs = SurfaceFuncs<"index">;

/** `instance.index`: the component's index kinds. */
export class IndexClient {
  declare private readonly fns: IndexFuncs;
  declare private readonly table: ResourceTable;

  /** @internal Built by ComponentInstance. */
  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.table = table;
    this.fns = bindSurface(g, exports, "index", table);
  }

  /** The index kinds this component implements (e.g. `vector.flat`). */
  kinds(): string[] {
    return this.fns.kinds.call0() as string[];
  }

  /** Builds an index of `kind` over `source` (Arrow IPC stream bytes). */
  build(kind: string, source: Uint8Array, optionsJson = "{}"): IndexHandle {
    return this.adopt(this.fns.build.call(kind, source, optionsJson) as number);
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
    return this.adopt(this.fns.open.call(kind, persisted) as number);
  }

  private adopt(handle: number): IndexHandle {
    const h = new IndexHandle(this.fns, this.table, handle);
    this.table.own(handle, h);
    return h;
  }
}

/** A live index inside the component. Drop it (or `using` it) when done. */
export class IndexHandle {
  /** The guest's rep; 0 once dropped. */
  declare private rep: number;
  declare private readonly fns: IndexFuncs;
  declare private readonly table: ResourceTable;
  declare private readonly handle: number;

  /** @internal Built by IndexClient. */
  constructor(fns: IndexFuncs, table: ResourceTable, handle: number) {
    this.fns = fns;
    this.table = table;
    this.handle = handle;
    this.rep = table.rep(handle);
  }

  /** Whether the handle has been dropped (by `drop()` or the instance's `dispose()`). */
  get dropped(): boolean {
    return this.rep === 0;
  }

  /** k nearest rows for every query row; Arrow IPC in, Arrow IPC out. */
  probe(query: Uint8Array, k: number): Uint8Array {
    return this.fns["[method]index-handle.probe"].call(this.rep, query, k) as Uint8Array;
  }

  /** `probe` with Arrow tables. */
  probeTable(query: Table, k: number): Table {
    return fromIPC(this.probe(toIPC(query), k));
  }

  supportsFilter(): boolean {
    return this.fns["[method]index-handle.supports-filter"].callSelf(this.rep) as boolean;
  }

  /** Like `probe`, restricted to rows whose bit is set in `mask` (LSB-first bitmap in build order). */
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array): Uint8Array {
    return this.fns["[method]index-handle.probe-filtered"].call(this.rep, query, k, mask) as Uint8Array;
  }

  /** Self-contained bytes that `open` turns back into an equal index (copied out of the guest). */
  persist(): Uint8Array {
    return this.fns["[method]index-handle.persist"].callSelf(this.rep) as Uint8Array;
  }

  /**
   * Persist without copying out: `use` gets a view straight into this
   * instance's memory, valid only during the callback (post-return runs after
   * it). Pass it to another instance's `open` to move the bytes with one memcpy.
   * Do not call into *this* instance from `use`: memory growth would detach the view.
   */
  persistLent<T>(use: (view: Uint8Array) => T): T {
    return this.fns["[method]index-handle.persist"].lend(this.rep, use);
  }

  /** The probe output schema, as an Arrow IPC stream with no batches. */
  schema(): Uint8Array {
    return this.fns["[method]index-handle.schema"].callSelf(this.rep) as Uint8Array;
  }

  /** Drops the handle: runs the guest destructor. Idempotent; after dispose/poison it only forgets the handle. */
  drop(): void {
    if (this.rep !== 0) this.fns["[dtor]index-handle"].dropHandle(this.table, this.handle);
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal The table forgot the handle (drop, dispose or guest `[resource-drop]`). */
  release(): void {
    this.rep = 0;
  }
}
