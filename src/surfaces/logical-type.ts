/**
 * The `logical-type` surface client: Arrow extension types. Every column
 * crosses as Arrow IPC with a single field. Every call goes through one
 * {@link TypedFunc} bound from `component/abi.ts`.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import type { Guest } from "../component/guest.ts";
import { bindSurface, type SurfaceFuncs } from "./typed-func.ts";

/** `instance.logicalType`: the component's logical (extension) types. */
export class LogicalTypeClient {
  declare private readonly fns: SurfaceFuncs<"logical-type">;

  /** @internal Built by ComponentInstance. */
  constructor(g: Guest, exports: WebAssembly.Exports) {
    this.fns = bindSurface(g, exports, "logical-type");
  }

  names(): string[] {
    return this.fns.names.call0() as string[];
  }

  /** The storage type, as apache-arrow's `DataType.toString()`. */
  arrowType(name: string): string {
    return this.fns["arrow-type"].call(name) as string;
  }

  encodingVersion(name: string): string {
    return this.fns["encoding-version"].call(name) as string;
  }

  /** Parses a Utf8 column of literals (Arrow IPC) into a storage column. */
  fromLiteral(name: string, literals: Uint8Array): Uint8Array {
    return this.fns["from-literal"].call(name, literals) as Uint8Array;
  }

  /** Renders a storage column as a Utf8 column. */
  toDisplay(name: string, column: Uint8Array): Uint8Array {
    return this.fns["to-display"].call(name, column) as Uint8Array;
  }

  /** Casts a column of another type into validated storage. */
  castFrom(name: string, column: Uint8Array): Uint8Array {
    return this.fns["cast-from"].call(name, column) as Uint8Array;
  }

  /** Casts a storage column to `target` (a DataType string, e.g. `Utf8`). */
  castTo(name: string, column: Uint8Array, target: string): Uint8Array {
    return this.fns["cast-to"].call(name, column, target) as Uint8Array;
  }

  // Arrow-typed conveniences.
  fromLiteralTable(name: string, literals: Table): Table {
    return fromIPC(this.fromLiteral(name, toIPC(literals)));
  }
  toDisplayTable(name: string, column: Table): Table {
    return fromIPC(this.toDisplay(name, toIPC(column)));
  }
  castToTable(name: string, column: Table, target: string): Table {
    return fromIPC(this.castTo(name, toIPC(column), target));
  }
  castFromTable(name: string, column: Table): Table {
    return fromIPC(this.castFrom(name, toIPC(column)));
  }
}
