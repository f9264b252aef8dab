// The one error type the CLI reports: what went wrong, and what to do about it.

/** A failure the user can act on. `hint` says how to fix it; the CLI prints both and exits non-zero. */
export class CliError extends Error {
  /**
   * @param {string} message what went wrong, naming the file, export or field at fault
   * @param {{ hint?: string, cause?: unknown, exitCode?: number }} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    /** @type {string | undefined} */
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** The message of anything thrown, never "[object Object]". */
export function messageOf(err) {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
