/**
 * The `cdc` surface client: outputs, and streams resumable at an LSN.
 * LSNs are u64 `bigint`s; `checkpoint()` is the exclusive bound of what was
 * durably handed on, `start(output, checkpoint)` resumes inclusively.
 * Every call goes through one {@link TypedFunc} bound from `component/abi.ts`.
 *
 * @module
 */
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import type { ChangeBatch } from "../component/types.ts";
import { ErrorCode, PluginError } from "../errors.ts";
import { bindSurface, type SurfaceFuncs } from "./typed-func.ts";

type CdcFuncs = SurfaceFuncs<"cdc">;

/** `instance.cdc`: the component's CDC outputs. */
export class CdcClient {
  declare private readonly fns: CdcFuncs;
  declare private readonly table: ResourceTable;

  /** @internal Built by ComponentInstance. */
  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.table = table;
    this.fns = bindSurface(g, exports, "cdc", table);
  }

  /** The output names this component implements (e.g. `changelog`). */
  outputs(): string[] {
    return this.fns.outputs.call0() as string[];
  }

  /** Starts `output`, resuming at `fromLsn` inclusive (omitted: from the start). */
  start(output: string, fromLsn?: bigint): CdcStream {
    const handle = this.fns.start.call(output, fromLsn) as number;
    const stream = new CdcStream(this.fns, this.table, handle);
    this.table.own(handle, stream);
    return stream;
  }
}

/** A running CDC output. */
export class CdcStream {
  /** The guest's rep; 0 once dropped. */
  declare private rep: number;
  declare private readonly fns: CdcFuncs;
  declare private readonly table: ResourceTable;
  declare private readonly handle: number;

  /** @internal Built by CdcClient. */
  constructor(fns: CdcFuncs, table: ResourceTable, handle: number) {
    this.fns = fns;
    this.table = table;
    this.handle = handle;
    this.rep = table.rep(handle);
  }

  get dropped(): boolean {
    return this.rep === 0;
  }

  /** Hands one batch to the output; a fn-error halts the stream with its checkpoint frozen. */
  deliver(batch: ChangeBatch): void {
    const deliver = this.fns["[method]cdc-stream.deliver"];
    if (typeof batch !== "object" || batch === null) {
      throw new PluginError(ErrorCode.TypeCoercion, `${deliver.what}: expected a change batch object`);
    }
    deliver.call(this.rep, batch.lsnStart, batch.lsnEnd, batch.mutations, batch.commitMicros);
  }

  /** The exclusive LSN bound of what has been durably handed on. */
  checkpoint(): bigint {
    return this.fns["[method]cdc-stream.checkpoint"].callSelf(this.rep) as bigint;
  }

  /** Flushes and stops. Only `drop()` may follow. */
  shutdown(): void {
    this.fns["[method]cdc-stream.shutdown"].callSelf(this.rep);
  }

  drop(): void {
    if (this.rep !== 0) this.fns["[dtor]cdc-stream"].dropHandle(this.table, this.handle);
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal The table forgot the handle. */
  release(): void {
    this.rep = 0;
  }
}
