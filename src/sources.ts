/**
 * Where plugin bytes come from: bytes, a URL (fetched), a fetch `Response`, or
 * a file path (through the runtime adapter's `readFile`; the core has no file system).
 *
 * @module
 */
import { ErrorCode, LoadError } from "./errors.ts";

/** Anything `PluginHost.load` accepts. */
export type PluginSource = Uint8Array | ArrayBuffer | URL | Response | string;

/** Reads a file by path or `file:` URL. Supplied by the Node and Deno adapters. */
export type ReadFile = (path: string | URL) => Promise<Uint8Array>;

const URL_SCHEME = /^(https?|file|data|blob):/i;

/** Resolves a {@link PluginSource} to the component's bytes. */
export async function readSource(source: PluginSource, readFile?: ReadFile): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Response !== "undefined" && source instanceof Response) return await readResponse(source, source.url);
  if (typeof source === "string" && !URL_SCHEME.test(source)) return await readPath(source, readFile);
  if (typeof source === "string" || source instanceof URL) {
    const url = new URL(source);
    if (url.protocol === "file:" && readFile) return await readPath(url, readFile);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (err) {
      throw new LoadError(ErrorCode.Io, `cannot fetch plugin ${url.href}: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
    return await readResponse(res, url.href);
  }
  throw new LoadError(
    ErrorCode.InvalidComponent,
    `cannot load a plugin from ${describe(source)}: pass a Uint8Array, ArrayBuffer, URL, Response or file path`,
  );
}

async function readResponse(res: Response, where: string): Promise<Uint8Array> {
  if (!res.ok) {
    throw new LoadError(ErrorCode.Io, `cannot fetch plugin ${where}: HTTP ${res.status} ${res.statusText}`, {
      retryable: res.status >= 500 || res.status === 429,
    });
  }
  return new Uint8Array(await res.arrayBuffer());
}

async function readPath(path: string | URL, readFile?: ReadFile): Promise<Uint8Array> {
  if (!readFile) {
    throw new LoadError(
      ErrorCode.Io,
      `cannot read plugin file ${String(path)}: file paths need a runtime adapter ` +
        `(createNodeHost from "uni-plugin-runtime/node", or createDenoHost from src/adapters/deno.ts)`,
    );
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new LoadError(ErrorCode.Io, `cannot read plugin file ${String(path)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return `a ${typeof value}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "a plain object";
}
