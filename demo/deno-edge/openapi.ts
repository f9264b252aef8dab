/**
 * The edge API as an OpenAPI 3.1 document, served at GET /openapi.json. test/edge/openapi.test.ts holds the
 * server to it: every route the server answers is here with its methods, and every status code and content type
 * documented for an operation is one the server really answers (and nothing else is).
 *
 * @module
 */
import { ref, schemas } from "./openapi-schemas.ts";

type Doc = Record<string, unknown>;

const JSON_TYPE = "application/json";
const ARROW = "application/vnd.apache.arrow.stream";

const jsonContent = (schema: Doc) => ({ [JSON_TYPE]: { schema } });
const ok = (description: string, schema: Doc) => ({ description, content: jsonContent(schema) });
const error = (description: string) => ({ description, content: jsonContent(ref("Error")) });
const created = (description: string, schema: Doc) => ({
  description,
  headers: { Location: { description: "The new resource's URL.", schema: { type: "string" } } },
  content: jsonContent(schema),
});
const noContent = (description: string) => ({ description });

const pathParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", minLength: 1 },
});
const queryParam = (name: string, description: string, schema: Doc) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

const arrowBody = (description: string) => ({ schema: { type: "string", contentMediaType: ARROW, description } });
const componentBody = {
  required: true,
  description: "The component's bytes (a .wasm file).",
  content: {
    "application/wasm": { schema: { type: "string", contentMediaType: "application/wasm" } },
    "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } },
  },
};

const badBody = error("The body or a parameter is malformed (code 0x02); nothing was created or changed.");
const tooLarge = error("The body is over 64 MiB (code 0x04).");
const wrongType = error("The Content-Type is not one this route takes.");
const notAcceptable = error(`Accept allows neither ${JSON_TYPE} nor ${ARROW}.`);
const unknownKind = error("No loaded plugin provides the kind or output the body names (code 0x46).");
const unexpected = error("An unexpected failure: 500, or 503 when retrying may help (`retryable`).");

const NAME = pathParam("name", "The resource's name: 1 to 200 bytes of UTF-8, no control characters or /.");
const STREAM = pathParam("stream", "The stream's name: 1 to 200 bytes of UTF-8, no control characters or /.");
const ID = pathParam("id", "The plugin id, e.g. dev.uni.vector-flat.");
const FORCE = queryParam("force", "true: also drop what only this plugin serves.", { type: "boolean" });

export function openApiDocument(): Doc {
  return {
    openapi: "3.1.0",
    info: {
      title: "uni-plugin-runtime edge server",
      version: "1.0.0",
      description:
        "Database plugins (WebAssembly components) behind HTTP, with all state in Deno KV. Errors are JSON " +
        "{ error, code, codeName, message, retryable } with hex codes (0x45). A known path with a method it does " +
        "not answer is a 405 with an Allow header; an unknown path is a 404. See demo/README.md.",
    },
    paths: {
      "/health": {
        get: {
          summary: "Whether the server serves everything, what was restored, and what was set aside",
          responses: {
            "200": ok("Serving (status ok, or degraded when records were set aside at a restart).", ref("Health")),
            "503": ok("A CDC stream cannot deliver (status failing); problems says what to do.", ref("Health")),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus text: requests, reloads, plugin versions, CDC positions",
          responses: {
            "200": {
              description: "Prometheus text format 0.0.4.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { "200": ok("OpenAPI 3.1.", { type: "object" }) } },
      },
      "/quarantine": {
        get: {
          summary: "Records a restart could not restore and set aside, with what to do",
          responses: { "200": ok("The notes (also shown at /health).", ref("Quarantine")) },
        },
        delete: {
          summary: "Clears the notes once acted on (the set-aside records stay in the store)",
          responses: { "204": noContent("Cleared.") },
        },
      },
      "/plugins": {
        get: { summary: "Loaded plugins", responses: { "200": ok("Every loaded plugin.", ref("PluginList")) } },
        post: {
          summary: "Upload and load a component",
          requestBody: componentBody,
          responses: {
            "201": created("Loaded, and durable.", ref("Plugin")),
            "400": error("The body is empty."),
            "409": error("A plugin with this id is loaded (code 0x45): POST /plugins/{id}/reload replaces it."),
            "413": tooLarge,
            "415": wrongType,
            "422": error("Not a loadable uni:plugin component, or its manifest is refused; nothing changed."),
            default: unexpected,
          },
        },
      },
      "/plugins/{id}": {
        parameters: [ID],
        get: {
          summary: "One plugin",
          responses: { "200": ok("The plugin.", ref("Plugin")), "404": error("Not loaded."), default: unexpected },
        },
        delete: {
          summary: "Unload a plugin",
          parameters: [FORCE],
          responses: {
            "204": noContent("Unloaded; with force, its live resources are dropped too."),
            "400": badBody,
            "404": error("Not loaded."),
            "409": error("It still serves live resources (code 0x05); DELETE them first, or use force=true."),
            default: unexpected,
          },
        },
      },
      "/plugins/{id}/reload": {
        parameters: [ID],
        post: {
          summary: "Hot reload to an uploaded version; live state is handed over",
          parameters: [
            FORCE,
            queryParam("dryRun", "true: check the new version against the live state, change nothing.", {
              type: "boolean",
            }),
          ],
          requestBody: componentBody,
          responses: {
            "200": ok("The new version serves (or, with dryRun, would be accepted).", ref("ReloadResult")),
            "400": error("The body is empty or a parameter is malformed."),
            "404": error("Not loaded."),
            "409": error("Refused (code 0x4a); `step` names the reload step. The old version keeps serving."),
            "413": tooLarge,
            "415": wrongType,
            "422": error("Not a loadable component; the old version keeps serving."),
            default: unexpected,
          },
        },
      },
      "/indexes": {
        get: { summary: "Live indexes", responses: { "200": ok("Every live index.", ref("IndexList")) } },
      },
      "/indexes/{name}": {
        parameters: [NAME],
        get: {
          summary: "One index, with the schema its probes answer in",
          responses: {
            "200": ok("The index.", ref("IndexDetail")),
            "404": error("No such index."),
            default: unexpected,
          },
        },
        post: {
          summary: "Build an index of any kind a loaded plugin provides",
          parameters: [
            queryParam(
              "kind",
              "The index kind (Arrow bodies; JSON bodies may say it in the body). Default vector.flat.",
              {
                type: "string",
              },
            ),
            queryParam("options", 'The build options as JSON, e.g. {"metric":"cosine"} (or in a JSON body).', {
              type: "string",
            }),
          ],
          requestBody: {
            required: true,
            content: {
              [ARROW]: arrowBody("The build input: an Arrow IPC stream in the schema the kind reads (any schema)."),
              [JSON_TYPE]: { schema: ref("IndexBuild") },
            },
          },
          responses: {
            "201": created("Built, and durable.", ref("IndexCreated")),
            "400": badBody,
            "409": error("An index of this name exists (code 0x45)."),
            "413": tooLarge,
            "415": wrongType,
            "422": unknownKind,
            default: unexpected,
          },
        },
        delete: {
          summary: "Drop an index",
          responses: {
            "204": noContent("Dropped, in memory and in KV."),
            "404": error("No such index."),
            default: unexpected,
          },
        },
      },
      "/indexes/{name}/search": {
        parameters: [NAME],
        post: {
          summary: "Probe: the k nearest (or whatever the kind answers) per query row",
          parameters: [
            queryParam("k", "Results per query row, 1 to 1000 (default 10).", {
              type: "integer",
              minimum: 1,
              maximum: 1000,
            }),
          ],
          requestBody: {
            required: true,
            content: {
              [ARROW]: arrowBody("Query rows as an Arrow IPC stream in the kind's query schema."),
              [JSON_TYPE]: { schema: ref("IndexQuery") },
            },
          },
          responses: {
            "200": {
              description: "The probe's rows: Arrow IPC as the plugin wrote them, or JSON, as Accept asks.",
              headers: { "X-Served-By": { description: "id@version#generation", schema: { type: "string" } } },
              content: { [JSON_TYPE]: { schema: ref("SearchResult") }, [ARROW]: arrowBody("The probe's output.") },
            },
            "400": badBody,
            "404": error("No such index."),
            "406": notAcceptable,
            "413": tooLarge,
            "415": wrongType,
            default: unexpected,
          },
        },
      },
      "/crdts": {
        get: { summary: "Live CRDT states", responses: { "200": ok("Every live CRDT state.", ref("CrdtList")) } },
      },
      "/crdts/{name}": {
        parameters: [NAME],
        get: {
          summary: "A CRDT state's value",
          responses: { "200": ok("The value.", ref("Crdt")), "404": error("No such CRDT state."), default: unexpected },
        },
        post: {
          summary: "Create a CRDT state of any kind a loaded plugin provides (optionally applying a first op)",
          requestBody: { required: true, content: jsonContent(ref("CrdtCreate")) },
          responses: {
            "201": created("Created, and durable.", ref("Crdt")),
            "400": error("Malformed body, or the plugin refused the first op (then nothing was created)."),
            "409": error("A CRDT state of this name exists (code 0x45): POST /crdts/{name}/ops applies ops."),
            "413": tooLarge,
            "415": wrongType,
            "422": unknownKind,
            default: unexpected,
          },
        },
        delete: {
          summary: "Drop a CRDT state",
          responses: {
            "204": noContent("Dropped, in memory and in KV."),
            "404": error("No such CRDT state."),
            default: unexpected,
          },
        },
      },
      "/crdts/{name}/ops": {
        parameters: [NAME],
        post: {
          summary: "Apply an op",
          requestBody: { required: true, content: jsonContent(ref("CrdtOp")) },
          responses: {
            "200": ok("Applied, and durable.", ref("Crdt")),
            "400": error("Malformed body, or the plugin refused the op (nothing changed)."),
            "404": error("No such CRDT state."),
            "413": tooLarge,
            "415": wrongType,
            default: unexpected,
          },
        },
      },
      "/cdc": {
        get: { summary: "Live CDC streams", responses: { "200": ok("Every live stream.", ref("StreamList")) } },
      },
      "/cdc/{stream}": {
        parameters: [STREAM],
        get: {
          summary: "A stream's positions and what its sink log holds",
          parameters: [
            queryParam("from", "List sink batches starting at or after this LSN.", { type: "integer", minimum: 0 }),
            queryParam("limit", "At most this many batches, 1 to 1000 (default 100).", {
              type: "integer",
              minimum: 1,
              maximum: 1000,
            }),
          ],
          responses: {
            "200": ok("The stream.", ref("StreamDetail")),
            "400": badBody,
            "404": error("No such stream."),
            default: unexpected,
          },
        },
        post: {
          summary: "Create a stream through any CDC output a loaded plugin provides",
          requestBody: { required: true, content: jsonContent(ref("StreamCreate")) },
          responses: {
            "201": created("Created, and durable.", ref("Stream")),
            "400": badBody,
            "409": error("A stream of this name exists (code 0x45)."),
            "413": tooLarge,
            "415": wrongType,
            "422": unknownKind,
            default: unexpected,
          },
        },
        delete: {
          summary: "Drop a stream and its sink log",
          responses: {
            "204": noContent("Dropped, in memory and in KV."),
            "404": error("No such stream."),
            default: unexpected,
          },
        },
      },
      "/cdc/{stream}/ingest": {
        parameters: [STREAM],
        post: {
          summary: "Publish a change batch (answered once it is durable and, normally, in the sink log)",
          parameters: [
            queryParam("source", "The batch's source position (Arrow bodies; JSON bodies may say it in the body).", {
              type: "string",
            }),
            queryParam("commitMicros", "Commit time in microseconds since the Unix epoch (default now).", {
              type: "integer",
            }),
          ],
          requestBody: {
            required: true,
            content: {
              [ARROW]: arrowBody("The change rows as an Arrow IPC stream (any schema)."),
              [JSON_TYPE]: { schema: ref("IngestRows") },
            },
          },
          responses: {
            "200": ok("Logged durably, with its LSN range.", ref("IngestResult")),
            "400": error("Malformed batch, or the output refused it (nothing was logged)."),
            "404": error("No such stream: create it first with POST /cdc/{stream}."),
            "413": tooLarge,
            "415": wrongType,
            "503": error("The stream has no sink log (see /health); nothing was logged."),
            default: unexpected,
          },
        },
      },
      "/cdc/{stream}/batches/{lsnStart}": {
        parameters: [STREAM, pathParam("lsnStart", "The first LSN of a batch the sink log holds.")],
        get: {
          summary: "One batch the sink received, as the output emitted it",
          responses: {
            "200": {
              description: "The payload: Arrow IPC as emitted, or its rows as JSON, as Accept asks.",
              content: { [JSON_TYPE]: { schema: ref("BatchRecords") }, [ARROW]: arrowBody("The emitted payload.") },
            },
            "400": badBody,
            "404": error("No such stream, or no batch starts at that LSN."),
            "406": notAcceptable,
            default: unexpected,
          },
        },
      },
    },
    components: { schemas },
  };
}
