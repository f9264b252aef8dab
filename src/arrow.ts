/**
 * Arrow IPC at the component boundary: every column and batch crosses as the
 * bytes of one Arrow IPC *stream* (see wit/types.wit `arrow-ipc`).
 *
 * @module
 */
import { RecordBatch, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { ErrorCode, PluginError } from "./errors.ts";

/** Arrow data as a table, or as IPC stream bytes already serialised. */
export type ArrowInput = Table | Uint8Array;

/** The IPC stream bytes of an {@link ArrowInput}. */
export function ipcOf(input: ArrowInput): Uint8Array {
  return input instanceof Uint8Array ? input : toIPC(input);
}

/** A table or a single batch as Arrow IPC stream bytes. */
export function toIPC(data: Table | RecordBatch): Uint8Array {
  if (data instanceof RecordBatch) return tableToIPC(new Table(data), "stream");
  if (data instanceof Table) return tableToIPC(data, "stream");
  throw new PluginError(ErrorCode.TypeCoercion, "toIPC: expected an apache-arrow Table or RecordBatch");
}

/** Arrow IPC stream (or file) bytes as a table. Malformed bytes are a typed error. */
export function fromIPC(bytes: Uint8Array): Table {
  if (!(bytes instanceof Uint8Array)) {
    throw new PluginError(ErrorCode.TypeCoercion, "fromIPC: expected a Uint8Array of Arrow IPC bytes");
  }
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PluginError(ErrorCode.TypeCoercion, `fromIPC: not valid Arrow IPC: ${reason}`, { cause: err });
  }
  // apache-arrow reads short garbage (or nothing) as a table without a schema instead of failing;
  // every stream at the component boundary carries a schema with at least one field.
  if (table.schema.fields.length === 0) {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `fromIPC: not valid Arrow IPC: no schema message in ${bytes.length} bytes`,
    );
  }
  return table;
}
