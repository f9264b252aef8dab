// Node-only: it starts a real PostgreSQL cluster (initdb, pg_ctl) and drives the CDC host as a child process
// (Deno running examples/postgres-cdc/main.ts), which it kills with SIGKILL. None of that exists in a browser, and
// the Deno suite runs without the permissions it needs.
//
// Postgres logical decoding end to end: ≥ 20k changes in many transactions (inserts, updates, deletes, one large
// transaction) stream from a pgoutput slot through a live `changelog` stream into a downstream Postgres sink.
// Mid-stream the output is reloaded v1 → v2, then the host process is killed with kill -9 and restarted — once on
// the host's durable store (Deno KV: the plugin version and the stream come back from it, the sink is handed what it
// had not acknowledged, the slot replays what never reached the host), once in memory (the stream resumes from the
// sink's progress, the slot replays the rest). Checked against an independent test_decoding slot over the same WAL: every change delivered exactly once, in commit order, each batch with its transaction's
// commit LSN and commit time; and the slot's confirmed position never ahead of what the sink acknowledged.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalLsn, parseLsn } from "../../examples/postgres-cdc/lsn.ts";
import { type Cluster, serverBinaries, startCluster } from "./cluster.ts";
import { SOURCE_SCHEMA, Workload } from "./workload.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(root, "node_modules", ".bin", "deno");
const component = (name: string) => join(root, "plugins-wasm", "dist", `${name}.wasm`);
const SLOT = "cdc_slot";
const AUDIT = "audit_slot";

/** The CDC host process: examples/postgres-cdc/main.ts, with its JSON-line events collected. */
class HostProcess {
  readonly events: Record<string, unknown>[] = [];
  readonly child: ChildProcess;
  readonly stderr: string[] = [];
  #waiters: { test: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];

  /** With `stateDir`, the host keeps its state in a Deno KV file there (CDC_STATE_DIR); without, in memory. */
  constructor(cluster: Cluster, plugin: string, stateDir: string | null) {
    const store = stateDir
      ? ["--unstable-kv", `--allow-read=.,${stateDir}`, `--allow-write=${stateDir}`]
      : ["--allow-read=."];
    this.child = spawn(
      deno,
      ["run", "--allow-net=127.0.0.1", ...store, "--allow-env", "examples/postgres-cdc/main.ts"],
      {
        cwd: root,
        env: {
          ...process.env,
          NO_COLOR: "1",
          PGHOST: "127.0.0.1",
          PGPORT: String(cluster.port),
          PGUSER: "postgres",
          PGDATABASE: "postgres",
          CDC_SINK_DATABASE: "downstream",
          CDC_SLOT: SLOT,
          CDC_PUBLICATION: "cdc_pub",
          CDC_PLUGIN: component(plugin),
          ...(stateDir ? { CDC_STATE_DIR: stateDir } : {}),
        },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      this.events.push(event);
      const ready = this.#waiters.filter((w) => w.test(event));
      this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(event);
    });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on("line", (l) => this.stderr.push(l));
  }

  next(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const seen = this.events.find((e) => e.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no "${event}" from the CDC host within ${timeoutMs} ms; stderr: ${this.stderr.join("\n")}`),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        test: (e) => e.event === event,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  send(command: object): void {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  errors(): Record<string, unknown>[] {
    return this.events.filter((e) => e.event === "error");
  }
}

interface AuditTx {
  commitLsn: string;
  commitMicros: bigint;
  changes: string[];
}

/** The same WAL, decoded independently by test_decoding: transactions in commit order, each change as a string. */
async function audit(source: pg.Client): Promise<AuditTx[]> {
  const { rows } = await source.query<{ lsn: string; data: string }>(
    "select lsn::text, data from pg_logical_slot_peek_changes($1, null, null, 'include-timestamp', 'on', 'include-xids', 'on')",
    [AUDIT],
  );
  const txs: AuditTx[] = [];
  let open: string[] = [];
  for (const { lsn, data } of rows) {
    if (data.startsWith("BEGIN")) open = [];
    else if (data.startsWith("COMMIT")) {
      const at = /\(at (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00\)$/.exec(data);
      if (!at) throw new Error(`unexpected commit line ${data}`);
      const micros = BigInt(Date.parse(`${at[1]}T${at[2]}Z`)) * 1000n + BigInt((at[3] ?? "").padEnd(6, "0"));
      txs.push({ commitLsn: canonicalLsn(lsn), commitMicros: micros, changes: open });
    } else {
      const m =
        /^table (\S+): (INSERT|UPDATE|DELETE): id\[bigint\]:(\d+)(?:.*?(?:qty|amount)\[integer\]:(-?\d+))?/.exec(data);
      if (!m) throw new Error(`unexpected change line ${data}`);
      open.push(`${m[1]} ${(m[2] as string).toLowerCase()} ${m[3]} ${m[4] ?? "-"}`);
    }
  }
  return txs;
}

interface SinkBatch {
  start: bigint;
  end: bigint;
  source: string;
  commitMicros: bigint;
  emittedBy: string;
  changes: string[];
}

/** What the downstream sink holds, batch by batch in host LSN order, changes in the same format as audit(). */
async function downstream(sink: pg.Client): Promise<SinkBatch[]> {
  const batches = await sink.query<{ s: string; e: string; source: string; micros: string; by: string }>(
    "select host_lsn_start::text s, host_lsn_end::text e, source_lsn::text source, commit_micros::text micros, emitted_by by from cdc_batches order by host_lsn_start",
  );
  const changes = await sink.query<{ lsn: string; change: string }>(
    `select host_lsn::text lsn, relation || ' ' || op || ' ' || (key->>'id') || ' ' || coalesce(data->>'qty', data->>'amount', '-') change
     from cdc_changes order by host_lsn`,
  );
  let i = 0;
  return batches.rows.map((b) => {
    const batch: SinkBatch = {
      start: BigInt(b.s),
      end: BigInt(b.e),
      source: b.source,
      commitMicros: BigInt(b.micros),
      emittedBy: b.by,
      changes: [],
    };
    while (i < changes.rows.length && BigInt((changes.rows[i] as { lsn: string }).lsn) < batch.end) {
      batch.changes.push((changes.rows[i++] as { change: string }).change);
    }
    return batch;
  });
}

describe("the Postgres test's prerequisites", () => {
  it("finds this machine's server binaries, and without any says how to install them", () => {
    expect(serverBinaries()).toMatch(/bin$/);
    expect(() => serverBinaries({ versionRoots: [], path: "" })).toThrow(/apt-get install postgresql/);
  });
});

describe.each([
  { mode: "durable", durable: true },
  { mode: "in-memory", durable: false },
])("CDC from Postgres logical decoding, end to end, restarting $mode", ({ durable }) => {
  let cluster: Cluster;
  let stateDir: string | null = null;
  let source: pg.Client;
  let sink: pg.Client;
  let host: HostProcess | null = null;

  beforeAll(async () => {
    cluster = await startCluster();
    if (durable) stateDir = mkdtempSync(join(tmpdir(), "uni-pg-cdc-state-"));
    source = new pg.Client(cluster.config());
    await source.connect();
    await source.query("create database downstream");
    await source.query(SOURCE_SCHEMA);
    await source.query("create publication cdc_pub for table items, orders");
    await source.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [SLOT]);
    await source.query("select pg_create_logical_replication_slot($1, 'test_decoding')", [AUDIT]);
    sink = new pg.Client(cluster.config("downstream"));
    await sink.connect();
  });

  afterAll(async () => {
    if (host && host.child.exitCode === null) host.child.kill("SIGKILL");
    await sink?.end().catch(() => undefined);
    await source?.end().catch(() => undefined);
    await cluster?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("≥ 20k changes through a reload and a kill -9: exactly once, in commit order, positions preserved", {
    timeout: 150_000,
  }, async () => {
    const workload = new Workload(source);
    const sinkChanges = async () =>
      Number(
        (await sink.query("select count(*)::int n from cdc_changes").catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n,
      );
    const slotConfirmed = async () =>
      parseLsn(
        (
          await source.query("select confirmed_flush_lsn::text l from pg_replication_slots where slot_name = $1", [
            SLOT,
          ])
        ).rows[0].l,
      );
    const sinkSource = async () =>
      ((await sink.query("select source_lsn::text l from cdc_progress").catch(() => ({ rows: [] }))).rows[0]?.l as
        | string
        | undefined) ?? null;
    const slotAtStart = await slotConfirmed();
    /** The slot's confirmed position is never ahead of what the sink holds: read the slot first, then the sink. */
    const violations: string[] = [];
    let samples = 0;
    const sample = async () => {
      const slot = await slotConfirmed();
      const held = await sinkSource();
      samples++;
      const bound = held ? parseLsn(held) : slotAtStart;
      if (slot > bound) violations.push(`slot confirmed ${slot.toString(16)} > sink ${held}`);
    };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await sample();
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const until = async (what: string, test: () => Promise<boolean>, timeoutMs = 60_000) => {
      const t0 = Date.now();
      while (!(await test())) {
        if (Date.now() - t0 > timeoutMs)
          throw new Error(`timed out waiting for ${what}; host stderr: ${host?.stderr.join("\n")}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    // Phase A: v1 streams.
    host = new HostProcess(cluster, "changelog-v1", stateDir);
    expect((await host.next("started")).replicationFrom).toBe(null);
    for (let t = 0; t < 60; t++) await workload.small(t);
    const phaseA = workload.changes;
    await until("phase A downstream", async () => (await sinkChanges()) >= phaseA / 2);

    // Phase B: reload v1 → v2 while the workload goes on, then the large transaction.
    host.send({ reload: component("changelog-v2") });
    for (let t = 60; t < 90; t++) await workload.small(t);
    expect((await host.next("reloaded")).version).toBe("2.0.0");
    await workload.large(6000);

    // kill -9 mid-stream: right after the large transaction commits, while the host is still streaming it.
    await until("phase B under way downstream", async () => (await sinkChanges()) > phaseA + 1000);
    const committedAtKill = workload.changes;
    host.child.kill("SIGKILL");
    await once(host.child, "exit");
    const atKill = await sinkChanges();
    expect(atKill, "the kill landed mid-stream: committed upstream, not yet downstream").toBeLessThan(committedAtKill);
    // Transactions committed while the host is down are replayed after the restart.
    for (let t = 90; t < 120; t++) await workload.small(t);
    // Nothing moves now: once the slot is released, its confirmed position must be at or below the sink's.
    await until("the killed host's walsender to exit", async () => {
      const { rows } = await source.query("select active from pg_replication_slots where slot_name = $1", [SLOT]);
      return rows[0].active === false;
    });
    await sample();
    const heldAtKill = await sinkSource();
    expect(heldAtKill).not.toBe(null);
    expect((await slotConfirmed()) <= parseLsn(heldAtKill as string)).toBe(true);
    const errorsBefore = host.errors();

    if (durable) {
      // Restart on the store, naming v1 as the component to load: the store, not the command line, says what serves.
      host = new HostProcess(cluster, "changelog-v1", stateDir);
      const restore = await host.next("restored");
      expect(restore.version, "the reload to v2 before the kill was durable").toBe("2.0.0");
      expect(restore.quarantined).toEqual([]);
      const restarted = await host.next("started");
      expect(restarted.restored).toBe(true);
      // Replication resumes after the last transaction the host's store holds: at or past what the sink holds.
      expect(parseLsn(restarted.replicationFrom as string) >= parseLsn(heldAtKill as string)).toBe(true);
    } else {
      // Restart in memory: the stream resumes from the sink's progress, replication from the sink's last commit.
      host = new HostProcess(cluster, "changelog-v2", null);
      const restarted = await host.next("started");
      expect(restarted.restored).toBe(false);
      expect(restarted.replicationFrom).toBe(heldAtKill);
    }
    for (let t = 120; t < 180; t++) await workload.small(t);
    const total = workload.changes;
    await until("every change downstream", async () => (await sinkChanges()) >= total, 90_000);
    await until(
      "the slot confirmed to the end",
      async () => (await slotConfirmed()) === parseLsn((await sinkSource()) as string),
      10_000,
    );
    sampling = false;
    await sampler;
    host.child.stdin?.end(); // stops cleanly
    await once(host.child, "exit");

    // What the sink holds, against test_decoding over the same WAL.
    const expected = await audit(source);
    const got = await downstream(sink);
    expect(errorsBefore).toEqual([]);
    expect(host.errors()).toEqual([]);
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(20);
    expect(total).toBeGreaterThanOrEqual(20_000);
    expect(expected.length).toBe(workload.transactions);
    expect(expected.reduce((n, tx) => n + tx.changes.length, 0)).toBe(total);
    expect(Math.max(...expected.map((tx) => tx.changes.length))).toBeGreaterThanOrEqual(9000);

    expect(got.length).toBe(expected.length);
    let next = 0n;
    for (const [i, batch] of got.entries()) {
      const tx = expected[i] as AuditTx;
      expect(batch.start, `batch ${i} continues the host LSNs`).toBe(next);
      next = batch.end;
      expect(batch.source, `batch ${i}: source position = the transaction's commit LSN`).toBe(tx.commitLsn);
      expect(batch.commitMicros, `batch ${i}: commit time`).toBe(tx.commitMicros);
      expect(batch.changes, `batch ${i}: its changes, exactly once and in order`).toEqual(tx.changes);
    }
    const versions = new Set(got.map((b) => b.emittedBy));
    expect(versions).toEqual(new Set(["dev.uni.changelog@1.0.0", "dev.uni.changelog@2.0.0"]));
    expect(await slotConfirmed()).toBe(parseLsn(got.at(-1)?.source as string));
  });
});
