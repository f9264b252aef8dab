/**
 * Typed errors. Every failure the host reports is a {@link PluginError} with a
 * numeric `code`, a readable `message`, `retryable`, and the plugin id when one
 * is involved — never "[object Object]".
 *
 * @module
 */

/** Reserved error codes (<= 0xff). Plugins use codes >= 0x100. */
export const ErrorCode = {
  UnknownFunction: 0x01,
  TypeCoercion: 0x02,
  UnexpectedNull: 0x03,
  ResourceLimit: 0x04,
  Forbidden: 0x05,
  FilterUnsupported: 0x20,
  // Host-side codes (still <= 0xff).
  InvalidComponent: 0x40,
  WrongWorld: 0x41,
  InvalidManifest: 0x42,
  AbiUnsupported: 0x43,
  CapabilityDenied: 0x44,
  DuplicateKey: 0x45,
  NotFound: 0x46,
  StaleHandle: 0x47,
  Trap: 0x48,
  Poisoned: 0x49,
  Reload: 0x4a,
  Timeout: 0x4b,
  Disposed: 0x4c,
  Io: 0x4d,
  /** Stored bytes failed a checksum or structural check (flipped bit, truncation, missing chunk). */
  Corrupt: 0x4e,
  /**
   * A call into a worker-hosted instance ran past its deadline: the worker was terminated and the instance is
   * dead (retryable: the host may restore the plugin in a fresh worker and try again).
   */
  DeadlineExceeded: 0x4f,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

/** Options accepted by every error constructor. */
export interface PluginErrorOptions {
  retryable?: boolean;
  pluginId?: string;
  cause?: unknown;
}

/** The base class: what any call into the runtime may throw. */
export class PluginError extends Error {
  override name = "PluginError";
  readonly code: number;
  readonly retryable: boolean;
  readonly pluginId?: string;

  constructor(code: number, message: string, options: PluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.pluginId !== undefined) this.pluginId = options.pluginId;
  }

  /** A plain object for logs and JSON responses. */
  toJSON(): { name: string; code: number; message: string; retryable: boolean; pluginId?: string } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.pluginId === undefined ? {} : { pluginId: this.pluginId }),
    };
  }
}

/** A `fn-error` a plugin returned on purpose. */
export class PluginCallError extends PluginError {
  override name = "PluginCallError";
}

/** The component's bytes are not a loadable `uni:plugin` component. */
export class LoadError extends PluginError {
  override name = "LoadError";
}

/** The manifest is malformed or not acceptable to this host. */
export class ManifestError extends PluginError {
  override name = "ManifestError";
  /** The manifest field at fault, e.g. `"version"` or `"provides.index_kinds"`. */
  readonly field?: string;
  constructor(code: number, message: string, field?: string, options: PluginErrorOptions = {}) {
    super(code, message, options);
    if (field !== undefined) this.field = field;
  }
}

/** A capability was not granted, or a registration conflicts with another. */
export class RegistryError extends PluginError {
  override name = "RegistryError";
}

/** The plugin trapped (or exceeded a host limit); its instance is poisoned. */
export class TrapError extends PluginError {
  override name = "TrapError";
}

/** A reload was refused or failed; the old version keeps serving. */
export class ReloadError extends PluginError {
  override name = "ReloadError";
  /** The named reload step that failed. */
  readonly step: string;
  /** The reload's report (steps run, their durations, what failed), when the reload got that far. */
  readonly report?: unknown;
  constructor(step: string, message: string, options: PluginErrorOptions & { code?: number; report?: unknown } = {}) {
    super(options.code ?? ErrorCode.Reload, message, options);
    this.step = step;
    if (options.report !== undefined) this.report = options.report;
  }
}

/**
 * A CDC stream's sink failed to acknowledge a batch: delivery of that stream is halted at the acknowledged
 * position, the host keeps every later batch, and retries (with backoff, or on `resume()`).
 */
export class CdcSinkError extends PluginError {
  override name = "CdcSinkError";
  /** The emit the sink failed on: `[lsnStart, lsnEnd)`. */
  readonly lsnStart: bigint;
  readonly lsnEnd: bigint;
  /** Consecutive failed attempts so far. */
  readonly attempts: number;
  constructor(
    message: string,
    range: { lsnStart: bigint; lsnEnd: bigint; attempts: number },
    options: PluginErrorOptions = {},
  ) {
    super(ErrorCode.Io, message, { retryable: true, ...options });
    this.lsnStart = range.lsnStart;
    this.lsnEnd = range.lsnEnd;
    this.attempts = range.attempts;
  }
}

/** Wraps anything thrown into a PluginError without losing its message. */
export function toPluginError(err: unknown, pluginId?: string): PluginError {
  if (err instanceof PluginError) return err;
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : JSON.stringify(err);
  return new PluginError(ErrorCode.Trap, message, { pluginId, cause: err });
}
