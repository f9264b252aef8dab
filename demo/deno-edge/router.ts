/**
 * Routes as OpenAPI writes them (`/indexes/{name}/search`), each with its methods. A known path with a method it
 * does not have is a 405 naming the methods it has in `Allow`; an unknown path is a 404.
 *
 * @module
 */
import { ErrorCode } from "../../src/mod.ts";
import { notFound, RequestError } from "./http-errors.ts";

export type Method = "GET" | "POST" | "DELETE";

export interface RouteContext {
  req: Request;
  url: URL;
  /** Path parameters by name, decoded. */
  params: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Promise<Response>;

export interface Route {
  /** The OpenAPI path template, e.g. `/cdc/{stream}/batches/{lsnStart}`. */
  path: string;
  methods: Partial<Record<Method, Handler>>;
}

interface Compiled {
  route: Route;
  segments: string[];
}

export interface Match {
  /** The matched template (metrics label it so), or `"unknown"`. */
  path: string;
  run: (req: Request, url: URL) => Promise<Response>;
}

export class Router {
  readonly #routes: Compiled[];

  constructor(routes: Route[]) {
    this.#routes = routes.map((route) => ({ route, segments: route.path.split("/").filter(Boolean) }));
  }

  /** Every route's template and methods (for the docs test and `Allow`). */
  get table(): { path: string; methods: Method[] }[] {
    return this.#routes.map(({ route }) => ({ path: route.path, methods: Object.keys(route.methods) as Method[] }));
  }

  match(method: string, pathname: string): Match {
    let parts: string[];
    try {
      parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      return {
        path: "unknown",
        run: async () => Promise.reject(notFound(`no route ${pathname}: bad percent-encoding`)),
      };
    }
    for (const { route, segments } of this.#routes) {
      const params = bind(segments, parts);
      if (!params) continue;
      const handler = route.methods[method as Method];
      if (!handler) {
        const allow = Object.keys(route.methods).join(", ");
        return {
          path: route.path,
          run: async () => {
            throw new RequestError(
              `${method} is not allowed on ${route.path}; it answers ${allow}`,
              405,
              ErrorCode.UnknownFunction,
              { headers: { allow } },
            );
          },
        };
      }
      return { path: route.path, run: (req, url) => handler({ req, url, params }) };
    }
    return {
      path: "unknown",
      run: async () => {
        throw notFound(`no route ${method} ${pathname}; GET /openapi.json lists every route (see demo/README.md)`);
      },
    };
  }
}

function bind(segments: string[], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const part = parts[i] as string;
    if (seg.startsWith("{")) params[seg.slice(1, -1)] = part;
    else if (seg !== part) return null;
  }
  return params;
}
