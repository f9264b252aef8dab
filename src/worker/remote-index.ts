/**
 * `WorkerInstance.index`: the index surface of a worker-hosted instance. Same methods, names and
 * argument order as `IndexClient`/`IndexHandle`, each taking optional {@link CallOptions} last and
 * returning a Promise. `persistLent` (a callback on guest memory) cannot cross threads; its remote
 * form is {@link RemoteIndexHandle.persistShared}.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import type { Connection } from "./connection.ts";
import { Op } from "./protocol.ts";
import { invoke } from "./remote.ts";
import type { CallOptions } from "./types.ts";

export class RemoteIndexClient {
  readonly #conn: Connection;

  /** @internal Built by WorkerInstance. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  /** The index kinds this component implements. */
  kinds(call?: CallOptions): Promise<string[]> {
    return invoke(this.#conn, Op.IndexKinds, 0, [], call) as Promise<string[]>;
  }

  /** Builds an index of `kind` over `source` (Arrow IPC stream bytes). */
  async build(kind: string, source: Uint8Array, optionsJson?: string, call?: CallOptions): Promise<RemoteIndexHandle> {
    const id = await invoke(this.#conn, Op.IndexBuild, 0, [kind, source, optionsJson], call);
    return new RemoteIndexHandle(this.#conn, id as number);
  }

  /** `build` from an Arrow table, options as an object (serialised to JSON). */
  async buildTable(
    kind: string,
    source: Table,
    options: Record<string, unknown> = {},
    call?: CallOptions,
  ): Promise<RemoteIndexHandle> {
    return await this.build(kind, toIPC(source), JSON.stringify(options), call);
  }

  /**
   * Reopens persisted bytes. Bytes over a `SharedArrayBuffer` (from `persistShared`, here or in
   * another worker) are shared with the worker, never copied by main; others are copied once.
   */
  async open(kind: string, persisted: Uint8Array, call?: CallOptions): Promise<RemoteIndexHandle> {
    const id = await invoke(this.#conn, Op.IndexOpen, 0, [kind, persisted], call);
    return new RemoteIndexHandle(this.#conn, id as number);
  }
}

/** A live index inside the worker's instance. Drop it when done. */
export class RemoteIndexHandle {
  readonly #conn: Connection;
  readonly #id: number;
  #dropped = false;

  /** @internal Built by RemoteIndexClient. */
  constructor(conn: Connection, id: number) {
    this.#conn = conn;
    this.#id = id;
  }

  /** Whether `drop()` was called or the instance disposed (a guest dropping its own handle is not seen here). */
  get dropped(): boolean {
    return this.#dropped || this.#conn.disposed;
  }

  /** k nearest rows for every query row; Arrow IPC in, Arrow IPC out. */
  probe(query: Uint8Array, k: number, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.IndexProbe, this.#id, [query, k], call) as Promise<Uint8Array>;
  }

  /** `probe` with Arrow tables. */
  async probeTable(query: Table, k: number, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.probe(toIPC(query), k, call));
  }

  supportsFilter(call?: CallOptions): Promise<boolean> {
    return invoke(this.#conn, Op.IndexSupportsFilter, this.#id, [], call) as Promise<boolean>;
  }

  /** Like `probe`, restricted to rows whose bit is set in `mask`. */
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.IndexProbeFiltered, this.#id, [query, k, mask], call) as Promise<Uint8Array>;
  }

  /** Self-contained bytes that `open` turns back into an equal index (a private copy for main). */
  persist(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.IndexPersist, this.#id, [], call) as Promise<Uint8Array>;
  }

  /**
   * Persisted bytes in memory main never copies: the worker copies them once out of guest memory into
   * a `SharedArrayBuffer` (an `ArrayBuffer` moved to main where shared memory is unavailable). Keep it
   * as a snapshot; another instance's `open` (worker or in-thread) takes it without a copy through main.
   */
  persistShared(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.IndexPersistShared, this.#id, [], call) as Promise<Uint8Array>;
  }

  /** The probe output schema, as an Arrow IPC stream with no batches. */
  schema(call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.IndexSchema, this.#id, [], call) as Promise<Uint8Array>;
  }

  /** Drops the handle (runs the guest destructor). Idempotent; on a dead or disposed instance it only forgets. */
  drop(call?: CallOptions): Promise<void> {
    if (this.#dropped || this.#conn.gone) {
      this.#dropped = true;
      return Promise.resolve();
    }
    this.#dropped = true;
    return invoke(this.#conn, Op.IndexDrop, this.#id, [], call) as Promise<void>;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drop();
  }
}
