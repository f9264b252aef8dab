/**
 * Indexes of any kind a loaded plugin provides: list, build (201; an Arrow IPC stream of any schema, or JSON rows),
 * describe, delete, and search (an Arrow or JSON query; the answer as Arrow or JSON, as `Accept` asks).
 *
 * @module
 */
import { type LiveIndex, toIPC } from "../../../src/mod.ts";
import { negotiate, readData, tableResponse } from "../bodies.ts";
import { conflict, notFound, RequestError } from "../http-errors.ts";
import { created, json, noContent } from "../json.ts";
import type { Route } from "../router.ts";
import { indexRows, queryRows, VECTOR_KIND } from "../rows.ts";
import { type EdgeService, servedBy } from "../service.ts";
import { checkName, indexOptions, oneOf, provided } from "../validate.ts";

const MAX_K = 1000;

function live(service: EdgeService, name: string): LiveIndex {
  const idx = service.host.index(name);
  if (!idx) throw notFound(`no index "${name}" (GET /indexes lists them; POST /indexes/${name} builds it)`);
  return idx;
}

function kOf(value: unknown): number {
  const k = value ?? 10;
  const n = typeof k === "string" && /^\d+$/.test(k) ? Number(k) : k;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_K) {
    throw new RequestError(`k must be an integer from 1 to ${MAX_K}, got ${JSON.stringify(k)}`);
  }
  return n;
}

function describe(idx: LiveIndex) {
  return { name: idx.name, kind: idx.kind, servedBy: servedBy(idx.servedBy) };
}

export function indexRoutes(service: EdgeService): Route[] {
  const host = service.host;
  return [
    {
      path: "/indexes",
      methods: {
        GET: async () => json({ indexes: service.resources("index").map(({ name }) => describe(live(service, name))) }),
      },
    },
    {
      path: "/indexes/{name}",
      methods: {
        GET: async ({ params }) => {
          const idx = live(service, params.name as string);
          const schema = await idx.schema();
          return json({
            ...describe(idx),
            probeSchema: schema.schema.fields.map((f) => ({
              name: f.name,
              type: String(f.type),
              nullable: f.nullable,
            })),
          });
        },
        POST: async ({ params, url, req }) => {
          const name = checkName(params.name as string, "index");
          if (host.index(name)) {
            throw conflict(`index "${name}" already exists; DELETE /indexes/${name} first, or choose another name`);
          }
          const data = await readData(req);
          const body = data.kind === "json" ? data.body : undefined;
          const kind = provided(host, "index", oneOf(url, "kind", body) ?? VECTOR_KIND, "kind");
          const options = indexOptions(url, body);
          const source = data.kind === "arrow" ? data.ipc : indexRows(kind, data.body);
          const rows = data.kind === "arrow" ? data.table.numRows : source instanceof Uint8Array ? 0 : source.numRows;
          const idx = await host.createIndex(name, kind, source, options);
          return created(`/indexes/${encodeURIComponent(name)}`, { ...describe(idx), rows });
        },
        DELETE: async ({ params }) => {
          await live(service, params.name as string).drop();
          return noContent();
        },
      },
    },
    {
      path: "/indexes/{name}/search",
      methods: {
        POST: async ({ params, url, req }) => {
          const idx = live(service, params.name as string);
          const format = negotiate(req);
          const data = await readData(req);
          const body = data.kind === "json" ? data.body : undefined;
          const k = kOf(oneOf(url, "k", body));
          const query = data.kind === "arrow" ? data.ipc : toIPC(queryRows(idx.kind, data.body));
          const result = await idx.probeIPC(query, k);
          const by = servedBy(idx.servedBy);
          return tableResponse(
            format,
            result,
            { index: idx.name, kind: idx.kind, servedBy: by },
            { headers: { "x-served-by": `${by.id}@${by.version}#${by.generation}` } },
          );
        },
      },
    },
  ];
}
