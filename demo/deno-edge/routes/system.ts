/**
 * GET /health, GET /metrics, GET /openapi.json, and the notes of records a restart set aside (GET/DELETE
 * /quarantine).
 *
 * @module
 */
import { clearQuarantineNotes, quarantineNotes } from "../edge-records.ts";
import { json, noContent } from "../json.ts";
import { openApiDocument } from "../openapi.ts";
import type { Route } from "../router.ts";
import type { EdgeService } from "../service.ts";

/** Something that keeps the server from doing all it should, and what to do about it. */
interface Problem {
  what: string;
  reason: string;
  action: string;
}

function problems(service: EdgeService): Problem[] {
  const out: Problem[] = [];
  for (const [name, sink] of service.sinks) {
    const stream = sink.stream;
    if (sink.problem) {
      out.push({
        what: `CDC stream "${name}" has no sink`,
        reason: sink.problem,
        action: `its batches wait in the host's log; DELETE /cdc/${name} and create it again to start over`,
      });
    }
    if (stream.sinkError) {
      out.push({
        what: `CDC stream "${name}": delivery to its sink log is halted`,
        reason: stream.sinkError.message,
        action: "the server retries with backoff; nothing is lost meanwhile",
      });
    }
    if (stream.halted) {
      out.push({
        what: `CDC stream "${name}": its output (${stream.output}) failed`,
        reason: stream.halted.message,
        action: `POST a fixed version to /plugins/${encodeURIComponent(stream.servedBy.id)}/reload; the stream resumes from its checkpoint`,
      });
    }
  }
  return out;
}

export function systemRoutes(service: EdgeService): Route[] {
  return [
    {
      path: "/health",
      methods: {
        GET: async () => {
          const quarantined = await quarantineNotes(service.store);
          const broken = problems(service);
          const r = service.restore;
          return json(
            {
              ok: broken.length === 0 && quarantined.length === 0,
              status: broken.length ? "failing" : quarantined.length ? "degraded" : "ok",
              uptimeMs: Date.now() - service.startedAt,
              plugins: service.host.plugins().map((p) => `${p.id}@${p.version}`),
              restored: {
                plugins: r.plugins.length,
                resources: r.resources.length,
                quarantined: r.quarantined.length,
                ms: Math.round(r.ms),
              },
              quarantined,
              problems: broken,
              ...(quarantined.length
                ? {
                    advice:
                      "Records listed under quarantined could not be restored and were set aside; everything else serves. " +
                      "Do what each note's action says, then DELETE /quarantine to clear the notes.",
                  }
                : {}),
            },
            broken.length ? 503 : 200,
          );
        },
      },
    },
    {
      path: "/metrics",
      methods: {
        GET: async () => {
          const streams = service.resources("cdc").map(({ name }) => {
            const cdc = service.host.cdc(name);
            return { name, next: cdc?.nextLsn ?? 0n, acknowledged: cdc?.acknowledged ?? 0n };
          });
          return new Response(service.metrics.render(service.host.plugins(), streams), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          });
        },
      },
    },
    {
      path: "/openapi.json",
      methods: { GET: async () => json(openApiDocument()) },
    },
    {
      path: "/quarantine",
      methods: {
        GET: async () => json({ quarantined: await quarantineNotes(service.store) }),
        DELETE: async () => {
          await clearQuarantineNotes(service.store);
          return noContent();
        },
      },
    },
  ];
}
