// An HTTP client for the edge server that holds every response to the server's own OpenAPI document: the route
// and method are documented (else the answer must be 404 / 405 with Allow listing the documented methods), the
// status is one the operation documents, the content type one that status documents, and a JSON body valid
// against its schema (ajv, JSON Schema 2020-12). It records what it saw, so a test can check the other direction:
// every documented status and content type was really answered.
import Ajv2020 from "ajv/dist/2020.js";
import { expect } from "#test";
import { Deno } from "../../demo/deno-edge/deno-api.ts";
import { chunks } from "./edge-process.ts";

export const ARROW = "application/vnd.apache.arrow.stream";
const DOC_ID = "https://edge.invalid/openapi.json";
const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"] as const;

type Doc = {
  paths: Record<string, Record<string, unknown>>;
  components: unknown;
};
type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };

export interface Answer {
  status: number;
  headers: Headers;
  /** Media type without parameters ("" when there is no body). */
  type: string;
  bytes: Uint8Array;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked against the schema, then read freely
  json: any;
}

export interface CallOptions {
  json?: unknown;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

/** Splits `path` and finds the documented template it matches. */
function template(doc: Doc, pathname: string): string | undefined {
  const parts = pathname.split("/").filter(Boolean);
  for (const t of Object.keys(doc.paths)) {
    const segs = t.split("/").filter(Boolean);
    if (segs.length === parts.length && segs.every((s, i) => s.startsWith("{") || s === parts[i])) return t;
  }
  return undefined;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

export class ApiClient {
  readonly url: string;
  readonly doc: Doc;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  /** `METHOD template status type` of every answer seen. */
  readonly seen = new Set<string>();
  /** `METHOD template type` of every request body a route accepted (answered 2xx). */
  readonly accepted = new Set<string>();

  private constructor(url: string, doc: Doc) {
    this.url = url;
    this.doc = doc;
    this.#ajv.addSchema({ $id: DOC_ID, ...doc } as object);
  }

  static async open(url: string): Promise<ApiClient> {
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).to.equal(200);
    return new ApiClient(url, (await res.json()) as Doc);
  }

  /** Points the client at a restarted server (same document). */
  at(url: string): ApiClient {
    const next = new ApiClient(url, this.doc);
    for (const s of this.seen) next.seen.add(s);
    for (const a of this.accepted) next.accepted.add(a);
    return next;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    } else if (options.body !== undefined) {
      body = options.body as BodyInit;
    }
    const res = await fetch(this.url + path, { method, headers, body });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const answer = this.check(method, path, res.status, res.headers, bytes);
    const t = template(this.doc, new URL(path, "http://x").pathname);
    if (body !== undefined && t && res.status < 300) {
      this.accepted.add(`${method} ${t} ${(headers["content-type"] ?? "").split(";")[0]}`);
    }
    return answer;
  }

  /**
   * A request written by hand over TCP: `Content-Length` says `declaredLength` but no body follows (to see a body
   * refused for its size before it is read).
   */
  async raw(method: string, path: string, declaredLength: number, contentType: string): Promise<Answer> {
    const { hostname, port } = new URL(this.url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    await conn.write(
      new TextEncoder().encode(
        `${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${declaredLength}\r\nConnection: close\r\n\r\n`,
      ),
    );
    // Read the status line, the headers and exactly Content-Length bytes of the answer, then hang up.
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of chunks(conn.readable)) {
      text += decoder.decode(chunk, { stream: true });
      const split = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1];
      if (
        split >= 0 &&
        length !== undefined &&
        new TextEncoder().encode(text.slice(split + 4)).byteLength >= Number(length)
      )
        break;
    }
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
    const split = text.indexOf("\r\n\r\n");
    const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
    const headers = new Headers(
      lines.map((l): [string, string] => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
    );
    return this.check(
      method,
      path,
      Number(statusLine.split(" ")[1]),
      headers,
      new TextEncoder().encode(text.slice(split + 4)),
    );
  }

  /** Holds one answer to the document, records it, and returns it parsed. */
  check(method: string, path: string, status: number, headers: Headers, bytes: Uint8Array): Answer {
    const pathname = new URL(path, "http://x").pathname;
    const type = (headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const json =
      type === "application/json" && bytes.byteLength > 0 ? JSON.parse(new TextDecoder().decode(bytes)) : undefined;
    const answer: Answer = { status, headers, type, bytes, json };
    const where = `${method} ${path} → ${status} ${type} ${new TextDecoder().decode(bytes.slice(0, 300))}`;
    if (json && status >= 400 && json.error !== undefined) {
      // Every error, documented or not: the one format, codes in hex.
      expect(json.code, where).to.match(/^0x[0-9a-f]{2,}$/);
      expect(json.message, where).to.be.a("string").and.not.equal("");
      expect(json.message, where).not.to.contain("[object Object]");
      expect(json.message, `${where}: messages name routes, not library calls`).not.to.match(/\w\(\)|\{ force/);
      expect(json.retryable, where).to.be.a("boolean");
    }
    const t = template(this.doc, pathname);
    if (!t) {
      expect(status, `${where}: an undocumented path must be unknown`).to.equal(404);
      this.seen.add(`${method} unknown ${status} ${type}`);
      return answer;
    }
    const item = this.doc.paths[t] as Record<string, unknown>;
    const documented = METHODS.filter((m) => m in item).map((m) => m.toUpperCase());
    if (!documented.includes(method)) {
      expect(status, `${where}: an undocumented method`).to.equal(405);
      expect(headers.get("allow")?.split(/,\s*/).sort(), where).to.deep.equal([...documented].sort());
      this.seen.add(`${method} ${t} 405 ${type}`);
      return answer;
    }
    const op = item[method.toLowerCase()] as Operation;
    const response = op.responses[String(status)];
    expect(response, `${where}: status ${status} is not documented for ${method} ${t}`).not.to.equal(undefined);
    const content = response?.content;
    if (!content) {
      expect(bytes.byteLength, `${where}: documented without a body`).to.equal(0);
    } else {
      expect(Object.keys(content), `${where}: content type`).to.include(type);
      if (type === "application/json") {
        const ref = `${DOC_ID}#/${pointer("paths", t, method.toLowerCase(), "responses", String(status), "content", type, "schema")}`;
        const validate = this.#ajv.getSchema(ref) ?? this.#ajv.compile({ $ref: ref });
        const valid = validate(json);
        expect(valid, `${where}: ${this.#ajv.errorsText(validate.errors)}`).to.equal(true);
      }
    }
    this.seen.add(`${method} ${t} ${status} ${type}`);
    return answer;
  }

  /** Every `METHOD template type` of a request body the document says a route takes. */
  promisedBodies(): string[] {
    const out: string[] = [];
    for (const [t, item] of Object.entries(this.doc.paths)) {
      for (const m of METHODS) {
        const op = item[m] as { requestBody?: { content: Record<string, unknown> } } | undefined;
        for (const type of Object.keys(op?.requestBody?.content ?? {})) out.push(`${m.toUpperCase()} ${t} ${type}`);
      }
    }
    return out;
  }

  /** Every `METHOD template status type` the document promises (the `default` catch-all aside). */
  promised(): string[] {
    const out: string[] = [];
    for (const [t, item] of Object.entries(this.doc.paths)) {
      for (const m of METHODS) {
        const op = item[m] as Operation | undefined;
        if (!op) continue;
        for (const [status, response] of Object.entries(op.responses)) {
          if (status === "default") continue;
          const types = response.content ? Object.keys(response.content) : [""];
          for (const type of types) out.push(`${m.toUpperCase()} ${t} ${status} ${type}`);
        }
      }
    }
    return out;
  }
}
