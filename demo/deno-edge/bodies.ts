/**
 * Request bodies in, response bodies out: JSON, Arrow IPC streams and component bytes, chosen by `Content-Type`
 * (requests) and `Accept` (responses). Every malformed body is a typed 4xx `RequestError` naming what is wrong,
 * raised before anything is created or stored.
 *
 * @module
 */
import { type Table, tableFromIPC } from "apache-arrow";
import Negotiator from "negotiator";
import { ErrorCode } from "../../src/mod.ts";
import { RequestError } from "./http-errors.ts";
import { json } from "./json.ts";

export const ARROW_STREAM = "application/vnd.apache.arrow.stream";
export const JSON_TYPE = "application/json";
const ARROW_FILE = "application/vnd.apache.arrow.file";

/** Largest body accepted: a component, or an Arrow/JSON body. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The media type of a request body, lower-cased without parameters; `""` when absent. */
export function mediaType(req: Request): string {
  return (req.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function unsupported(type: string, accepted: string[], hint: string): RequestError {
  return new RequestError(
    `Content-Type ${type} is not accepted here; send ${accepted.join(" or ")}${hint}`,
    415,
    ErrorCode.TypeCoercion,
  );
}

/** The whole body, refused (413) past {@link MAX_BODY_BYTES} before it is read when the length is declared. */
async function readBytes(req: Request, what: string): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (declared > MAX_BODY_BYTES) {
    throw new RequestError(
      `${what} is too large: ${declared} bytes (the limit is ${MAX_BODY_BYTES})`,
      413,
      ErrorCode.ResourceLimit,
    );
  }
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new RequestError(`${what} is too large (the limit is ${MAX_BODY_BYTES} bytes)`, 413, ErrorCode.ResourceLimit);
  }
  return bytes;
}

/** A component upload: `application/wasm`, `application/octet-stream`, or no Content-Type. */
export async function readComponent(req: Request): Promise<Uint8Array> {
  const type = mediaType(req);
  if (type !== "" && type !== "application/wasm" && type !== "application/octet-stream") {
    throw unsupported(
      type,
      ["application/wasm", "application/octet-stream"],
      " (curl: --data-binary @x.wasm -H 'content-type: application/wasm')",
    );
  }
  const bytes = await readBytes(req, "the component");
  if (bytes.byteLength === 0)
    throw new RequestError("the request body is empty: send the component's bytes (a .wasm file)");
  return bytes;
}

/** A JSON object body (`application/json`, or no Content-Type). */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  const type = mediaType(req);
  if (type !== "" && type !== JSON_TYPE) {
    throw unsupported(type, [JSON_TYPE], " (curl: -H 'content-type: application/json')");
  }
  return parseJsonObject(await readBytes(req, "the JSON body"));
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new RequestError(`the request body is not JSON: ${(err as Error).message}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new RequestError('the request body must be a JSON object, e.g. {"rows": [...]}');
  }
  return body as Record<string, unknown>;
}

/** A body that may be JSON or an Arrow IPC stream (index build, probe, CDC ingest). */
export type DataBody =
  | { kind: "json"; body: Record<string, unknown> }
  | { kind: "arrow"; ipc: Uint8Array; table: Table };

export async function readData(req: Request): Promise<DataBody> {
  const type = mediaType(req);
  if (type === ARROW_STREAM) {
    const ipc = await readBytes(req, "the Arrow body");
    return { kind: "arrow", ipc, table: parseArrowStream(ipc) };
  }
  if (type === "" || type === JSON_TYPE)
    return { kind: "json", body: parseJsonObject(await readBytes(req, "the JSON body")) };
  if (type === ARROW_FILE) {
    throw new RequestError(
      `the Arrow IPC file format is not accepted; send the stream format as ${ARROW_STREAM} (apache-arrow: tableToIPC(table, "stream"))`,
      415,
    );
  }
  throw unsupported(type, [JSON_TYPE, ARROW_STREAM], "");
}

/** The first bytes of an Arrow IPC *file* ("ARROW1"), which a stream never starts with. */
const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];

/** Checks that `ipc` is an Arrow IPC stream with a schema, and reads it. */
export function parseArrowStream(ipc: Uint8Array): Table {
  if (ipc.byteLength === 0) throw new RequestError("the Arrow body is empty: send an Arrow IPC stream with a schema");
  if (FILE_MAGIC.every((b, i) => ipc[i] === b)) {
    throw new RequestError(
      `the body is an Arrow IPC file, not a stream; send the stream format (apache-arrow: tableToIPC(table, "stream"))`,
    );
  }
  let table: Table;
  try {
    table = tableFromIPC(ipc);
  } catch (err) {
    throw new RequestError(`the body is not an Arrow IPC stream: ${(err as Error).message}`);
  }
  if (table.schema.fields.length === 0) throw new RequestError("the Arrow stream has no columns");
  return table;
}

/**
 * The response type the client accepts for a route that answers Arrow or JSON. JSON when `Accept` is absent or
 * allows both equally.
 *
 * # Errors
 * 406 when `Accept` allows neither.
 */
export function negotiate(req: Request): "json" | "arrow" {
  const accept = req.headers.get("accept");
  if (!accept) return "json";
  const [best] = new Negotiator({ headers: { accept } }).mediaTypes([JSON_TYPE, ARROW_STREAM]);
  if (best === ARROW_STREAM) return "arrow";
  if (best === JSON_TYPE) return "json";
  throw new RequestError(`cannot answer with ${accept}: this route answers ${JSON_TYPE} or ${ARROW_STREAM}`, 406);
}

/** An Arrow IPC stream response. */
export function arrowResponse(ipc: Uint8Array, headers: Record<string, string> = {}): Response {
  return new Response(ipc as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { "content-type": ARROW_STREAM, ...headers },
  });
}

/** Rows of any Arrow table as JSON objects (see json.ts for bigints and lists). */
export function tableRows(table: Table): Record<string, unknown>[] {
  return table.toArray().map((row) => (row as { toJSON(): Record<string, unknown> }).toJSON());
}

/** A table answered as negotiated: its IPC bytes, or `{ ...meta, [key]: rows }` as JSON. */
export function tableResponse(
  format: "json" | "arrow",
  ipc: Uint8Array,
  meta: Record<string, unknown>,
  options: { key?: string; headers?: Record<string, string> } = {},
): Response {
  if (format === "arrow") return arrowResponse(ipc, options.headers);
  return json({ ...meta, [options.key ?? "results"]: tableRows(tableFromIPC(ipc)) }, 200, options.headers);
}
