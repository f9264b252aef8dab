/**
 * CDC ownership: one node delivers each fleet stream, and another takes over, exactly once to the sink, when it dies.
 *
 * **The lease** (`["fleet", ns, "lease", stream]`: owner, incarnation, fencing token) is taken and renewed with
 * compare-and-set commits on its versionstamp. The owner renews every `leaseTtlMs / 3`; a candidate takes the lease
 * once its versionstamp has not changed for `leaseTtlMs` as the candidate observed it (liveness.ts: no clocks are
 * compared across machines), or at once when it is free or names this node's previous incarnation. The owner stops
 * delivering by itself once `leaseTtlMs` has passed since it sent its last successful renewal — before any
 * candidate can have seen the lease go stale.
 *
 * **The stream's state** (`CdcStreamState`: log, positions, outbox) is published by the owner to
 * `["fleet", ns, "stream", name]` **before each delivery to the sink** that its last publication does not cover,
 * each publication checked against the versionstamp of the owner's previous one. A new owner first rewrites that
 * record with its token (checked against the versionstamp it read and against its own lease), so a deposed owner's
 * next publication fails, and with it the delivery it was about to make. Hence every emit a sink has ever been
 * handed is in the last published state — below its `acknowledged` position, or in its outbox with the same
 * boundaries — and the new owner continues from exactly there: `attachCdc(name, output, { restore: state,
 * fromLsn: state.emittedEnd })`. The outbox is redelivered; the sink acknowledges what it already applied as a
 * duplicate (sink.ts), and applies the rest once. Batches published after that state are read again from the
 * source, from the last source position the state logged (source.ts).
 *
 * @module
 */
import { ErrorCode, toPluginError } from "../errors.ts";
import type { PluginHost } from "../host.ts";
import type { LiveCdc } from "../resources/cdc.ts";
import type { CdcRetain } from "../resources/cdc-room.ts";
import type { CdcEmit, CdcStreamState } from "../resources/cdc-state.ts";
import type { StateStore } from "../store/types.ts";
import type { FleetEvent } from "./converge.ts";
import { FleetError } from "./errors.ts";
import type { FleetKeys } from "./keys.ts";
import { Staleness } from "./liveness.ts";
import { type ChangeNotifier, delay } from "./notify.ts";
import { loadPayload, storePayload } from "./payload.ts";
import {
  decodeValue,
  encodeValue,
  readLease,
  readStream,
  type StreamRecord,
  writeLease,
  writeStream,
} from "./records.ts";
import type { FleetSink } from "./sink.ts";
import type { FleetSource } from "./source.ts";

/** A CDC stream the fleet delivers (`FleetNode.stream`). Every node that declares it is a candidate owner. */
export interface FleetStreamOptions {
  /** The CDC output, e.g. `changelog`. */
  output: string;
  source: FleetSource;
  sink: FleetSink;
  /** How long a silent owner keeps the lease. Default 5000 ms. */
  leaseTtlMs?: number;
  /** How often a candidate reads the lease. Default `leaseTtlMs / 10`, between 50 and 500 ms. */
  leasePollMs?: number;
  /** How often the owner checkpoints, confirms the source and republishes the state. Default 1000 ms. */
  checkpointMs?: number;
  /** Passed to `attachCdc`. */
  checkpointEvery?: number;
  retain?: CdcRetain;
  /** Source batches read per pass. Default 64. */
  readLimit?: number;
}

/** What the status says about a stream on this node. */
export interface StreamStatus {
  name: string;
  output: string;
  role: "owner" | "candidate" | "stopped";
  /** The owner as this node last read the lease. */
  owner?: string;
  token?: number;
  /** Times this node took the stream over, and how long the last takeover took (lease won → stream attached). */
  takeovers: number;
  lastTakeoverMs?: number;
  /** Positions of the state this node last published (as the owner). */
  published?: { emittedEnd: string; acknowledged: string; confirmed: string };
  /** The last error of the owner's work (source, sink, store), if any. */
  error?: string;
}

export interface OwnerContext {
  host: PluginHost;
  store: StateStore;
  keys: FleetKeys;
  nodeId: string;
  incarnation: string;
  notifier: ChangeNotifier;
  event(e: FleetEvent): void;
}

interface Lease {
  versionstamp: string;
  token: number;
  /** performance.now() when the commit that wrote this versionstamp was sent. */
  sentAt: number;
}

export class StreamOwner {
  readonly name: string;
  readonly #c: OwnerContext;
  readonly #o: Required<Omit<FleetStreamOptions, "retain" | "checkpointEvery">> & FleetStreamOptions;
  readonly #staleness = new Staleness();
  #role: "owner" | "candidate" | "stopped" = "candidate";
  /** Bumped at every takeover and step-down: work started for an earlier epoch stops. */
  #epoch = 0;
  #lease: Lease | undefined;
  #streamVs: string | null = null;
  #live: LiveCdc | undefined;
  #publishedEnd = 0n;
  #chain: Promise<void> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #status: StreamStatus;

  constructor(context: OwnerContext, name: string, options: FleetStreamOptions) {
    this.#c = context;
    this.name = name;
    const ttl = Math.max(100, options.leaseTtlMs ?? 5000);
    this.#o = {
      ...options,
      leaseTtlMs: ttl,
      leasePollMs: options.leasePollMs ?? Math.min(500, Math.max(50, ttl / 10)),
      checkpointMs: options.checkpointMs ?? 1000,
      readLimit: options.readLimit ?? 64,
    };
    this.#status = { name, output: options.output, role: "candidate", takeovers: 0 };
  }

  get role(): "owner" | "candidate" | "stopped" {
    return this.#role;
  }

  status(): StreamStatus {
    return structuredClone({ ...this.#status, role: this.#role });
  }

  /** Starts competing for the stream. A copy this node's host restored from its own records goes first. */
  async start(): Promise<void> {
    const stale = this.#c.host.cdc(this.name);
    if (stale) await stale.drop();
    this.#loop = this.#run();
  }

  /** Stops: an owner stops reading, publishes its state and frees the lease, so another node takes over at once. */
  async stop(): Promise<void> {
    if (this.#role === "stopped") return;
    const wasOwner = this.#role === "owner";
    const epoch = this.#epoch;
    const live = this.#live;
    if (wasOwner && live) {
      try {
        await this.#publish(epoch, live, true);
      } catch (err) {
        this.#error(err);
      }
    }
    await this.#stepDown("the node stopped", wasOwner);
    this.#role = "stopped";
    this.#wake?.();
    await this.#loop;
  }

  /** Stops without freeing anything, as a crash would (for tests of failover in one process). */
  halt(): void {
    this.#role = "stopped";
    this.#epoch++;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#role !== "stopped") {
      try {
        await this.#tick();
      } catch (err) {
        this.#error(err);
      }
      const ms = this.#role === "owner" ? this.#o.leaseTtlMs / 3 : this.#o.leasePollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #tick(): Promise<void> {
    const c = this.#c;
    const key = c.keys.lease(this.name);
    const e = await c.store.get(key);
    if (this.#role === "stopped") return;
    const lease = this.#lease;
    if (this.#role === "owner" && lease) {
      if (!e || e.versionstamp !== lease.versionstamp) {
        await this.#stepDown("the lease changed hands", false);
        return;
      }
      await this.#renew(lease);
      return;
    }
    if (!e) return this.#acquire(null, 1);
    const rec = readLease(key, e.value);
    this.#status.owner = rec.owner;
    this.#status.token = rec.token;
    if (rec.owner === c.nodeId) return this.#acquire(e.versionstamp, rec.token + 1); // an earlier incarnation of this node
    if (this.#staleness.observe(this.name, e.versionstamp) >= rec.ttlMs) {
      return this.#acquire(e.versionstamp, rec.token + 1);
    }
  }

  #leaseValue(token: number): Uint8Array {
    const c = this.#c;
    return writeLease({
      owner: c.nodeId,
      incarnation: c.incarnation,
      token,
      ttlMs: this.#o.leaseTtlMs,
      at: Date.now(),
    });
  }

  async #renew(lease: Lease): Promise<void> {
    const c = this.#c;
    const sentAt = performance.now();
    const key = c.keys.lease(this.name);
    const res = await c.store.commit({
      checks: [{ key, versionstamp: lease.versionstamp }],
      mutations: [{ type: "set", key, value: this.#leaseValue(lease.token) }],
    });
    if (this.#lease !== lease) return; // stepped down meanwhile
    if (res.ok) this.#lease = { ...lease, versionstamp: res.versionstamp, sentAt };
    else await this.#stepDown("the lease changed hands", false);
  }

  async #acquire(versionstamp: string | null, token: number): Promise<void> {
    const c = this.#c;
    const key = c.keys.lease(this.name);
    const sentAt = performance.now();
    const res = await c.store.commit({
      checks: [{ key, versionstamp }],
      mutations: [{ type: "set", key, value: this.#leaseValue(token) }],
    });
    if (!res.ok || this.#role === "stopped") return;
    this.#lease = { versionstamp: res.versionstamp, token, sentAt };
    this.#role = "owner";
    this.#status.owner = c.nodeId;
    this.#status.token = token;
    const epoch = ++this.#epoch;
    try {
      await this.#takeOver(epoch, token);
    } catch (err) {
      this.#error(err);
      // Someone else may manage (this node may lack the output, or the store hiccuped): free the lease.
      await this.#stepDown(`the takeover failed: ${toPluginError(err).message}`, true);
    }
  }

  /** Fences the stream's state record with this node's token, then continues the stream from it (module doc). */
  async #takeOver(epoch: number, token: number): Promise<void> {
    const c = this.#c;
    const t0 = performance.now();
    const key = c.keys.stream(this.name);
    let state: CdcStreamState | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt >= 20) throw new FleetError(ErrorCode.Timeout, `lost 20 races fencing stream "${this.name}"`);
      const e = await c.store.get(key);
      const prior = e ? readStream(key, e.value) : undefined;
      state = prior ? (decodeValue(await loadPayload(c.store, prior.state)) as CdcStreamState) : undefined;
      const { record, blobs } = prior
        ? { record: { ...prior, owner: c.nodeId, token, at: Date.now() }, blobs: e?.blobs ?? [] }
        : await this.#record(token, freshState(this.#o.output));
      const lease = this.#owned(epoch);
      const res = await c.store.commit({
        checks: [
          { key, versionstamp: e?.versionstamp ?? null },
          { key: c.keys.lease(this.name), versionstamp: lease.versionstamp },
        ],
        mutations: [{ type: "set", key, value: writeStream(record), blobs }],
      });
      if (res.ok) {
        this.#streamVs = res.versionstamp;
        break;
      }
    }
    const position = await this.#o.sink.position();
    if (!state && position > 0n) {
      throw new FleetError(
        ErrorCode.Corrupt,
        `stream "${this.name}": the sink is at LSN ${position} but the fleet holds no state for the stream`,
      );
    }
    const old = c.host.cdc(this.name);
    if (old) await old.drop(); // a copy restored from this node's own records, or left from an earlier ownership
    this.#owned(epoch);
    const live = await c.host.attachCdc(this.name, this.#o.output, {
      ...(state ? { restore: state, fromLsn: state.emittedEnd } : {}),
      retry: { initialMs: 50, maxMs: 1000 },
      ...(this.#o.checkpointEvery === undefined ? {} : { checkpointEvery: this.#o.checkpointEvery }),
      ...(this.#o.retain === undefined ? {} : { retain: this.#o.retain }),
    });
    if (this.#epoch !== epoch) {
      await live.drop();
      return;
    }
    this.#live = live;
    this.#publishedEnd = state?.emittedEnd ?? 0n;
    live.onEmit((emit) => this.#deliver(epoch, live, emit));
    this.#status.takeovers++;
    this.#status.lastTakeoverMs = performance.now() - t0;
    c.event({ type: "owner", stream: this.name, token });
    void this.#pump(epoch, live, lastSource(state));
    void this.#checkpointer(epoch, live);
  }

  /** The lease, if this node still owns the stream in `epoch` and its lease cannot have expired; else throws. */
  #owned(epoch: number): Lease {
    const lease = this.#lease;
    if (this.#role !== "owner" || this.#epoch !== epoch || !lease) {
      throw new FleetError(ErrorCode.Forbidden, `stream "${this.name}": this node no longer owns it`);
    }
    if (performance.now() - lease.sentAt >= this.#o.leaseTtlMs) {
      throw new FleetError(
        ErrorCode.Timeout,
        `stream "${this.name}": the lease was last renewed ${Math.round(performance.now() - lease.sentAt)} ms ago; ` +
          "not delivering until a renewal succeeds",
        { retryable: true },
      );
    }
    return lease;
  }

  /** The fleet's sink wrapper: the state covering `emit` is published first, then the sink applies it. */
  async #deliver(epoch: number, live: LiveCdc, emit: CdcEmit): Promise<void> {
    const lease = this.#owned(epoch);
    if (emit.lsnEnd > this.#publishedEnd) await this.#publish(epoch, live, false);
    this.#owned(epoch);
    await this.#o.sink.write(emit, { node: this.#c.nodeId, token: lease.token });
  }

  /** Publishes the stream's state (one at a time, each checked against the last): module doc. */
  #publish(epoch: number, live: LiveCdc, force: boolean): Promise<void> {
    const run = async () => {
      const lease = this.#owned(epoch);
      const s = live.state;
      if (!force && s.emittedEnd <= this.#publishedEnd) return;
      const record = await this.#record(lease.token, s);
      const key = this.#c.keys.stream(this.name);
      const res = await this.#c.store.commit({
        checks: [{ key, versionstamp: this.#streamVs }],
        mutations: [{ type: "set", key, value: writeStream(record.record), blobs: record.blobs }],
      });
      if (!res.ok) {
        void this.#stepDown("another node published the stream's state", false);
        throw new FleetError(ErrorCode.Forbidden, `stream "${this.name}": another node took it over`);
      }
      this.#streamVs = res.versionstamp;
      if (s.emittedEnd > this.#publishedEnd) this.#publishedEnd = s.emittedEnd;
      this.#status.published = {
        emittedEnd: String(s.emittedEnd),
        acknowledged: String(s.acknowledged),
        confirmed: String(s.confirmed.lsn),
      };
    };
    const next = this.#chain.then(run);
    this.#chain = next.catch(() => {});
    return next;
  }

  async #record(token: number, s: CdcStreamState): Promise<{ record: StreamRecord; blobs: string[] }> {
    const { payload, blobs } = await storePayload(this.#c.store, encodeValue(s));
    const record: StreamRecord = {
      name: this.name,
      output: this.#o.output,
      owner: this.#c.nodeId,
      token,
      state: payload,
      nextLsn: s.nextLsn,
      acknowledged: s.acknowledged,
      confirmed: s.confirmed.lsn,
      at: Date.now(),
    };
    return { record, blobs };
  }

  /** Reads the source after the last position the stream logged and publishes each batch, in order. */
  async #pump(epoch: number, live: LiveCdc, after: string | undefined): Promise<void> {
    const o = this.#o;
    const waker = this.#c.notifier.waker(o.source.watchKeys ?? []);
    let failures = 0;
    try {
      while (this.#epoch === epoch && this.#role === "owner") {
        let read = 0;
        try {
          const batches = await o.source.read(after, o.readLimit);
          for (const b of batches) {
            if (this.#epoch !== epoch) return;
            const before = live.nextLsn;
            try {
              await live.publish(b.mutations, { source: b.position, commitMicros: b.commitMicros });
            } catch (err) {
              // A stream that halted logged the batch before refusing: it must not be published twice.
              if (live.nextLsn === before) throw err;
            }
            after = b.position;
            read++;
          }
          failures = 0;
        } catch (err) {
          if (this.#epoch !== epoch) return;
          this.#error(err);
          failures++;
          await delay(Math.min(5000, 50 * 2 ** Math.min(failures, 7)));
        }
        await waker.next(read > 0);
      }
    } finally {
      waker.close();
    }
  }

  /** Checkpoints, confirms the source up to the confirmed position, republishes the (trimmed) state. */
  async #checkpointer(epoch: number, live: LiveCdc): Promise<void> {
    let confirmed: string | undefined;
    let lastLsn = -1n;
    while (this.#epoch === epoch && this.#role === "owner") {
      await delay(this.#o.checkpointMs);
      if (this.#epoch !== epoch) return;
      try {
        const position = await live.checkpointPosition();
        if (position.source !== undefined && position.source !== confirmed) {
          await this.#o.source.confirm(position.source);
          confirmed = position.source;
        }
        if (position.lsn !== lastLsn) {
          await this.#publish(epoch, live, true);
          lastLsn = position.lsn;
        }
      } catch (err) {
        if (this.#epoch === epoch) this.#error(err);
      }
    }
  }

  /** Stops delivering; `release`: frees the lease too (checked, so only if it is still this node's). */
  async #stepDown(reason: string, release: boolean): Promise<void> {
    if (this.#role !== "owner") return;
    this.#role = "candidate";
    this.#epoch++;
    const lease = this.#lease;
    this.#lease = undefined;
    const live = this.#live;
    this.#live = undefined;
    this.#c.event({ type: "lost", stream: this.name, reason });
    if (live) await live.drop().catch(() => {}); // its sink wrapper refuses everything from now on
    if (release && lease) {
      const key = this.#c.keys.lease(this.name);
      await this.#c.store
        .commit({ checks: [{ key, versionstamp: lease.versionstamp }], mutations: [{ type: "delete", key }] })
        .catch((err) => this.#error(err));
    }
  }

  #error(err: unknown): void {
    const message = toPluginError(err).message;
    this.#status.error = message;
    this.#c.event({ type: "error", where: `stream "${this.name}"`, message });
  }
}

/** A stream that never delivered anything: its state as a fresh `attachCdc` would start it. */
function freshState(output: string): CdcStreamState {
  return {
    format: 1,
    output,
    nextLsn: 0n,
    checkpointed: 0n,
    emittedEnd: 0n,
    acknowledged: 0n,
    confirmed: { lsn: 0n },
    log: [],
    outbox: [],
  };
}

/** The last source position a state logged: where its source is read again from. */
function lastSource(state: CdcStreamState | undefined): string | undefined {
  if (!state) return undefined;
  for (let i = state.log.length - 1; i >= 0; i--) {
    const source = state.log[i]?.source;
    if (source !== undefined) return source;
  }
  return state.confirmed.source;
}
