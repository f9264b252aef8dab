/**
 * The `logical-type` surface client: Arrow extension types. Every column
 * crosses as Arrow IPC with a single field.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import { interfaceName } from "../component/abi.ts";
import type { Guest } from "../component/guest.ts";
import { PluginCallError } from "../errors.ts";
import { checkBytes, checkString, coreFn, type Post, postFn, listNames, takeList, takeString } from "./lift.ts";

type Area2 = (a: number, b: number) => number;
type Area4 = (a: number, b: number, c: number, d: number) => number;
type Area6 = (a: number, b: number, c: number, d: number, e: number, f: number) => number;

class LogicalTypeCore {
  declare readonly names: () => number;
  declare readonly arrowType: Area2;
  declare readonly encodingVersion: Area2;
  declare readonly fromLiteral: Area4;
  declare readonly toDisplay: Area4;
  declare readonly castTo: Area6;
  declare readonly castFrom: Area4;
  declare readonly postNames: Post;
  declare readonly postArrowType: Post;
  declare readonly postEncodingVersion: Post;
  declare readonly postFromLiteral: Post;
  declare readonly postToDisplay: Post;
  declare readonly postCastTo: Post;
  declare readonly postCastFrom: Post;

  constructor(x: WebAssembly.Exports) {
    const i = `${interfaceName("logical-type")}#`;
    this.names = coreFn(x, `${i}names`);
    this.arrowType = coreFn(x, `${i}arrow-type`);
    this.encodingVersion = coreFn(x, `${i}encoding-version`);
    this.fromLiteral = coreFn(x, `${i}from-literal`);
    this.toDisplay = coreFn(x, `${i}to-display`);
    this.castTo = coreFn(x, `${i}cast-to`);
    this.castFrom = coreFn(x, `${i}cast-from`);
    this.postNames = postFn(x, `${i}names`);
    this.postArrowType = postFn(x, `${i}arrow-type`);
    this.postEncodingVersion = postFn(x, `${i}encoding-version`);
    this.postFromLiteral = postFn(x, `${i}from-literal`);
    this.postToDisplay = postFn(x, `${i}to-display`);
    this.postCastTo = postFn(x, `${i}cast-to`);
    this.postCastFrom = postFn(x, `${i}cast-from`);
  }
}

/** `instance.logicalType`: the component's logical (extension) types. */
export class LogicalTypeClient {
  /** @internal */
  declare readonly core: LogicalTypeCore;

  /** @internal Built by ComponentInstance. */
  declare private readonly g: Guest;

  constructor(g: Guest, exports: WebAssembly.Exports) {
    this.g = g;
    this.core = new LogicalTypeCore(exports);
  }

  names(): string[] {
    return listNames(this.g, this.core.names, this.core.postNames, "logical-type.names");
  }

  /** The storage type, as apache-arrow's `DataType.toString()`. */
  arrowType(name: string): string {
    return this.stringCall(this.core.arrowType, this.core.postArrowType, name, "logical-type.arrow-type");
  }

  encodingVersion(name: string): string {
    return this.stringCall(
      this.core.encodingVersion,
      this.core.postEncodingVersion,
      name,
      "logical-type.encoding-version",
    );
  }

  private stringCall(fn: Area2, post: Post, name: string, what: string): string {
    const g = this.g;
    const n = g.encode(checkString(g, name, `${what} name`));
    if (!g.live) g.refuse(what);
    let r: string | PluginCallError;
    try {
      const np = g.writeBytes(n);
      r = takeString(g, fn(np, n.length), post);
    } catch (e) {
      throw g.trap(e, what);
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /** Parses a Utf8 column of literals (Arrow IPC) into a storage column. */
  fromLiteral(name: string, literals: Uint8Array): Uint8Array {
    return this.columnCall(
      this.core.fromLiteral,
      this.core.postFromLiteral,
      name,
      literals,
      "logical-type.from-literal",
    );
  }

  /** Renders a storage column as a Utf8 column. */
  toDisplay(name: string, column: Uint8Array): Uint8Array {
    return this.columnCall(this.core.toDisplay, this.core.postToDisplay, name, column, "logical-type.to-display");
  }

  /** Casts a column of another type into validated storage. */
  castFrom(name: string, column: Uint8Array): Uint8Array {
    return this.columnCall(this.core.castFrom, this.core.postCastFrom, name, column, "logical-type.cast-from");
  }

  private columnCall(fn: Area4, post: Post, name: string, column: Uint8Array, what: string): Uint8Array {
    const g = this.g;
    const n = g.encode(checkString(g, name, `${what} name`));
    checkBytes(g, column, `${what} column`);
    if (!g.live) g.refuse(what);
    let r: Uint8Array | PluginCallError;
    try {
      const np = g.writeBytes(n);
      const cp = g.writeBytes(column);
      r = takeList(g, fn(np, n.length, cp, column.length), post);
    } catch (e) {
      throw g.trap(e, what);
    }
    if (r instanceof PluginCallError) throw r;
    return r;
  }

  /** Casts a storage column to `target` (a DataType string, e.g. `Utf8`). */
  castTo(name: string, column: Uint8Array, target: string): Uint8Array {
    const g = this.g;
    const what = "logical-type.cast-to";
    const n = g.encode(checkString(g, name, `${what} name`));
    checkBytes(g, column, `${what} column`);
    const t = g.encode(checkString(g, target, `${what} target`));
    if (!g.live) g.refuse(what);
    let r: Uint8Array | PluginCallError;
    try {
      const np = g.writeBytes(n);
      const cp = g.writeBytes(column);
      const tp = g.writeBytes(t);
      r = takeList(g, this.core.castTo(np, n.length, cp, column.length, tp, t.length), this.core.postCastTo);
    } catch (e) {
      throw g.trap(e, what);
    }
    if (r instanceof PluginCallError) throw r;
    return r;
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
