/**
 * Postgres logical decoding → a live CDC stream → a downstream sink, with nothing lost and nothing duplicated.
 *
 * - A replication connection streams the slot with pgoutput (pg-logical-replication). Every committed transaction
 *   becomes one change batch, published with its commit end LSN as the source position and its commit time.
 * - The stream's sink writes each emit downstream and acknowledges it when committed (sink.ts).
 * - Every `confirmEveryMs`, the slot is confirmed up to `checkpointPosition().source`: the highest source position
 *   the output has checkpointed and the sink acknowledged. The slot therefore never moves past what the sink holds.
 * - On a restart with a durable host (`PluginHost({ store })`), the stream comes back from the host's store: every
 *   batch it had published and not yet confirmed is there, and the sink is handed again what it had not
 *   acknowledged there (it skips what it already holds). Replication starts after the last transaction the host
 *   had published, so Postgres replays only what never reached the host.
 * - On a restart with an in-memory host, the pipeline reads the sink's progress: the stream resumes at the host LSN
 *   the sink holds everything below, and replication starts at the last commit the sink completed, so Postgres
 *   replays exactly the transactions the sink does not have.
 * - Either way, whatever the slot had confirmed when the previous process died is at or below both.
 *
 * @module
 */
import type pg from "pg";
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication";
import type { CdcStreamState, LiveCdc, PluginHost } from "../../src/mod.ts";
import { TransactionAssembler, transactionTable } from "./changes.ts";
import { formatLsn, parseLsn } from "./lsn.ts";
import type { PostgresSink } from "./sink.ts";

export interface PipelineOptions {
  /** The database to stream from (the replication connection adds `replication: "database"` itself). */
  source: pg.ClientConfig;
  slot: string;
  publication: string;
  host: PluginHost;
  sink: PostgresSink;
  /** The live stream's name (default `"postgres"`), and the CDC output serving it (default `"changelog"`). */
  stream?: string;
  output?: string;
  /** How often the slot is confirmed (and buffering outputs flushed). Default 200 ms. */
  confirmEveryMs?: number;
  /** Progress and failures, for logs. */
  onEvent?: (event: PipelineEvent) => void;
}

export type PipelineEvent =
  | {
      event: "started";
      stream: string;
      /** Whether the stream came back from the host's durable store (else it was attached at the sink's progress). */
      restored: boolean;
      fromLsn: string;
      /** The commit replication starts after; `null` for the slot's own confirmed position. */
      replicationFrom: string | null;
    }
  | { event: "confirmed"; lsn: string; source: string }
  | { event: "error"; message: string };

export interface Pipeline {
  readonly cdc: LiveCdc;
  /** Stops replication and the confirm timer; the stream and the sink stay as they are. */
  stop(): Promise<void>;
}

/**
 * Starts streaming. Resolves once replication has started.
 *
 * # Errors
 * Rejects if the sink, the stream or replication cannot start (a slot still held by a dying process is retried for
 * a few seconds first). Later failures are reported through `onEvent` and stop the pipeline: nothing is confirmed
 * past them, so a restart replays from the sink's progress.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const stream = options.stream ?? "postgres";
  const report = options.onEvent ?? (() => {});
  const progress = await options.sink.progress(stream);
  await options.host.restored;
  const restored = options.host.cdc(stream);
  if (restored && restored.nextLsn < progress.hostLsnEnd) {
    throw new Error(
      `the host's store holds stream "${stream}" up to LSN ${restored.nextLsn}, but the sink holds everything below ` +
        `${progress.hostLsnEnd}: they are not the same stream (a store from elsewhere, or one restored from a backup)`,
    );
  }
  const cdc =
    restored ?? (await options.host.attachCdc(stream, options.output ?? "changelog", { fromLsn: progress.hostLsnEnd }));
  const fromLsn = restored ? restored.acknowledged : progress.hostLsnEnd;
  // Postgres replays every transaction committed after this: the last one the host holds (a durable host has
  // everything it published; an in-memory one only what the sink acknowledged).
  const replicationFrom = (restored && lastSource(restored.state)) ?? progress.sourceLsn;
  cdc.onEmit((emit) => options.sink.write(emit)); // a restored stream first redelivers what was not acknowledged

  const service = new LogicalReplicationService(options.source, {
    acknowledge: { auto: false, timeoutSeconds: 0 }, // confirm only what the sink acknowledged, never on receipt
    flowControl: { enabled: true }, // one message at a time: publish's back-pressure holds the socket
  });
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    report({ event: "error", message: err instanceof Error ? err.message : String(err) });
    void service.stop();
  };

  const assembler = new TransactionAssembler();
  service.on("data", async (_lsn: string, message: Pgoutput.Message) => {
    if (failed) return;
    try {
      const tx = assembler.push(message);
      if (tx) await cdc.publish(transactionTable(tx), { source: tx.commitEndLsn, commitMicros: tx.commitMicros });
    } catch (err) {
      fail(err); // the library would skip to the next message: stop instead, so nothing is skipped
    }
  });

  let confirmed = progress.sourceLsn ? parseLsn(progress.sourceLsn) : 0n; // at or above the slot's confirmed position
  const confirm = async () => {
    const position = await cdc.checkpointPosition();
    if (position.source === undefined) return;
    const lsn = parseLsn(position.source);
    if (lsn <= confirmed) return;
    // pg-logical-replication reports `lsn + 1` as flushed (it takes the LSN as the last byte received): pass one
    // less, so the slot's confirmed_flush_lsn is exactly the commit end LSN the sink holds.
    await service.acknowledge(formatLsn(lsn - 1n));
    confirmed = lsn;
    report({ event: "confirmed", lsn: cdc.acknowledged.toString(), source: position.source });
  };
  service.on("heartbeat", (_lsn: string, _time: number, shouldRespond: boolean) => {
    if (shouldRespond) void service.acknowledge(formatLsn(confirmed > 0n ? confirmed - 1n : 0n)).catch(fail);
  });
  const timer = setInterval(() => void confirm().catch(fail), options.confirmEveryMs ?? 200);

  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] });
  await subscribe(service, plugin, options.slot, replicationFrom ?? undefined, fail);
  report({ event: "started", stream, restored: !!restored, fromLsn: fromLsn.toString(), replicationFrom });
  return {
    cdc,
    async stop() {
      clearInterval(timer);
      failed = true;
      await service.stop();
    },
  };
}

/** The source position of the last batch published into a stream, if any carried one. */
function lastSource(state: CdcStreamState): string | null {
  for (let i = state.log.length - 1; i >= 0; i--) {
    const source = state.log[i]?.source;
    if (source !== undefined) return source;
  }
  return state.confirmed.source ?? null;
}

/** Starts replication; a slot still active for a process that was just killed is retried until its walsender exits. */
async function subscribe(
  service: LogicalReplicationService,
  plugin: PgoutputPlugin,
  slot: string,
  from: string | undefined,
  fail: (err: unknown) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let refused: unknown = null;
    const early = (err: unknown) => {
      refused ??= err;
    };
    service.on("error", early);
    const started = new Promise<void>((resolve) => service.once("start", () => resolve()));
    const running = (from ? service.subscribe(plugin, slot, from) : service.subscribe(plugin, slot)).then(
      () => null,
      (err: unknown) => err,
    );
    const outcome = await Promise.race([started.then(() => null), running]);
    service.off("error", early);
    if (!outcome && !refused) {
      service.on("error", fail);
      void running.then((err) => {
        if (err) fail(err); // replication ended with an error after it had started
      });
      return;
    }
    const err = outcome ?? refused;
    const message = err instanceof Error ? err.message : String(err);
    if (!/is active for PID/.test(message) || attempt >= 50) throw err;
    await new Promise((r) => setTimeout(r, 100));
  }
}
