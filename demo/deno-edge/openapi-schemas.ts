/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the edge API's JSON bodies, referenced from openapi.ts.
 * test/edge validates every JSON response it receives against them.
 *
 * @module
 */

type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** An LSN or an Int64: a JSON number while exact (below 2^53), a decimal string beyond. */
const lsn: Schema = { type: ["integer", "string"], minimum: 0, pattern: "^[0-9]+$" };
const str: Schema = { type: "string" };
const int: Schema = { type: "integer" };
const bool: Schema = { type: "boolean" };

function object(properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema {
  return { type: "object", properties, required };
}

export const schemas: Record<string, Schema> = {
  Error: object(
    {
      error: { ...str, description: "The error class, e.g. RequestError, RegistryError, ReloadError, LoadError." },
      code: {
        type: "string",
        pattern: "^0x[0-9a-f]{2,}$",
        description:
          "The error code in hex, as src/errors.ts writes it (0x02 bad input, 0x45 duplicate, 0x46 not found, …).",
      },
      codeName: {
        ...str,
        description: "The code's name in src/errors.ts (ErrorCode), or PluginDefined for codes >= 0x100.",
      },
      message: { ...str, minLength: 1 },
      retryable: bool,
      pluginId: str,
      step: { ...str, description: "A refused reload: the step that refused (check-manifest, check-compat, …)." },
      steps: { type: "array", items: { type: "object" } },
    },
    ["error", "code", "codeName", "message", "retryable"],
  ),
  ServedBy: object({ id: str, version: str, generation: { type: "integer", minimum: 1 } }),
  Plugin: object({
    id: str,
    version: str,
    generation: {
      type: "integer",
      minimum: 1,
      description: "Rises with every load and reload; never repeats, across restarts too.",
    },
    hash: { ...str, description: "SHA-256 of the component bytes." },
    capabilities: { type: "array", items: str },
    registered: {
      type: "object",
      description: "Registry keys held per surface.",
      properties: {
        index: { type: "array", items: str },
        cdc: { type: "array", items: str },
        crdt: { type: "array", items: str },
        "logical-type": { type: "array", items: str },
      },
    },
    resources: { type: "array", items: object({ surface: str, name: str, key: str }) },
  }),
  PluginList: object({ plugins: { type: "array", items: ref("Plugin") } }),
  ReloadResult: object({
    ok: { const: true },
    dryRun: bool,
    plugin: ref("Plugin"),
    report: object(
      {
        ok: bool,
        from: ref("ServedBy"),
        to: ref("ServedBy"),
        steps: {
          type: "array",
          description: "Each reload step run, in order: { step, ok, ms, detail? }.",
          items: object({ step: str, ok: bool, ms: { type: "number" }, detail: str }, ["step", "ok", "ms"]),
        },
        moved: object({ indexes: int, crdtStates: int, cdcStreams: int, bytes: int }),
        totalMs: { type: "number" },
      },
      ["ok", "from", "steps", "moved", "totalMs"],
    ),
  }),
  Index: object({ name: str, kind: str, servedBy: ref("ServedBy") }),
  IndexCreated: object({
    name: str,
    kind: str,
    servedBy: ref("ServedBy"),
    rows: { type: "integer", minimum: 0 },
  }),
  IndexDetail: object(
    {
      name: str,
      kind: str,
      servedBy: ref("ServedBy"),
      probeSchema: {
        type: ["array", "null"],
        items: object({ name: str, type: str, nullable: bool }),
        description: "The columns probes answer in; null when the plugin could not say (probeSchemaError says why).",
      },
      probeSchemaError: str,
    },
    ["name", "kind", "servedBy", "probeSchema"],
  ),
  IndexList: object({ indexes: { type: "array", items: ref("Index") } }),
  SearchResult: object({
    index: str,
    kind: str,
    servedBy: ref("ServedBy"),
    results: {
      type: "array",
      description: "The probe's rows in the kind's probe schema; vector.flat: { query, id, distance }.",
      items: { type: "object" },
    },
  }),
  Crdt: object({
    name: str,
    kind: str,
    value: { description: "The CRDT's value as the plugin reads it." },
    servedBy: ref("ServedBy"),
  }),
  CrdtList: object({ crdts: { type: "array", items: object({ name: str, kind: str, servedBy: ref("ServedBy") }) } }),
  Stream: object({
    stream: str,
    output: str,
    servedBy: ref("ServedBy"),
    nextLsn: { ...lsn, description: "The LSN the next ingested batch starts at." },
    acknowledged: { ...lsn, description: "Exclusive end of what the sink log has stored." },
  }),
  StreamList: object({ streams: { type: "array", items: ref("Stream") } }),
  Position: object({ lsn, source: str, commitMicros: lsn }, ["lsn"]),
  Batch: object({
    lsnStart: lsn,
    lsnEnd: lsn,
    rows: { type: ["integer", "null"], description: "Rows in the payload (null when it is not Arrow IPC)." },
    emittedBy: { ...str, description: "id@version of the plugin version that emitted it." },
    payloadBytes: int,
  }),
  StreamDetail: object(
    {
      stream: str,
      output: str,
      servedBy: ref("ServedBy"),
      nextLsn: lsn,
      acknowledged: lsn,
      confirmed: ref("Position"),
      sink: object(
        {
          end: { type: ["integer", "string", "null"] },
          problem: str,
          halted: str,
          damaged: { type: "array", items: str, description: "Batch records skipped: their checksum failed." },
        },
        ["end"],
      ),
      batches: { type: "array", items: ref("Batch") },
      next: { ...str, description: "The URL of the next page, when there is one." },
    },
    ["stream", "output", "servedBy", "nextLsn", "acknowledged", "confirmed", "sink", "batches"],
  ),
  IngestResult: object(
    {
      stream: str,
      lsnStart: lsn,
      lsnEnd: lsn,
      rows: int,
      acknowledged: lsn,
      confirmed: ref("Position"),
      delivered: {
        ...bool,
        description: "Whether the batch is in the sink log (else it waits, durably, in the host's log).",
      },
      sinkError: str,
    },
    ["stream", "lsnStart", "lsnEnd", "rows", "acknowledged", "confirmed", "delivered"],
  ),
  BatchRecords: object(
    {
      stream: str,
      lsnStart: lsn,
      lsnEnd: lsn,
      rows: { type: ["integer", "null"] },
      emittedBy: str,
      payloadBytes: int,
      records: { type: "array", items: { type: "object" }, description: "The payload's rows (Arrow IPC payloads)." },
      payloadBase64: { ...str, description: "The payload bytes, when they are not Arrow IPC." },
    },
    ["stream", "lsnStart", "lsnEnd", "rows", "emittedBy", "payloadBytes"],
  ),
  QuarantineNote: object({
    record: { type: "array", items: str, description: "The record's key in the host's store." },
    what: str,
    reason: str,
    action: { ...str, description: "What to do about it, in HTTP routes." },
    at: { ...str, format: "date-time" },
  }),
  Quarantine: object({ quarantined: { type: "array", items: ref("QuarantineNote") } }),
  Problem: object({ what: str, reason: str, action: str }),
  Health: object(
    {
      ok: bool,
      status: { enum: ["ok", "degraded", "failing"] },
      uptimeMs: int,
      plugins: { type: "array", items: str },
      restored: object({ plugins: int, resources: int, quarantined: int, ms: int }),
      quarantined: { type: "array", items: ref("QuarantineNote") },
      problems: { type: "array", items: ref("Problem") },
      advice: str,
    },
    ["ok", "status", "uptimeMs", "plugins", "restored", "quarantined", "problems"],
  ),
  IndexBuild: {
    type: "object",
    properties: {
      kind: { ...str, default: "vector.flat" },
      options: {
        type: "object",
        description: 'The plugin\'s build options, e.g. {"metric": "cosine"} for vector.flat.',
      },
      rows: {
        type: "array",
        minItems: 1,
        items: { type: "object" },
        description:
          "vector.flat: [{ id: integer, vector: number[] }]; other kinds: objects whose columns apache-arrow infers.",
      },
    },
    required: ["rows"],
  },
  IndexQuery: {
    type: "object",
    properties: {
      vector: { type: "array", items: { type: "number" } },
      vectors: { type: "array", items: { type: "array", items: { type: "number" } } },
      rows: { type: "array", items: { type: "object" }, description: "Query rows for kinds other than vector.flat." },
      k: { type: "integer", minimum: 1, maximum: 1000, default: 10 },
    },
  },
  CrdtCreate: {
    type: "object",
    properties: { kind: str, op: { description: "An optional first op." } },
    required: ["kind"],
  },
  CrdtOp: {
    type: "object",
    properties: { op: { description: 'The op, e.g. ["replica-a", 1] for a pn-counter.' } },
    required: ["op"],
  },
  StreamCreate: {
    type: "object",
    properties: { output: str, checkpointEvery: { type: "integer", minimum: 1, maximum: 10000 } },
    required: ["output"],
  },
  IngestRows: {
    type: "object",
    properties: {
      rows: { type: "array", minItems: 1, items: { type: "object" } },
      source: { ...str, description: "The batch's opaque source position (e.g. a Postgres LSN)." },
      commitMicros: { type: ["integer", "string"], description: "Commit time, microseconds since the Unix epoch." },
    },
    required: ["rows"],
  },
};
