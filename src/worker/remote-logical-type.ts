/**
 * `WorkerInstance.logicalType`: the logical-type surface of a worker-hosted instance, mirroring
 * `LogicalTypeClient` (columns cross as Arrow IPC with a single field).
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import type { Connection } from "./connection.ts";
import { Op } from "./protocol.ts";
import { invoke } from "./remote.ts";
import type { CallOptions } from "./types.ts";

export class RemoteLogicalTypeClient {
  readonly #conn: Connection;

  /** @internal Built by WorkerInstance. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  names(call?: CallOptions): Promise<string[]> {
    return invoke(this.#conn, Op.TypeNames, 0, [], call) as Promise<string[]>;
  }

  /** The storage type, as apache-arrow's `DataType.toString()`. */
  arrowType(name: string, call?: CallOptions): Promise<string> {
    return invoke(this.#conn, Op.TypeArrowType, 0, [name], call) as Promise<string>;
  }

  encodingVersion(name: string, call?: CallOptions): Promise<string> {
    return invoke(this.#conn, Op.TypeEncodingVersion, 0, [name], call) as Promise<string>;
  }

  /** Parses a Utf8 column of literals (Arrow IPC) into a storage column. */
  fromLiteral(name: string, literals: Uint8Array, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.TypeFromLiteral, 0, [name, literals], call) as Promise<Uint8Array>;
  }

  /** Renders a storage column as a Utf8 column. */
  toDisplay(name: string, column: Uint8Array, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.TypeToDisplay, 0, [name, column], call) as Promise<Uint8Array>;
  }

  /** Casts a column of another type into validated storage. */
  castFrom(name: string, column: Uint8Array, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.TypeCastFrom, 0, [name, column], call) as Promise<Uint8Array>;
  }

  /** Casts a storage column to `target` (a DataType string, e.g. `Utf8`). */
  castTo(name: string, column: Uint8Array, target: string, call?: CallOptions): Promise<Uint8Array> {
    return invoke(this.#conn, Op.TypeCastTo, 0, [name, column, target], call) as Promise<Uint8Array>;
  }

  // Arrow-typed conveniences.
  async fromLiteralTable(name: string, literals: Table, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.fromLiteral(name, toIPC(literals), call));
  }
  async toDisplayTable(name: string, column: Table, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.toDisplay(name, toIPC(column), call));
  }
  async castToTable(name: string, column: Table, target: string, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.castTo(name, toIPC(column), target, call));
  }
  async castFromTable(name: string, column: Table, call?: CallOptions): Promise<Table> {
    return fromIPC(await this.castFrom(name, toIPC(column), call));
  }
}
