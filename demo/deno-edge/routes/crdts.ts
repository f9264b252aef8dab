/**
 * CRDT states of any kind a loaded plugin provides: list, create (201, optionally with a first op), read, delete,
 * and apply ops.
 *
 * @module
 */
import type { LiveCrdt } from "../../../src/mod.ts";
import { readJson } from "../bodies.ts";
import { conflict, notFound, RequestError } from "../http-errors.ts";
import { created, json, noContent } from "../json.ts";
import type { Route } from "../router.ts";
import { type EdgeService, servedBy } from "../service.ts";
import { checkName, provided } from "../validate.ts";

const OP_HINT = 'e.g. {"op": ["replica-a", 1]} for a pn-counter';

function live(service: EdgeService, name: string): LiveCrdt {
  const crdt = service.host.crdt(name);
  if (!crdt) throw notFound(`no CRDT state "${name}" (GET /crdts lists them; POST /crdts/${name} creates it)`);
  return crdt;
}

async function describe(crdt: LiveCrdt) {
  return { name: crdt.name, kind: crdt.kind, value: await crdt.value(), servedBy: servedBy(crdt.servedBy) };
}

export function crdtRoutes(service: EdgeService): Route[] {
  const host = service.host;
  return [
    {
      path: "/crdts",
      methods: {
        GET: async () => {
          const crdts = service.resources("crdt").map(({ name }) => {
            const crdt = live(service, name);
            return { name, kind: crdt.kind, servedBy: servedBy(crdt.servedBy) };
          });
          return json({ crdts });
        },
      },
    },
    {
      path: "/crdts/{name}",
      methods: {
        GET: async ({ params }) => json(await describe(live(service, params.name as string))),
        POST: async ({ params, req }) => {
          const name = checkName(params.name as string, "CRDT state");
          if (host.crdt(name)) {
            throw conflict(
              `CRDT state "${name}" already exists; apply ops with POST /crdts/${name}/ops, or DELETE it first`,
            );
          }
          const body = await readJson(req);
          const kind = provided(host, "crdt", body.kind, "kind");
          const crdt = await host.createCrdt(name, kind);
          if ("op" in body) {
            try {
              await crdt.apply(body.op);
            } catch (err) {
              await crdt.drop(); // a create whose first op is refused leaves nothing behind
              throw err;
            }
          }
          return created(`/crdts/${encodeURIComponent(name)}`, await describe(crdt));
        },
        DELETE: async ({ params }) => {
          await live(service, params.name as string).drop();
          return noContent();
        },
      },
    },
    {
      path: "/crdts/{name}/ops",
      methods: {
        POST: async ({ params, req }) => {
          const crdt = live(service, params.name as string);
          const body = await readJson(req);
          if (!("op" in body)) throw new RequestError(`give \`op\`: the operation, ${OP_HINT}`);
          await crdt.apply(body.op);
          return json(await describe(crdt));
        },
      },
    },
  ];
}
