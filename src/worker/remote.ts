/**
 * The one call path of every remote client method: checks the per-call options, turns the arguments
 * into what crosses ({@link toWire}), and queues the call on the instance's connection. Never throws:
 * bad options are a `PluginError(TypeCoercion)` rejection; bad arguments are refused by the worker's
 * own (in-thread) checks with the in-thread messages.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";
import { toWire } from "./codec.ts";
import type { CallExtras, Connection } from "./connection.ts";
import { OP_WHAT, type Op, SINK_MODES, type WireSink } from "./protocol.ts";
import type { CallOptions, StreamCallOptions } from "./types.ts";

const U64_LIMIT = 1n << 64n;

/** Why `call` is not a valid {@link CallOptions} for `what`, or undefined when it is. */
export function badCallOptions(what: string, call: unknown): PluginError | undefined {
  if (call === undefined) return undefined;
  if (typeof call !== "object" || call === null) {
    return new PluginError(ErrorCode.TypeCoercion, `${what}: call options must be an object, got ${String(call)}`);
  }
  const { timeoutMs, transfer } = call as CallOptions;
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0)) {
    return new PluginError(
      ErrorCode.TypeCoercion,
      `${what}: timeoutMs must be a positive number of milliseconds (or Infinity), got ${String(timeoutMs)}`,
    );
  }
  if (transfer !== undefined && typeof transfer !== "boolean") {
    return new PluginError(ErrorCode.TypeCoercion, `${what}: transfer must be a boolean, got ${String(transfer)}`);
  }
  return undefined;
}

/** Queues `op` on `conn`; see the module doc. */
export function invoke(
  conn: Connection,
  op: Op,
  target: number,
  args: unknown[],
  call: CallOptions | undefined,
  extras?: CallExtras,
): Promise<unknown> {
  const bad = badCallOptions(OP_WHAT[op], call);
  if (bad) return Promise.reject(bad);
  for (let i = 0; i < args.length; i++) args[i] = toWire(args[i]);
  return conn.call(op, target, args, call?.timeoutMs, call?.transfer === true, extras);
}

/** A stream call: also checks and encodes the sink expectation. */
export function invokeStream(
  conn: Connection,
  op: Op,
  target: number,
  args: unknown[],
  call: StreamCallOptions | undefined,
): Promise<unknown> {
  const what = OP_WHAT[op];
  let sink: WireSink;
  if (call?.sink !== undefined) {
    const { mode, nextLsn, stream } = call.sink;
    const modeIndex = SINK_MODES.indexOf(mode);
    if (modeIndex < 0 || typeof nextLsn !== "bigint" || nextLsn < 0n || nextLsn >= U64_LIMIT) {
      return Promise.reject(
        new PluginError(
          ErrorCode.TypeCoercion,
          `${what}: sink must be { mode: "live" | "staged" | "sealed", nextLsn: a bigint in [0, 2^64) }`,
        ),
      );
    }
    if (stream !== undefined && typeof stream !== "string") {
      return Promise.reject(new PluginError(ErrorCode.TypeCoercion, `${what}: sink.stream must be a string`));
    }
    sink = [modeIndex, nextLsn, stream];
  }
  if (call?.onEmit !== undefined && typeof call.onEmit !== "function") {
    return Promise.reject(new PluginError(ErrorCode.TypeCoercion, `${what}: onEmit must be a function`));
  }
  return invoke(conn, op, target, args, call, { sink, onEmit: call?.onEmit });
}
