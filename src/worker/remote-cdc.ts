/**
 * `WorkerInstance.cdc`: the CDC surface of a worker-hosted instance, mirroring `CdcClient`/`CdcStream`.
 * The stream calls (`start`, `deliver`, `checkpoint`, `shutdown`) take {@link StreamCallOptions}: the
 * host's sink expectation for the call, and `onEmit` for the emits the worker accepted under it (see
 * `sink.ts` for the contract).
 *
 * @module
 */
import type { ChangeBatch } from "../component/types.ts";
import type { Connection } from "./connection.ts";
import { Op } from "./protocol.ts";
import { invoke, invokeStream } from "./remote.ts";
import type { CallOptions, StreamCallOptions } from "./types.ts";

export class RemoteCdcClient {
  readonly #conn: Connection;

  /** @internal Built by WorkerInstance. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** The output names this component implements. */
  outputs(call?: CallOptions): Promise<string[]> {
    return invoke(this.#conn, Op.CdcOutputs, 0, [], call) as Promise<string[]>;
  }

  /** Starts `output`, resuming at `fromLsn` inclusive (omitted: from the start). */
  async start(output: string, fromLsn?: bigint, call?: StreamCallOptions): Promise<RemoteCdcStream> {
    const id = await invokeStream(this.#conn, Op.CdcStart, 0, [output, fromLsn], call);
    return new RemoteCdcStream(this.#conn, id as number);
  }
}

/** A running CDC output inside the worker's instance. */
export class RemoteCdcStream {
  readonly #conn: Connection;
  readonly #id: number;
  #dropped = false;

  /** @internal Built by RemoteCdcClient. */
  constructor(conn: Connection, id: number) {
    this.#conn = conn;
    this.#id = id;
  }

  get dropped(): boolean {
    return this.#dropped || this.#conn.disposed;
  }

  /** Hands one batch to the output; a fn-error halts the stream with its checkpoint frozen. */
  deliver(batch: ChangeBatch, call?: StreamCallOptions): Promise<void> {
    // Not an object: sent alone, so the worker's in-thread check refuses it with the in-thread message.
    const args =
      typeof batch === "object" && batch !== null
        ? [batch.lsnStart, batch.lsnEnd, batch.mutations, batch.commitMicros]
        : [batch];
    return invokeStream(this.#conn, Op.CdcDeliver, this.#id, args, call) as Promise<void>;
  }

  /** The exclusive LSN bound of what has been durably handed on. */
  checkpoint(call?: StreamCallOptions): Promise<bigint> {
    return invokeStream(this.#conn, Op.CdcCheckpoint, this.#id, [], call) as Promise<bigint>;
  }

  /** Flushes and stops. Only `drop()` may follow. */
  shutdown(call?: StreamCallOptions): Promise<void> {
    return invokeStream(this.#conn, Op.CdcShutdown, this.#id, [], call) as Promise<void>;
  }

  /** Drops the stream (runs the guest destructor). Idempotent; on a dead or disposed instance it only forgets. */
  drop(call?: CallOptions): Promise<void> {
    if (this.#dropped || this.#conn.gone) {
      this.#dropped = true;
      return Promise.resolve();
    }
    this.#dropped = true;
    return invoke(this.#conn, Op.CdcDrop, this.#id, [], call) as Promise<void>;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drop();
  }
}
