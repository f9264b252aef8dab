/**
 * What `LiveCdc.publish` checks before a batch may enter the log: anything the output or the WIT boundary would
 * refuse later must be refused here, with nothing changed, or it would sit in the log and be redelivered (and
 * refused) on every publish and every reload.
 *
 * @module
 */
import { Table } from "apache-arrow";
import { checkIPC, toIPC } from "../arrow.ts";
import { ErrorCode, PluginError } from "../errors.ts";
import type { ArrowInput } from "../arrow.ts";

/** What a published batch carries besides its rows. */
export interface CdcPublishMeta {
  /** Commit time, microseconds since the Unix epoch (an s64). Default: now. */
  commitMicros?: bigint;
  /**
   * The batch's position in its source, opaque to the host (e.g. the Postgres commit LSN `"0/16B3748"`). It is
   * kept with the batch, comes out with every emit covering it, and is reported by `checkpointPosition()` once the
   * batch is confirmed. At most {@link MAX_SOURCE_LENGTH} characters.
   */
  source?: string;
}

/** A batch that passed every check, ready for LSNs. */
export interface CheckedBatch {
  mutations: Uint8Array;
  rows: number;
  commitMicros: bigint;
  source?: string;
}

export const MAX_SOURCE_LENGTH = 1024;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/**
 * Checks a publish: Arrow IPC *stream* bytes (not the file format) with a schema of at least one field, readable to
 * the end; a commit time that fits the WIT's s64; a source position that is a string.
 *
 * # Errors
 * `TypeCoercion`, saying what is wrong and how to fix it.
 */
export function checkBatch(stream: string, input: ArrowInput, meta: bigint | CdcPublishMeta | undefined): CheckedBatch {
  const refuse = (what: string): never => {
    throw new PluginError(
      ErrorCode.TypeCoercion,
      `cdc stream "${stream}" refused the batch: ${what}; nothing was logged`,
    );
  };
  const { commitMicros, source } = typeof meta === "bigint" ? { commitMicros: meta, source: undefined } : (meta ?? {});
  if (meta !== undefined && typeof meta !== "bigint" && (typeof meta !== "object" || meta === null)) {
    refuse("the second argument must be a commit time (bigint) or { commitMicros, source }");
  }
  if (commitMicros !== undefined && typeof commitMicros !== "bigint") refuse("commitMicros must be a bigint");
  if (commitMicros !== undefined && (commitMicros < S64_MIN || commitMicros > S64_MAX)) {
    refuse(`commitMicros ${commitMicros} does not fit a signed 64-bit integer (microseconds since the Unix epoch)`);
  }
  if (source !== undefined && typeof source !== "string") refuse("source must be a string");
  if (source !== undefined && source.length > MAX_SOURCE_LENGTH) {
    refuse(`source is ${source.length} characters, more than ${MAX_SOURCE_LENGTH}`);
  }
  const micros = commitMicros ?? BigInt(Date.now()) * 1000n;
  if (input instanceof Table) {
    if (input.schema.fields.length === 0) refuse("the table has no columns");
    return {
      mutations: toIPC(input),
      rows: input.numRows,
      commitMicros: micros,
      ...(source === undefined ? {} : { source }),
    };
  }
  if (!(input instanceof Uint8Array)) refuse("mutations must be an apache-arrow Table or Arrow IPC stream bytes");
  return {
    mutations: input,
    rows: rowsOf(input, refuse),
    commitMicros: micros,
    ...(source === undefined ? {} : { source }),
  };
}

/** The IPC file format's magic, `ARROW1`, which a stream never starts with. */
const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/**
 * Counts the rows of IPC stream bytes by checking them whole (see `checkIPC`: every declared length bounded by the
 * bytes there, so a forged length costs nothing); anything short of a well-formed stream is refused.
 */
function rowsOf(bytes: Uint8Array, refuse: (what: string) => never): number {
  if (FILE_MAGIC.every((b, i) => bytes[i] === b)) {
    refuse('these are Arrow IPC *file* bytes; send the stream format (tableToIPC(table, "stream"))');
  }
  let summary: ReturnType<typeof checkIPC>;
  try {
    summary = checkIPC(bytes);
  } catch (err) {
    refuse(`not a valid Arrow IPC stream (${(err as PluginError).message})`);
  }
  if (summary.fields.length === 0) refuse(`no schema message in ${bytes.length} bytes of Arrow IPC`);
  return summary.rows;
}
