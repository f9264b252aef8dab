/**
 * The slice of the `Deno` namespace the edge server and its tests use, typed here so the repo-wide `tsc`
 * typecheck (which has no Deno lib) checks these files too. At run time it is simply `globalThis.Deno`.
 *
 * @module
 */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array;
export type KvKey = readonly KvKeyPart[];

export interface KvEntry<T> {
  key: KvKey;
  value: T;
  versionstamp: string;
}

export interface KvEntryMaybe<T> {
  key: KvKey;
  value: T | null;
  versionstamp: string | null;
}

export interface AtomicOperation {
  check(...checks: { key: KvKey; versionstamp: string | null }[]): AtomicOperation;
  set(key: KvKey, value: unknown): AtomicOperation;
  delete(key: KvKey): AtomicOperation;
  commit(): Promise<{ ok: boolean }>;
}

export interface Kv {
  get<T = unknown>(key: KvKey): Promise<KvEntryMaybe<T>>;
  set(key: KvKey, value: unknown): Promise<{ ok: boolean }>;
  delete(key: KvKey): Promise<void>;
  list<T = unknown>(selector: { prefix: KvKey }): AsyncIterable<KvEntry<T>>;
  atomic(): AtomicOperation;
  close(): void;
}

export interface HttpServer {
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

export interface ChildProcess {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ success: boolean; code: number; signal: string | null }>;
  kill(signal?: string): void;
}

export interface DenoApi {
  args: string[];
  env: { get(key: string): string | undefined };
  execPath(): string;
  exit(code?: number): never;
  openKv(path?: string): Promise<Kv>;
  readFile(path: string | URL): Promise<Uint8Array>;
  statSync(path: string | URL): { isFile: boolean };
  mkdir(path: string | URL, options?: { recursive?: boolean }): Promise<void>;
  makeTempDir(options?: { prefix?: string }): Promise<string>;
  remove(path: string | URL, options?: { recursive?: boolean }): Promise<void>;
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (req: Request) => Response | Promise<Response>,
  ): HttpServer;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  Command: new (
    command: string,
    options: {
      args: string[];
      cwd?: string;
      stdout?: "piped" | "null";
      stderr?: "piped" | "null" | "inherit";
      env?: Record<string, string>;
    },
  ) => { spawn(): ChildProcess };
  test(
    name: string,
    options: { sanitizeResources?: boolean; sanitizeOps?: boolean },
    fn: (t: TestContext) => Promise<void>,
  ): void;
}

export interface TestContext {
  step(name: string, fn: () => Promise<void>): Promise<boolean>;
}

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
