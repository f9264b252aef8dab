/**
 * Arrow IPC at the component boundary: every column and batch crosses as the
 * bytes of one Arrow IPC *stream* (see wit/types.wit `arrow-ipc`).
 *
 * Bytes from outside are checked before apache-arrow decodes them (see
 * `src/arrow/ipc-check.ts`): every declared length is bounded by the input's
 * size, so malformed bytes cost time and memory in proportion to their size
 * and end in a typed error. Compressed IPC (LZ4_FRAME, ZSTD) is refused with
 * a typed error that names the codec: write streams uncompressed.
 *
 * @module
 */
import { RecordBatch, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import {
  adoptRecordBatch,
  adoptTable,
  ForeignArrowError,
  isForeignRecordBatch,
  isForeignTable,
} from "./arrow/foreign.ts";
import { IpcUnsupported } from "./arrow/flatbuffer.ts";
import { checkIpc, type IpcSummary } from "./arrow/ipc-check.ts";
import { ErrorCode, PluginError } from "./errors.ts";

/** Arrow data as a table, or as IPC stream bytes already serialised. */
export type ArrowInput = Table | Uint8Array;

/**
 * The IPC stream bytes of an {@link ArrowInput}: a table is written; bytes pass as they are (the plugin reading
 * them checks them: its SDK bounds every length, and a surface may define what bytes it takes).
 *
 * # Errors
 * `PluginError(TypeCoercion)` as {@link toIPC}.
 */
export function ipcOf(input: ArrowInput): Uint8Array {
  return input instanceof Uint8Array ? input : toIPC(input);
}

/**
 * A table or a single batch as Arrow IPC stream bytes. Tables from another
 * copy of apache-arrow are rebuilt in this one first (their buffers shared).
 *
 * # Errors
 * `PluginError(TypeCoercion)` for anything that is not an apache-arrow Table or
 * RecordBatch, and for one (of any copy) that cannot be serialised; the
 * message names the column and type when one is at fault.
 */
export function toIPC(data: Table | RecordBatch): Uint8Array {
  let table: Table;
  try {
    if (isForeignTable(data)) table = adoptTable(data);
    else if (isForeignRecordBatch(data)) table = new Table(adoptRecordBatch(data));
    else if (data instanceof RecordBatch) table = new Table(data);
    else if (data instanceof Table) table = data;
    else
      throw new PluginError(
        ErrorCode.TypeCoercion,
        `toIPC: expected an apache-arrow Table or RecordBatch, got ${kind(data)}`,
      );
  } catch (err) {
    if (err instanceof PluginError) throw err;
    const reason = err instanceof ForeignArrowError ? err.message : `its structure is unreadable (${message(err)})`;
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `toIPC: the table comes from another copy of apache-arrow and cannot be rebuilt in this one: ${reason}; ` +
        "build it with the apache-arrow this host uses, or pass Arrow IPC bytes",
      { cause: err },
    );
  }
  try {
    return tableToIPC(table, "stream");
  } catch (err) {
    throw new PluginError(ErrorCode.TypeCoercion, `toIPC: the table cannot be written as Arrow IPC: ${message(err)}`, {
      cause: err,
    });
  }
}

/**
 * Checks Arrow IPC stream (or file) bytes without decoding them: framing,
 * metadata, and every length against the bytes there. Returns the schema's
 * fields and the batch and row counts.
 *
 * # Errors
 * `PluginError(TypeCoercion)` for malformed bytes and for compressed or
 * unsupported ones, saying what was found (the column and its type in
 * Arrow's spelling when one is at fault) and what to do.
 */
export function checkIPC(bytes: Uint8Array): IpcSummary {
  if (!(bytes instanceof Uint8Array)) {
    throw new PluginError(ErrorCode.TypeCoercion, `expected a Uint8Array of Arrow IPC bytes, got ${kind(bytes)}`);
  }
  try {
    return checkIpc(bytes);
  } catch (err) {
    if (err instanceof IpcUnsupported) {
      const hint = err.message.includes("compressed")
        ? "; write the stream without compression (pyarrow: IpcWriteOptions(compression=None); polars: compression='uncompressed'; arrow-rs: IpcWriteOptions::try_with_compression(None))"
        : "";
      throw new PluginError(ErrorCode.TypeCoercion, `unsupported Arrow IPC: ${err.message}${hint}`, { cause: err });
    }
    // IpcMalformed, or a RangeError from a read the checks did not foresee: malformed either way.
    throw new PluginError(ErrorCode.TypeCoercion, `not valid Arrow IPC: ${message(err)}`, { cause: err });
  }
}

/**
 * Arrow IPC stream (or file) bytes as a table, checked first (see {@link checkIPC}).
 *
 * # Errors
 * `PluginError(TypeCoercion)` for malformed, compressed or unsupported bytes.
 */
export function fromIPC(bytes: Uint8Array): Table {
  if (!(bytes instanceof Uint8Array)) {
    throw new PluginError(ErrorCode.TypeCoercion, "fromIPC: expected a Uint8Array of Arrow IPC bytes");
  }
  let summary: IpcSummary;
  try {
    summary = checkIPC(bytes);
  } catch (err) {
    throw new PluginError((err as PluginError).code, `fromIPC: ${(err as PluginError).message}`, { cause: err });
  }
  // every stream at the component boundary carries a schema with at least one field.
  if (summary.fields.length === 0) {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `fromIPC: not valid Arrow IPC: the schema in ${bytes.length} bytes has no fields`,
    );
  }
  try {
    return tableFromIPC(bytes);
  } catch (err) {
    throw new PluginError(ErrorCode.TypeCoercion, `fromIPC: not valid Arrow IPC: ${message(err)}`, { cause: err });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return `a ${(value as object).constructor?.name ?? "object"}`;
}
