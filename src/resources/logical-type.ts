/**
 * Logical types (Arrow extension types) as the host uses them: columns in and
 * out as apache-arrow tables, every call through the plugin's gate so reloads
 * queue rather than fail it. The host remembers a few literals it has seen per
 * type, so a reload can check the new version on real values, not made-up ones.
 *
 * @module
 */
import { Table, Utf8, vectorFromArray } from "apache-arrow";
import { type ArrowInput, fromIPC, ipcOf, toIPC } from "../arrow.ts";
import { ErrorCode, PluginError } from "../errors.ts";
import { declared } from "../manifest.ts";
import type { LogicalTypeClientLike } from "./clients.ts";
import { incompatible } from "./compat.ts";
import type { PluginEntry } from "./entry.ts";
import { through } from "./entry.ts";
import { checkOnly, type Handoff, type HandoffContext } from "./handoff.ts";

const utf8 = new TextEncoder();

/** How many distinct literals per type the host keeps as reload samples. */
export const SAMPLE_LIMIT = 32;

/** A Utf8 column named `value` as Arrow IPC. */
export function utf8Column(values: readonly (string | null)[]): Uint8Array {
  return toIPC(new Table({ value: vectorFromArray(values as (string | null)[], new Utf8()) }));
}

/** The first column of an IPC stream as JS values. */
export function firstColumn(ipc: Uint8Array): unknown[] {
  const col = fromIPC(ipc).getChildAt(0);
  return col ? Array.from(col) : [];
}

export class LogicalType {
  readonly name: string;
  readonly #entry: () => PluginEntry;
  readonly #samples: Set<string>;
  readonly #maxLiteralBytes: number;

  readonly #sampled: () => void;

  /** @internal created by PluginHost.logicalType; `sampled` is told when new samples were kept. */
  constructor(
    name: string,
    entry: () => PluginEntry,
    samples: Set<string>,
    maxLiteralBytes: number,
    sampled: () => void = () => {},
  ) {
    this.name = name;
    this.#entry = entry;
    this.#samples = samples;
    this.#maxLiteralBytes = maxLiteralBytes;
    this.#sampled = sampled;
  }

  #client(): LogicalTypeClientLike {
    const lt = this.#entry().current.instance.logicalType;
    if (!lt) throw new Error("unreachable: registered logical type without the interface");
    return lt;
  }

  #call<T>(fn: () => T | Promise<T>): Promise<T> {
    return through(this.#entry(), fn);
  }

  /** The physical storage type, in apache-arrow's `DataType.toString()` spelling. */
  arrowType(): Promise<string> {
    return this.#call(() => this.#client().arrowType(this.name));
  }

  encodingVersion(): Promise<string> {
    return this.#call(() => this.#client().encodingVersion(this.name));
  }

  /**
   * Parses literals (e.g. `POINT(13.4 52.5)`) into a storage column; nulls stay null.
   *
   * # Errors
   * `PluginError(TypeCoercion)` unless `literals` is an array of strings and nulls; `PluginError(ResourceLimit)`
   * for a literal longer than the host's `maxLiteralBytes` (refused before the plugin sees it); the plugin's
   * `PluginCallError` for a literal it cannot parse, naming the row.
   */
  async fromLiteral(literals: readonly (string | null)[]): Promise<Table> {
    if (!Array.isArray(literals)) {
      throw new PluginError(ErrorCode.TypeCoercion, `${this.name}.fromLiteral: expected an array of strings and nulls`);
    }
    literals.forEach((lit, row) => {
      if (lit !== null && typeof lit !== "string") {
        throw new PluginError(
          ErrorCode.TypeCoercion,
          `${this.name}.fromLiteral: row ${row} is ${typeof lit}, not a string or null`,
        );
      }
      // UTF-8 is at most 3 bytes per UTF-16 unit: only long strings need encoding to be measured.
      if (lit !== null && lit.length * 3 > this.#maxLiteralBytes) {
        const bytes = utf8.encode(lit).length;
        if (bytes > this.#maxLiteralBytes) {
          throw new PluginError(
            ErrorCode.ResourceLimit,
            `${this.name}.fromLiteral: row ${row} is ${bytes} bytes, over the host's limit of ${this.#maxLiteralBytes} ` +
              "(HostOptions.maxLiteralBytes)",
          );
        }
      }
    });
    const ipc = utf8Column(literals);
    const out = await this.#call(() => this.#client().fromLiteral(this.name, ipc));
    const before = this.#samples.size;
    for (const lit of literals) {
      if (lit !== null && this.#samples.size < SAMPLE_LIMIT) this.#samples.add(lit);
    }
    if (this.#samples.size !== before) this.#sampled();
    return fromIPC(out);
  }

  /** Renders a storage column (its first column) as display strings. */
  async toDisplay(column: ArrowInput): Promise<(string | null)[]> {
    const ipc = ipcOf(column);
    return firstColumn(await this.#call(() => this.#client().toDisplay(this.name, ipc))) as (string | null)[];
  }

  /** Casts a storage column to `target` (a DataType string such as `Utf8`). */
  async castTo(column: ArrowInput, target: string): Promise<Table> {
    const ipc = ipcOf(column);
    return fromIPC(await this.#call(() => this.#client().castTo(this.name, ipc, target)));
  }

  /** Casts a column of another type into validated storage; an invalid value is a typed error naming its row. */
  async castFrom(column: ArrowInput): Promise<Table> {
    const ipc = ipcOf(column);
    return fromIPC(await this.#call(() => this.#client().castFrom(this.name, ipc)));
  }
}

// ------------------------------------------------------------------ reload (see resources/handoff.ts)

/**
 * The reload checks of every logical type the old version declares and the new one keeps: the same storage
 * type and encoding version, and every literal seen in traffic displays identically whether the old version
 * stored it (read by the new one) or the new version re-parses it. Types hold no state: nothing to hand over.
 */
export function logicalTypeChecks(ctx: HandoffContext): Handoff[] {
  const [oldTypes, newTypes] = [
    ctx.old.instance.logicalType as LogicalTypeClientLike | undefined,
    ctx.next.instance.logicalType as LogicalTypeClientLike | undefined,
  ];
  if (!oldTypes || !newTypes) return [];
  return declared(ctx.old.manifest, "logical-type")
    .filter((name) => ctx.kept("logical-type", name))
    .map((name) =>
      checkOnly("logical-type", `logical type "${name}"`, (c) => checkType(name, oldTypes, newTypes, c.samples(name))),
    );
}

async function checkType(
  name: string,
  oldTypes: LogicalTypeClientLike,
  newTypes: LogicalTypeClientLike,
  samples: readonly string[],
): Promise<void> {
  const [t0, t1] = [await oldTypes.arrowType(name), await newTypes.arrowType(name)];
  if (t0 !== t1) incompatible("logical type", name, `storage type changed from ${t0} to ${t1}`);
  const [v0, v1] = [await oldTypes.encodingVersion(name), await newTypes.encodingVersion(name)];
  if (v0 !== v1) incompatible("logical type", name, `encoding version changed from ${v0} to ${v1}`);
  if (!samples.length) return;
  const stored = await oldTypes.fromLiteral(name, utf8Column(samples));
  const shown = firstColumn(await oldTypes.toDisplay(name, stored));
  const shownByNew = firstColumn(await newTypes.toDisplay(name, stored));
  const reparsedStored = await newTypes.fromLiteral(name, utf8Column(shown as string[]));
  const reparsed = firstColumn(await newTypes.toDisplay(name, reparsedStored));
  for (let i = 0; i < samples.length; i++) {
    if (shownByNew[i] !== shown[i] || reparsed[i] !== shown[i]) {
      incompatible(
        "logical type",
        name,
        `literal ${JSON.stringify(samples[i])} displays as ${JSON.stringify(shown[i])} in the old version but ` +
          `${JSON.stringify(shownByNew[i])} (stored) / ${JSON.stringify(reparsed[i])} (re-parsed) in the new one`,
      );
    }
  }
}
