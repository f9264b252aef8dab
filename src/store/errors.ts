/**
 * The store's typed errors: every failure is a {@link StoreError}, a `PluginError` with one of the reserved codes.
 *
 * @module
 */
import { ErrorCode, PluginError, type PluginErrorOptions } from "../errors.ts";

/** What a store error is about, when it is about something in particular. */
export interface StoreErrorDetail {
  /** The blob at fault. */
  blob?: string;
  /** The record key at fault, rendered readably. */
  key?: string;
  /** Where in the adapter's storage (a file and byte offset, a KV key). */
  where?: string;
}

/** Any failure of a {@link StateStore}. */
export class StoreError extends PluginError {
  override name = "StoreError";
  readonly detail: StoreErrorDetail;
  constructor(code: number, message: string, detail: StoreErrorDetail = {}, options: PluginErrorOptions = {}) {
    super(code, message, options);
    this.detail = detail;
  }
}

/** Stored bytes failed a checksum or a structural check. */
export function corrupt(message: string, detail: StoreErrorDetail = {}): StoreError {
  return new StoreError(ErrorCode.Corrupt, message, detail);
}

/** The caller passed something the store cannot take (a bad key, a non-byte value). */
export function invalid(message: string, detail: StoreErrorDetail = {}): StoreError {
  return new StoreError(ErrorCode.TypeCoercion, message, detail);
}

/** A value, key, commit or blob is beyond the store's limits. */
export function tooLarge(message: string, detail: StoreErrorDetail = {}): StoreError {
  return new StoreError(ErrorCode.ResourceLimit, message, detail);
}

export function notFound(message: string, detail: StoreErrorDetail = {}): StoreError {
  return new StoreError(ErrorCode.NotFound, message, detail);
}

export function closed(adapter: string): StoreError {
  return new StoreError(ErrorCode.Disposed, `the ${adapter} store is closed`);
}

/** The underlying storage failed; `retryable` unless the store can no longer be trusted to continue. */
export function io(message: string, cause: unknown, retryable = true, detail: StoreErrorDetail = {}): StoreError {
  const why = cause instanceof Error ? cause.message : cause === undefined ? "" : String(cause);
  return new StoreError(ErrorCode.Io, why ? `${message}: ${why}` : message, detail, { retryable, cause });
}

/** Passes a StoreError through; wraps anything else as an `Io` error. */
export function asStoreError(err: unknown, message: string): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof PluginError) return new StoreError(err.code, err.message, {}, { retryable: err.retryable });
  return io(message, err);
}
