/**
 * Node adapter for the file store: the file primitives of the log-structured store (`src/store/log/`) on
 * `node:fs` — positional writes, fdatasync, write-temp-then-rename with a directory fsync, and a lock file that
 * names the owning process (a lock left by a killed process is taken over).
 *
 * @example
 * ```ts
 * import { fileStore } from "uni-plugin-runtime/node";
 * const store = fileStore("./state");
 * await store.commit({ mutations: [{ type: "set", key: ["hello"], value: new Uint8Array([1]) }] });
 * ```
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { io } from "../store/errors.ts";
import { lazyBackend } from "../store/lazy.ts";
import { LogBackend, type LogStoreOptions, logStore } from "../store/log/backend.ts";
import type { AppendFile, LogDirectory } from "../store/log/directory.ts";
import { BackedStore } from "../store/store.ts";
import type { StateStore } from "../store/types.ts";

export type { LogOpenReport, LogStoreOptions } from "../store/log/backend.ts";

function code(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === "EPERM";
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: import("node:fs/promises").FileHandle, bytes: Uint8Array, position: number) {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** The file primitives of the log store on a directory of the local file system. */
export class NodeDirectory implements LogDirectory {
  constructor(readonly location: string) {}

  #path(rel: string): string {
    return rel === "" ? this.location : join(this.location, rel);
  }

  async lock(): Promise<{ release(): Promise<void> }> {
    await mkdir(this.location, { recursive: true });
    const path = join(this.location, "LOCK");
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, "wx");
        await fh.writeFile(String(process.pid));
        await fh.close();
        return { release: () => rm(path, { force: true }) };
      } catch (err) {
        if (code(err) !== "EEXIST") throw err;
        const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
        if (pid === process.pid) throw io(`${this.location} is already open in this process`, undefined, false);
        if (pid > 0 && isAlive(pid)) throw io(`${this.location} is locked by process ${pid}`, undefined, true);
        await rm(path, { force: true }); // left by a process that died
      }
    }
    throw io(`cannot lock ${this.location}`, undefined, true);
  }

  async list(sub: string): Promise<string[]> {
    try {
      return await readdir(this.#path(sub));
    } catch (err) {
      if (code(err) === "ENOENT") return [];
      throw err;
    }
  }

  async read(path: string): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(this.#path(path));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (code(err) === "ENOENT") return null;
      throw err;
    }
  }

  async writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void> {
    const target = this.#path(path);
    const dir = dirname(target);
    try {
      await stat(dir);
    } catch {
      await mkdir(dir, { recursive: true });
      await syncDir(dirname(dir));
    }
    const temp = `${target}.tmp-${randomUUID()}`;
    const fh = await open(temp, "w");
    try {
      let at = 0;
      for (const p of parts) {
        await writeAll(fh, p, at);
        at += p.length;
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(temp, { force: true });
      throw err;
    }
    await fh.close();
    await rename(temp, target);
    await syncDir(dir);
  }

  async remove(path: string): Promise<void> {
    await rm(this.#path(path), { force: true });
  }

  async modifiedAt(path: string): Promise<number | null> {
    try {
      return (await stat(this.#path(path))).mtimeMs;
    } catch (err) {
      if (code(err) === "ENOENT") return null;
      throw err;
    }
  }

  async touch(path: string): Promise<void> {
    const now = new Date();
    await utimes(this.#path(path), now, now);
  }

  async openAppend(path: string): Promise<AppendFile> {
    const target = this.#path(path);
    const fh = await open(target, "r+").catch((err) => {
      if (code(err) === "ENOENT") return open(target, "w+");
      throw err;
    });
    return {
      write: (bytes, position) => writeAll(fh, bytes, position),
      sync: () => fh.datasync(),
      truncate: async (size) => {
        await fh.truncate(size);
        await fh.sync();
      },
      close: () => fh.close(),
    };
  }
}

/**
 * A store in directory `path` (created if missing), opened on first use: an open failure (locked by another
 * process, a damaged log) rejects the first operation. Use {@link openFileStore} to learn it at once.
 */
export function fileStore(path: string, options: LogStoreOptions = {}): StateStore {
  const dir = new NodeDirectory(path);
  return new BackedStore(
    lazyBackend("fs", () => LogBackend.open(dir, options)),
    options,
  );
}

/**
 * Opens the store in directory `path` (created if missing).
 *
 * # Errors
 * `Io` when another live process holds the directory; `Corrupt` when its log is damaged in the middle (see
 * {@link LogStoreOptions.recover}).
 */
export function openFileStore(path: string, options: LogStoreOptions = {}): Promise<StateStore> {
  return logStore(new NodeDirectory(path), options);
}
