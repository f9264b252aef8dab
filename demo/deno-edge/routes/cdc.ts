/**
 * CDC streams through any output a loaded plugin provides: list, create (201), read (positions and what the sink
 * log holds), delete, ingest change batches (Arrow IPC or JSON rows), and read one emitted batch back.
 *
 * @module
 */
import { ErrorCode, type LiveCdc } from "../../../src/mod.ts";
import { SinkLog } from "../cdc-sink.ts";
import { negotiate, readData, readJson, tableResponse } from "../bodies.ts";
import { conflict, notFound, RequestError } from "../http-errors.ts";
import { created, json, noContent } from "../json.ts";
import type { Route } from "../router.ts";
import { changeRows } from "../rows.ts";
import { type EdgeService, servedBy } from "../service.ts";
import { checkName, intParam, lsnParam, oneOf, provided } from "../validate.ts";

const CREATE_HINT = '{"output": "changelog"}';

function live(service: EdgeService, name: string): LiveCdc {
  const cdc = service.host.cdc(name);
  if (!cdc) {
    throw notFound(
      `no CDC stream "${name}": create it first with POST /cdc/${name} and a body like ${CREATE_HINT} (GET /cdc lists them)`,
    );
  }
  return cdc;
}

function positions(cdc: LiveCdc) {
  return {
    stream: cdc.name,
    output: cdc.output,
    servedBy: servedBy(cdc.servedBy),
    nextLsn: cdc.nextLsn,
    acknowledged: cdc.acknowledged,
  };
}

/** The batch's commit metadata from the body (JSON) or the query string (Arrow). */
function metaOf(url: URL, body: Record<string, unknown> | undefined): { commitMicros?: bigint; source?: string } {
  const source = oneOf(url, "source", body);
  if (source !== undefined && typeof source !== "string") throw new RequestError("source must be a string");
  const micros = oneOf(url, "commitMicros", body);
  let commitMicros: bigint | undefined;
  if (micros !== undefined) {
    const text = String(micros);
    if (!/^-?\d{1,19}$/.test(text) || (typeof micros === "number" && !Number.isSafeInteger(micros))) {
      throw new RequestError(`commitMicros must be an integer (microseconds since the Unix epoch), got ${text}`);
    }
    commitMicros = BigInt(text);
  }
  return { ...(source === undefined ? {} : { source }), ...(commitMicros === undefined ? {} : { commitMicros }) };
}

export function cdcRoutes(service: EdgeService): Route[] {
  const host = service.host;
  return [
    {
      path: "/cdc",
      methods: {
        GET: async () => json({ streams: service.resources("cdc").map(({ name }) => positions(live(service, name))) }),
      },
    },
    {
      path: "/cdc/{stream}",
      methods: {
        GET: async ({ params, url }) => {
          const cdc = live(service, params.stream as string);
          const from = lsnParam(url.searchParams.get("from"), "query parameter from");
          const limit = intParam(url, "limit", 1, 1000, 100);
          const sink = service.sink(cdc.name);
          const { batches, damaged } = sink?.log
            ? await sink.log.batches(from, limit + 1)
            : { batches: [], damaged: [] };
          const more = batches.length > limit ? batches.pop() : undefined;
          const { confirmed } = cdc.state;
          return json({
            ...positions(cdc),
            confirmed,
            sink: {
              end: sink?.log?.end ?? null,
              ...(sink?.problem ? { problem: sink.problem } : {}),
              ...(cdc.sinkError ? { halted: cdc.sinkError.message } : {}),
              ...(damaged.length ? { damaged } : {}),
            },
            batches,
            ...(more ? { next: `/cdc/${encodeURIComponent(cdc.name)}?from=${more.lsnStart}&limit=${limit}` } : {}),
          });
        },
        POST: async ({ params, req }) => {
          const name = checkName(params.stream as string, "CDC stream");
          if (host.cdc(name))
            throw conflict(`CDC stream "${name}" already exists; ingest with POST /cdc/${name}/ingest`);
          const body = await readJson(req);
          const output = provided(host, "cdc", body.output, "output");
          const every = body.checkpointEvery;
          if (
            every !== undefined &&
            (typeof every !== "number" || !Number.isInteger(every) || every < 1 || every > 10_000)
          ) {
            throw new RequestError("checkpointEvery must be an integer from 1 to 10000");
          }
          // A stream created again after a delete that did not finish, or after its record was set aside, continues
          // after what its sink log already holds: LSNs never go back for a consumer of the log.
          const fromLsn = await SinkLog.storedEnd(service.store, name);
          const cdc = await host.attachCdc(name, output, {
            fromLsn,
            ...(every === undefined ? {} : { checkpointEvery: every as number }),
          });
          await service.subscribe(cdc);
          return created(`/cdc/${encodeURIComponent(name)}`, positions(cdc));
        },
        DELETE: async ({ params }) => {
          const cdc = live(service, params.stream as string);
          await cdc.drop();
          await service.forgetSink(cdc.name);
          return noContent();
        },
      },
    },
    {
      path: "/cdc/{stream}/ingest",
      methods: {
        POST: async ({ params, url, req }) => {
          const cdc = live(service, params.stream as string);
          const problem = service.sink(cdc.name)?.problem;
          if (problem) {
            // Without a sink log nothing would ever be delivered: refuse before anything is logged.
            throw new RequestError(
              `CDC stream "${cdc.name}" has no sink log (${problem}); DELETE /cdc/${cdc.name} and create it again`,
              503,
              ErrorCode.Io,
            );
          }
          const data = await readData(req);
          const body = data.kind === "json" ? data.body : undefined;
          const meta = metaOf(url, body);
          const batch = data.kind === "arrow" ? data.ipc : changeRows(data.body);
          const rows = data.kind === "arrow" ? data.table.numRows : (batch as ReturnType<typeof changeRows>).numRows;
          // Resolves once the batch is in the host's durable log: from here on it is never lost.
          const { lsnStart, lsnEnd } = await cdc.publish(batch, meta);
          await cdc.checkpoint(); // buffering outputs (changelog v2) hand the batch on now
          let sinkError: string | undefined;
          try {
            await cdc.delivered(); // in the sink log
          } catch (err) {
            sinkError = (err as Error).message; // delivery is retried; the batch waits in the host's log
          }
          const confirmed = await cdc.checkpointPosition(); // and the host's record of that, durable
          return json({
            stream: cdc.name,
            lsnStart,
            lsnEnd,
            rows,
            acknowledged: cdc.acknowledged,
            confirmed,
            delivered: sinkError === undefined,
            ...(sinkError === undefined ? {} : { sinkError }),
          });
        },
      },
    },
    {
      path: "/cdc/{stream}/batches/{lsnStart}",
      methods: {
        GET: async ({ params, req }) => {
          const cdc = live(service, params.stream as string);
          const lsnStart = lsnParam(params.lsnStart as string, "lsnStart");
          const format = negotiate(req);
          const found = await service.sink(cdc.name)?.log?.payload(lsnStart);
          if (!found) {
            throw notFound(
              `the sink log of "${cdc.name}" holds no batch starting at LSN ${lsnStart} (GET /cdc/${cdc.name} lists them)`,
            );
          }
          const meta = { stream: cdc.name, ...found.batch };
          if (found.batch.rows === null) {
            if (format === "arrow") throw new RequestError(`this batch's payload is not Arrow IPC; ask for JSON`, 406);
            return json({ ...meta, payloadBase64: base64(found.bytes) });
          }
          return tableResponse(format, found.bytes, meta, {
            key: "records",
            headers: { "x-lsn-range": `${found.batch.lsnStart}-${found.batch.lsnEnd}` },
          });
        },
      },
    },
  ];
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
