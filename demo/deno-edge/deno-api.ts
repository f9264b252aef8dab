/**
 * The slice of the `Deno` namespace the edge server and its tests use, typed here so the repo-wide `tsc`
 * typecheck (which has no Deno lib) checks these files too. At run time it is simply `globalThis.Deno`.
 *
 * @module
 */

export interface HttpServer {
  shutdown(): Promise<void>;
  finished: Promise<void>;
  addr: { hostname: string; port: number };
}

export interface FileInfo {
  isFile: boolean;
  isDirectory: boolean;
}

export interface PermissionStatus {
  state: "granted" | "denied" | "prompt";
}

/** A Deno KV connection, as far as the tests use one (to damage a record while the server is down). */
export interface Kv {
  get(key: readonly unknown[]): Promise<{ value: unknown; versionstamp: string | null }>;
  set(key: readonly unknown[], value: unknown): Promise<{ ok: boolean }>;
  list(selector: { prefix: readonly unknown[] }): AsyncIterable<{ key: readonly unknown[]; value: unknown }>;
  close(): void;
}

export interface ChildProcess {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ success: boolean; code: number; signal: string | null }>;
  kill(signal?: "SIGKILL" | "SIGTERM"): void;
}

export interface TcpConn {
  write(bytes: Uint8Array): Promise<number>;
  readable: ReadableStream<Uint8Array>;
  close(): void;
}

export interface DenoApi {
  execPath(): string;
  Command: new (
    command: string,
    options: {
      args: string[];
      cwd?: string;
      env?: Record<string, string>;
      clearEnv?: boolean;
      stdin?: "null";
      stdout?: "piped" | "null";
      stderr?: "piped" | "null";
    },
  ) => { spawn(): ChildProcess };
  connect(options: { hostname: string; port: number }): Promise<TcpConn>;
  args: string[];
  env: { get(key: string): string | undefined; toObject(): Record<string, string> };
  cwd(): string;
  exit(code?: number): never;
  openKv(path?: string): Promise<Kv>;
  readFile(path: string | URL): Promise<Uint8Array>;
  stat(path: string | URL): Promise<FileInfo>;
  mkdir(path: string | URL, options?: { recursive?: boolean }): Promise<void>;
  permissions: {
    query(
      descriptor: { name: "read" | "write"; path: string } | { name: "net"; host: string },
    ): Promise<PermissionStatus>;
  };
  errors: {
    AddrInUse: new (...args: never[]) => Error;
    NotFound: new (...args: never[]) => Error;
    PermissionDenied: new (...args: never[]) => Error;
    NotCapable: new (...args: never[]) => Error;
  };
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (req: Request) => Response | Promise<Response>,
  ): HttpServer;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
