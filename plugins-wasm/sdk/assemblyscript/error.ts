// FnError and Result: AssemblyScript has no catchable exceptions (a `throw`
// becomes a trap), so every fallible SDK or plugin function returns its error.

/** Reserved codes (<= 0xff) the SDK itself uses; plugins define codes >= 0x100. */
export const CODE_UNKNOWN_FUNCTION: u32 = 0x01;
export const CODE_MALFORMED: u32 = 0x02;
export const CODE_UNEXPECTED_NULL: u32 = 0x03;
export const CODE_RESOURCE_LIMIT: u32 = 0x04;

/** The WIT `fn-error` record. */
export class FnError {
  constructor(
    public code: u32,
    public message: string,
    public retryable: bool = false,
  ) {}
}

/** Shorthand for a non-retryable error. */
export function fnError(code: u32, message: string): FnError {
  return new FnError(code, message, false);
}

/** Code 2: malformed bytes, ops or Arrow IPC. */
export function malformed(message: string): FnError {
  return new FnError(CODE_MALFORMED, message, false);
}

/** Either a value or an error. */
export class Result<T> {
  constructor(
    public value: T | null,
    public error: FnError | null,
  ) {}

  static ok<T>(value: T): Result<T> {
    return new Result<T>(value, null);
  }

  static err<T>(error: FnError): Result<T> {
    return new Result<T>(null, error);
  }

  get isOk(): bool {
    return this.error == null;
  }

  /** The value; call only when `isOk`. */
  unwrap(): T {
    return changetype<T>(this.value);
  }
}
