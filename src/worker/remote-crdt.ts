/**
 * `WorkerInstance.crdt`: the CRDT surface of a worker-hosted instance, mirroring `CrdtClient`/`CrdtState`.
 * `persistLent` cannot cross threads; its remote form is {@link RemoteCrdtState.persistShared}.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { Op } from "./protocol.ts";
import { invoke } from "./remote.ts";
import type { CallOptions } from "./types.ts";

export class RemoteCrdtClient {
  readonly #conn: Connection;

  /** @internal Built by WorkerInstance. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  kinds(call?: CallOptions): Promise<string[]> {
    return invoke(this.#conn, Op.CrdtKinds, 0, [], call) as Promise<string[]>;
  }

  async empty(kind: string, call?: CallOptions): Promise<RemoteCrdtState> {
    const id = await invoke(this.#conn, Op.CrdtEmpty, 0, [kind], call);
    return new RemoteCrdtState(this.#conn, id as number);
  }

  /** Reopens persisted bytes; shared bytes (`persistShared`) are shared with the worker, not copied by main. */
  async fromPersisted(kind: string, persisted: Uint8Array, call?: CallOptions): Promise<RemoteCrdtState> {
    const id = await invoke(this.#conn, Op.CrdtFromPersisted, 0, [kind, persisted], call);
    return new RemoteCrdtState(this.#conn, id as number);
  }
}

/** One CRDT state inside the worker's instance. */
export class RemoteCrdtState {
  readonly #conn: Connection;
  readonly #id: number;
  #dropped = false;

  /** @internal Built by RemoteCrdtClient. */
  constructor(conn: Connection, id: number) {
    this.#conn = conn;
    this.#id = id;
  }

  get dropped(): boolean {
    return this.#dropped || this.#conn.disposed;
  }

  /** Applies one local operation (MessagePack). */
  apply(op: Uint8Array, call?: CallOptions): Promise<void> {
    return invoke(this.#conn, Op.CrdtApply, this.#id, [op], call) as Promise<void>;
  }

  /** Merges another state of the same kind, given as its persisted bytes (shared bytes are not copied by main). */
  merge(otherPersisted: Uint8Array, call?: CallOptions): Promise<void> {
    return invoke(this.#conn, Op.CrdtMerge, this.#id, [otherPersisted], call) as Promise<void>;
  }

  /** The observable value, MessagePack. */
  value(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.CrdtValue, this.#id, [], call) as Promise<Uint8Array>;
  }

  /** Self-contained bytes that `fromPersisted` turns back into an equal state. */
  persist(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.CrdtPersist, this.#id, [], call) as Promise<Uint8Array>;
  }

  /** Persisted bytes in memory main never copies; see `RemoteIndexHandle.persistShared`. */
  persistShared(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.CrdtPersistShared, this.#id, [], call) as Promise<Uint8Array>;
  }

  /** Drops the state (runs the guest destructor). Idempotent; on a dead or disposed instance it only forgets. */
  drop(call?: CallOptions): Promise<void> {
    if (this.#dropped || this.#conn.gone) {
      this.#dropped = true;
      return Promise.resolve();
    }
    this.#dropped = true;
    return invoke(this.#conn, Op.CrdtDrop, this.#id, [], call) as Promise<void>;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drop();
  }
}
