/**
 * A downstream sink in Postgres that acknowledges a CDC emit only once it is committed: each emit is written in one
 * transaction, together with the stream's progress (the host LSN it ends at, and the source position and commit
 * time it completes). That one transaction is the sink's half of exactly-once: a durable host that restarts hands
 * again what it had not recorded as acknowledged, and an emit that ends at or below the stored progress is
 * acknowledged without writing. Anything else that does not start exactly where the stored progress ends is
 * refused, so a gap or an overlap fails loudly instead of vanishing.
 *
 * It also refuses a source position at or below the last one it committed (a transaction replayed from the slot).
 * The progress row is where a restarted pipeline resumes from (see pipeline.ts).
 *
 * @module
 */
import pg from "pg";
import { type CdcEmit, fromIPC } from "../../src/mod.ts";
import { parseLsn } from "./lsn.ts";

/** Where a stream's sink stands: everything below `hostLsnEnd` is committed downstream. */
export interface SinkProgress {
  hostLsnEnd: bigint;
  /** The last source position the sink completed (a Postgres commit end LSN), if any. */
  sourceLsn: string | null;
}

const SCHEMA = `
  create table if not exists cdc_progress (
    stream text primary key,
    host_lsn_end numeric not null,
    source_lsn pg_lsn,
    commit_micros bigint
  );
  create table if not exists cdc_batches (
    stream text not null,
    host_lsn_start numeric not null,
    host_lsn_end numeric not null,
    source_lsn pg_lsn,
    commit_micros bigint not null,
    emitted_by text not null,
    primary key (stream, host_lsn_start)
  );
  create table if not exists cdc_changes (
    stream text not null,
    host_lsn numeric not null,
    seq int not null,
    op text not null,
    relation text not null,
    key jsonb not null,
    data jsonb,
    primary key (stream, host_lsn)
  );`;

export class PostgresSink {
  readonly #client: pg.Client;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  /** Connects and creates the sink's tables if they are missing. */
  static async connect(config: pg.ClientConfig): Promise<PostgresSink> {
    const client = new pg.Client(config);
    await client.connect();
    await client.query(SCHEMA);
    return new PostgresSink(client);
  }

  async progress(stream: string): Promise<SinkProgress> {
    const { rows } = await this.#client.query(
      "select host_lsn_end::text as end, source_lsn::text as source from cdc_progress where stream = $1",
      [stream],
    );
    const row = rows[0] as { end: string; source: string | null } | undefined;
    return { hostLsnEnd: BigInt(row?.end ?? 0), sourceLsn: row?.source ?? null };
  }

  /** Emits acknowledged without writing because the sink already held them (redelivered after a restart). */
  skipped = 0;

  /**
   * Writes one emit and its progress in one transaction; resolves once committed (at once for an emit it holds).
   *
   * # Errors
   * Rejects (writing nothing) if the emit does not continue the stored progress, or the write fails.
   */
  async write(emit: CdcEmit): Promise<void> {
    const table = fromIPC(emit.payload);
    const col = (name: string) => [...(table.getChild(name)?.toArray() ?? [])] as unknown[];
    const seq = col("seq") as number[];
    const c = this.#client;
    await c.query("begin");
    try {
      const { rows } = await c.query(
        "select host_lsn_end::text as end, source_lsn::text as source from cdc_progress where stream = $1 for update",
        [emit.stream],
      );
      const stored = rows[0] as { end: string; source: string | null } | undefined;
      if (stored && emit.lsnEnd <= BigInt(stored.end)) {
        await c.query("rollback");
        this.skipped++;
        return; // committed here before the host recorded the acknowledgement: acknowledge it again
      }
      if (stored && BigInt(stored.end) !== emit.lsnStart) {
        throw new Error(
          `sink refused [${emit.lsnStart}, ${emit.lsnEnd}) of "${emit.stream}": it holds everything below ${stored.end}`,
        );
      }
      if (stored?.source && emit.source && parseLsn(emit.source) <= parseLsn(stored.source)) {
        throw new Error(
          `sink refused [${emit.lsnStart}, ${emit.lsnEnd}) of "${emit.stream}": source ${emit.source} is a replay ` +
            `(it holds every commit up to ${stored.source})`,
        );
      }
      await c.query(`insert into cdc_batches values ($1, $2, $3, $4, $5, $6)`, [
        emit.stream,
        emit.lsnStart.toString(),
        emit.lsnEnd.toString(),
        emit.source ?? null,
        emit.commitMicros.toString(),
        `${emit.pluginId}@${emit.version}`,
      ]);
      if (seq.length) {
        await c.query(
          `insert into cdc_changes
             select $1, $2::numeric + s - 1, s - 1, op, relation, key::jsonb, data::jsonb
             from unnest($3::text[], $4::text[], $5::text[], $6::text[]) with ordinality as t(op, relation, key, data, s)`,
          [emit.stream, emit.lsnStart.toString(), col("op"), col("relation"), col("key"), col("data")],
        );
      }
      await c.query(
        `insert into cdc_progress values ($1, $2, $3, $4)
           on conflict (stream) do update
           set host_lsn_end = excluded.host_lsn_end,
               source_lsn = coalesce(excluded.source_lsn, cdc_progress.source_lsn),
               commit_micros = excluded.commit_micros`,
        [emit.stream, emit.lsnEnd.toString(), emit.source ?? null, emit.commitMicros.toString()],
      );
      await c.query("commit");
    } catch (err) {
      await c.query("rollback").catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}
