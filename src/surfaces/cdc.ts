/**
 * The `cdc` surface client: outputs, and streams resumable at an LSN.
 * LSNs are u64 `bigint`s; `checkpoint()` is the exclusive bound of what was
 * durably handed on, `start(output, checkpoint)` resumes inclusively.
 *
 * @module
 */
import { interfaceName } from "../component/abi.ts";
import type { Guest } from "../component/guest.ts";
import type { ResourceTable } from "../component/resources.ts";
import type { ChangeBatch } from "../component/types.ts";
import { ErrorCode, PluginCallError, PluginError } from "../errors.ts";
import {
  checkBytes,
  checkS64,
  checkString,
  checkU64,
  coreFn,
  dropOwned,
  type Post,
  postFn,
  takeHandle,
  listNames,
  takeUnit,
} from "./lift.ts";

type Area1 = (a: number) => number;

class CdcCore {
  declare readonly outputs: () => number;
  declare readonly start: (p: number, l: number, some: number, lsn: bigint) => number;
  declare readonly deliver: (rep: number, s: bigint, e: bigint, p: number, l: number, micros: bigint) => number;
  declare readonly checkpoint: Area1;
  declare readonly shutdown: Area1;
  declare readonly dtor: (rep: number) => void;
  declare readonly postOutputs: Post;
  declare readonly postStart: Post;
  declare readonly postDeliver: Post;
  declare readonly postCheckpoint: Post;
  declare readonly postShutdown: Post;

  constructor(x: WebAssembly.Exports) {
    const i = `${interfaceName("cdc")}#`;
    this.outputs = coreFn(x, `${i}outputs`);
    this.start = coreFn(x, `${i}start`);
    this.deliver = coreFn(x, `${i}[method]cdc-stream.deliver`);
    this.checkpoint = coreFn(x, `${i}[method]cdc-stream.checkpoint`);
    this.shutdown = coreFn(x, `${i}[method]cdc-stream.shutdown`);
    this.dtor = coreFn(x, `${i}[dtor]cdc-stream`);
    this.postOutputs = postFn(x, `${i}outputs`);
    this.postStart = postFn(x, `${i}start`);
    this.postDeliver = postFn(x, `${i}[method]cdc-stream.deliver`);
    this.postCheckpoint = postFn(x, `${i}[method]cdc-stream.checkpoint`);
    this.postShutdown = postFn(x, `${i}[method]cdc-stream.shutdown`);
  }
}

/** `instance.cdc`: the component's CDC outputs. */
export class CdcClient {
  /** @internal */
  declare readonly core: CdcCore;

  /** @internal Built by ComponentInstance. */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;

  constructor(g: Guest, table: ResourceTable, exports: WebAssembly.Exports) {
    this.g = g;
    this.table = table;
    this.core = new CdcCore(exports);
  }

  /** The output names this component implements (e.g. `changelog`). */
  outputs(): string[] {
    return listNames(this.g, this.core.outputs, this.core.postOutputs, "cdc.outputs");
  }

  /** Starts `output`, resuming at `fromLsn` inclusive (omitted: from the start). */
  start(output: string, fromLsn?: bigint): CdcStream {
    const g = this.g;
    const name = g.encode(checkString(g, output, "cdc.start output"));
    const lsn = fromLsn === undefined ? 0n : checkU64(g, fromLsn, "cdc.start fromLsn");
    if (!g.live) g.refuse("cdc.start");
    let r: number | PluginCallError;
    try {
      const np = g.writeBytes(name);
      r = takeHandle(
        g,
        this.table,
        this.core.start(np, name.length, fromLsn === undefined ? 0 : 1, lsn),
        this.core.postStart,
      );
    } catch (e) {
      throw g.trap(e, "cdc.start");
    }
    if (r instanceof PluginCallError) throw r;
    const stream = new CdcStream(g, this.table, this.core, r, this.table.rep(r));
    this.table.own(r, stream);
    return stream;
  }
}

/** A running CDC output. */
export class CdcStream {
  declare private rep: number;

  /** @internal */
  declare private readonly g: Guest;
  declare private readonly table: ResourceTable;
  declare private readonly core: CdcCore;
  declare private readonly handle: number;

  constructor(g: Guest, table: ResourceTable, core: CdcCore, handle: number, rep: number) {
    this.g = g;
    this.table = table;
    this.core = core;
    this.handle = handle;
    this.rep = rep;
  }

  get dropped(): boolean {
    return this.rep === 0;
  }

  /** Hands one batch to the output; a fn-error halts the stream with its checkpoint frozen. */
  deliver(batch: ChangeBatch): void {
    const g = this.g;
    if (typeof batch !== "object" || batch === null) {
      throw new PluginError(ErrorCode.TypeCoercion, "cdc-stream.deliver: expected a change batch object", {
        pluginId: g.pluginId,
      });
    }
    const start = checkU64(g, batch.lsnStart, "cdc-stream.deliver lsnStart");
    const end = checkU64(g, batch.lsnEnd, "cdc-stream.deliver lsnEnd");
    const mutations = checkBytes(g, batch.mutations, "cdc-stream.deliver mutations");
    const micros = checkS64(g, batch.commitMicros, "cdc-stream.deliver commitMicros");
    if (!g.live || this.rep === 0) g.refuse("cdc-stream.deliver", this.rep === 0);
    let err: PluginCallError | undefined;
    try {
      const mp = g.writeBytes(mutations);
      err = takeUnit(g, this.core.deliver(this.rep, start, end, mp, mutations.length, micros), this.core.postDeliver);
    } catch (e) {
      throw g.trap(e, "cdc-stream.deliver");
    }
    if (err) throw err;
  }

  /** The exclusive LSN bound of what has been durably handed on. */
  checkpoint(): bigint {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse("cdc-stream.checkpoint", this.rep === 0);
    let err: PluginCallError | undefined;
    let lsn = 0n;
    try {
      const area = this.core.checkpoint(this.rep);
      // result<u64, fn-error>: 24 bytes, align 8; the payload starts at 8.
      err = g.resultError(area, 8);
      if (!err) lsn = g.view().getBigUint64(area + 8, true);
      this.core.postCheckpoint(area);
    } catch (e) {
      throw g.trap(e, "cdc-stream.checkpoint");
    }
    if (err) throw err;
    return lsn;
  }

  /** Flushes and stops. Only `drop()` may follow. */
  shutdown(): void {
    const g = this.g;
    if (!g.live || this.rep === 0) g.refuse("cdc-stream.shutdown", this.rep === 0);
    let err: PluginCallError | undefined;
    try {
      err = takeUnit(g, this.core.shutdown(this.rep), this.core.postShutdown);
    } catch (e) {
      throw g.trap(e, "cdc-stream.shutdown");
    }
    if (err) throw err;
  }

  drop(): void {
    if (this.rep !== 0) dropOwned(this.g, this.table, this.handle, this.core.dtor, "cdc-stream drop");
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** @internal */
  release(): void {
    this.rep = 0;
  }
}
