/**
 * Every failure the edge API reports is JSON `{ code, message, retryable }` (plus `step` for a refused
 * reload) with an HTTP status that says whose fault it is. Never "[object Object]", never a bare 500 page.
 *
 * @module
 */
import {
  ErrorCode,
  LoadError,
  ManifestError,
  PluginCallError,
  PluginError,
  RegistryError,
  ReloadError,
  TrapError,
} from "../../src/mod.ts";

/** A request the server cannot act on as sent (malformed JSON, missing field, wrong shape). */
export class RequestError extends PluginError {
  override name = "RequestError";
  constructor(
    message: string,
    readonly status = 400,
    code: number = ErrorCode.TypeCoercion,
  ) {
    super(code, message);
  }
}

export function statusOf(err: PluginError): number {
  if (err instanceof RequestError) return err.status;
  if (err instanceof ReloadError) return err.code === ErrorCode.Timeout ? 503 : 409;
  if (err instanceof LoadError) return err.code === ErrorCode.Io ? 400 : 422;
  if (err instanceof ManifestError) return 422;
  if (err instanceof RegistryError) {
    if (err.code === ErrorCode.NotFound) return 404;
    if (err.code === ErrorCode.CapabilityDenied || err.code === ErrorCode.Forbidden) return 403;
    return 409;
  }
  if (err instanceof PluginCallError) return err.retryable ? 503 : 400;
  if (err instanceof TrapError) return 500;
  if (err.code === ErrorCode.Timeout) return 503;
  return 500;
}

export function errorBody(err: PluginError): Record<string, unknown> {
  return {
    error: err.name,
    code: err.code,
    message: err.message,
    retryable: err.retryable,
    ...(err.pluginId === undefined ? {} : { pluginId: err.pluginId }),
    ...(err instanceof ReloadError ? { step: err.step, steps: stepsOf(err.report) } : {}),
  };
}

/** The reload steps that ran, each with its outcome: enough to see where and why it stopped. */
function stepsOf(report: unknown): unknown {
  const steps = (report as { steps?: unknown } | undefined)?.steps;
  return Array.isArray(steps) ? jsonSafe(steps) : [];
}

/** JSON with bigints as numbers (LSNs stay far below 2^53 here) and typed arrays as lengths. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value ?? null, (_k, v) =>
      typeof v === "bigint" ? Number(v) : v instanceof Uint8Array ? { bytes: v.byteLength } : v,
    ),
  );
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(jsonSafe(body)), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
