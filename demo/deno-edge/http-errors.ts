/**
 * Every failure the edge API reports is JSON `{ error, code, codeName, message, retryable }` (plus `pluginId`,
 * and `step`/`steps` for a refused reload) with an HTTP status that says whose fault it is. Codes are written in
 * hex (`"0x45"`), as `src/errors.ts` and demo/README.md write them. Never "[object Object]", never a bare 500 page.
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
import { jsonSafe } from "./json.ts";

/** A request the server cannot act on as sent: malformed body, missing field, unknown route or resource. */
export class RequestError extends PluginError {
  override name = "RequestError";
  readonly status: number;
  /** Response headers the status calls for (`Allow` with a 405). */
  readonly headers: Record<string, string>;
  constructor(
    message: string,
    status = 400,
    code: number = ErrorCode.TypeCoercion,
    options: { headers?: Record<string, string>; pluginId?: string } = {},
  ) {
    super(code, message, options.pluginId === undefined ? {} : { pluginId: options.pluginId });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** 404: the URL names a resource that does not exist. */
export function notFound(message: string): RequestError {
  return new RequestError(message, 404, ErrorCode.NotFound);
}

/** 409: the request conflicts with what exists (a name taken, a plugin in use). */
export function conflict(message: string, code: number = ErrorCode.DuplicateKey, pluginId?: string): RequestError {
  return new RequestError(message, 409, code, pluginId === undefined ? {} : { pluginId });
}

/** 422: a well-formed request naming something nothing provides (an index kind, a CRDT kind, a CDC output). */
export function unprocessable(message: string, code: number = ErrorCode.NotFound): RequestError {
  return new RequestError(message, 422, code);
}

export function statusOf(err: PluginError): number {
  if (err instanceof RequestError) return err.status;
  if (err instanceof ReloadError) {
    if (err.step === "instantiate") return 422; // the uploaded bytes are not a loadable component
    return err.code === ErrorCode.Timeout ? 503 : 409;
  }
  if (err instanceof LoadError) return err.code === ErrorCode.Io ? 400 : 422;
  if (err instanceof ManifestError) return 422;
  if (err instanceof RegistryError) {
    if (err.code === ErrorCode.NotFound) return 404;
    if (err.code === ErrorCode.CapabilityDenied) return 422;
    return 409;
  }
  if (err instanceof PluginCallError) return err.retryable ? 503 : 400;
  if (err instanceof TrapError) return 500;
  if (err.code === ErrorCode.TypeCoercion) return 400;
  if (err.code === ErrorCode.ResourceLimit) return err.retryable ? 503 : 413;
  if (err.code === ErrorCode.Timeout || err.retryable) return 503;
  return 500;
}

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** `0x45`: how the docs and every error body write a code. */
export function hexCode(code: number): string {
  return `0x${code.toString(16).padStart(2, "0")}`;
}

export function errorBody(err: PluginError): Record<string, unknown> {
  return {
    error: err.name,
    code: hexCode(err.code),
    // Codes >= 0x100 are the plugin's own (a fn-error it returned on purpose): no host name for them.
    codeName: CODE_NAMES.get(err.code) ?? "PluginDefined",
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

export function errorResponse(err: PluginError): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    ...(err instanceof RequestError ? err.headers : {}),
  };
  return new Response(JSON.stringify(errorBody(err)), { status: statusOf(err), headers });
}
