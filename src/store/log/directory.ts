/**
 * The file primitives the log-structured store needs from a runtime: Node's `fs` provides them
 * (`src/adapters/node-fs.ts`); Deno's file API or OPFS could too. Paths are relative to the store's directory and
 * use `/`.
 *
 * @module
 */

/** A file opened for appending at known positions. */
export interface AppendFile {
  /** Writes all of `bytes` at `position`. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Makes everything written so far durable (fdatasync). */
  sync(): Promise<void>;
  /** Cuts the file to `size` bytes (and makes that durable). */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

export interface LogDirectory {
  /** A readable name for messages, e.g. the directory's path. */
  readonly location: string;
  /** Takes the directory for this process alone; rejects when another live process holds it. */
  lock(): Promise<{ release(): Promise<void> }>;
  /** File names directly inside `sub` (`""` for the top), or `[]` when it does not exist. */
  list(sub: string): Promise<string[]>;
  /** A file's whole content, or `null` when it does not exist. */
  read(path: string): Promise<Uint8Array | null>;
  /**
   * Creates or replaces `path` with `parts` concatenated, atomically and durably: a temporary file in the same
   * directory (named `<name>.tmp-<random>`), synced, renamed over `path`, then the directory synced. After a
   * crash the file is either the old one or the new one.
   */
  writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void>;
  /** Deletes a file; no error when it does not exist. */
  remove(path: string): Promise<void>;
  /** When the file was last modified (ms since the epoch), or `null` when it does not exist. */
  modifiedAt(path: string): Promise<number | null>;
  /** Sets the file's modification time to now. */
  touch(path: string): Promise<void>;
  /** Opens `path` for positional writes, creating it when absent. */
  openAppend(path: string): Promise<AppendFile>;
}
