/**
 * Plugins: list, upload (201), describe, unload (DELETE), and hot reload to an uploaded version.
 *
 * @module
 */
import { ErrorCode, type PluginInfo, type ReloadReport } from "../../../src/mod.ts";
import { readComponent } from "../bodies.ts";
import { conflict, notFound } from "../http-errors.ts";
import { created, json, noContent } from "../json.ts";
import { loadOptions, reloadOptions } from "../load-options.ts";
import type { Route } from "../router.ts";
import { describePlugin, type EdgeService, servedBy } from "../service.ts";
import { flag } from "../validate.ts";

const ROUTE_OF: Record<string, string> = { index: "/indexes/", crdt: "/crdts/", cdc: "/cdc/" };

function loaded(service: EdgeService, id: string): PluginInfo {
  const info = service.plugin(id);
  if (!info) throw notFound(`plugin ${id} is not loaded (GET /plugins lists them; POST /plugins uploads one)`);
  return info;
}

/** A reload report without the full plugin descriptions it carries (GET /plugins/{id} has those). */
function summary(report: ReloadReport) {
  return {
    ok: report.ok,
    from: servedBy(report.from),
    ...(report.to ? { to: servedBy(report.to) } : {}),
    steps: report.steps,
    moved: report.moved,
    totalMs: report.totalMs,
  };
}

export function pluginRoutes(service: EdgeService): Route[] {
  const host = service.host;
  return [
    {
      path: "/plugins",
      methods: {
        GET: async () => json({ plugins: host.plugins().map(describePlugin) }),
        POST: async ({ req }) => {
          const bytes = await readComponent(req);
          // Vetted, registered and durable in one step; on any failure nothing is registered or stored.
          const handle = await host.load(bytes, loadOptions("upload"));
          return created(`/plugins/${encodeURIComponent(handle.id)}`, describePlugin(loaded(service, handle.id)));
        },
      },
    },
    {
      path: "/plugins/{id}",
      methods: {
        GET: async ({ params }) => json(describePlugin(loaded(service, params.id as string))),
        DELETE: async ({ params, url }) => {
          const force = flag(url, "force");
          const info = loaded(service, params.id as string);
          if (!force && info.resources.length) {
            const routes = info.resources.map(
              (r) => `DELETE ${ROUTE_OF[r.surface] ?? "/"}${encodeURIComponent(r.name)}`,
            );
            throw conflict(
              `plugin ${info.id} still serves ${info.resources.map((r) => `${r.surface} "${r.name}"`).join(", ")}: ` +
                `${routes.join(", ")} first, or DELETE /plugins/${encodeURIComponent(info.id)}?force=true to drop them with it`,
              ErrorCode.Forbidden,
              info.id,
            );
          }
          await host.unload(info, { force });
          await service.reconcileSinks();
          return noContent();
        },
      },
    },
    {
      path: "/plugins/{id}/reload",
      methods: {
        POST: async ({ params, url, req }) => {
          const options = reloadOptions({ force: flag(url, "force"), dryRun: flag(url, "dryRun") });
          const current = loaded(service, params.id as string);
          const bytes = await readComponent(req);
          let report: ReloadReport;
          try {
            report = await host.reload(current, bytes, options);
          } catch (err) {
            service.metrics.reload(current.id, "refused");
            throw err;
          }
          service.metrics.reload(current.id, options.dryRun ? "dry-run" : "ok");
          if (!options.dryRun) await service.reconcileSinks(); // a forced reload may have dropped streams
          return json({
            ok: true,
            dryRun: options.dryRun === true,
            plugin: describePlugin(loaded(service, current.id)),
            report: summary(report),
          });
        },
      },
    },
  ];
}
