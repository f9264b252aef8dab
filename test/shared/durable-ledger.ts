// The checker of the durable-host crash tests: it keeps every acknowledgement a workload reported
// (durable-workload.ts) and holds each restart's host and downstream against them. Runtime-neutral and free of any
// test framework: `check` returns what is wrong, one line per violation, and the caller asserts it is empty.
//
// The rules, per restart (the previous restart's view is the baseline):
// - plugins: each id serves its last acknowledged version at its generation, or the version of a reload that was
//   in flight (then at a higher generation); generations never go down; every resource is served by its plugin's
//   version; nothing is quarantined;
// - CRDTs: every acknowledged or-set element is there, nothing that was never written is, at most the one step in
//   flight per writer is added; the pn-counter counts every acknowledged step, plus at most one per writer;
// - indexes: every acknowledged index answers its probe exactly as acknowledged, every acknowledged drop stays
//   dropped, nothing else appears but the one build in flight;
// - CDC: the stream's next LSN covers every acknowledged publish and every LSN downstream holds (none is handed
//   out twice); its acknowledged position is within what downstream holds; downstream holds LSNs 0..position
//   contiguously, each row id once, and each acknowledged publish's rows exactly at its LSNs.
import { type Ack, batchIds, CRDT_WRITERS, type DownstreamRecord, type HostView, PLUGINS } from "./durable-workload.ts";

interface Pub {
  round: number;
  p: number;
  i: number;
  lsnStart: bigint;
  lsnEnd: bigint;
}

interface RoundAcks {
  round: number;
  loaded: Map<string, { version: string; generation: number }>;
  reloading: Map<string, string>;
  created: Set<string>;
  crdt: Map<number, number>;
  indexes: Map<string, string>;
  dropping: Set<string>;
  dropped: Set<string>;
  sinkAcks: number;
  redelivered: number;
}

function freshRound(round: number): RoundAcks {
  return {
    round,
    loaded: new Map(),
    reloading: new Map(),
    created: new Set(),
    crdt: new Map(),
    indexes: new Map(),
    dropping: new Set(),
    dropped: new Set(),
    sinkAcks: 0,
    redelivered: 0,
  };
}

export interface LedgerStats {
  restarts: number;
  acks: number;
  reloads: number;
  publishes: number;
  crdtSteps: number;
  indexes: number;
  /** Emits downstream recognised as already held (a redelivery after a crash). */
  redelivered: number;
  /** Reloads in flight at a crash that were found committed after it. */
  reloadsFoundCommitted: number;
  downstreamRows: number;
}

export class Ledger {
  /**
   * Snapshot durability: acknowledged CRDT ops, index builds and drops, and publishes may be lost in a crash (what
   * changed since the last write), so only consistency is checked for them: nothing appears that was never
   * written, indexes probe as built, downstream stays contiguous with each row once and never ahead of the stream.
   * Loads and reloads are durable before they are acknowledged at every level.
   */
  readonly #lossy: boolean;
  #base: HostView | null = null;
  #r: RoundAcks = freshRound(0);
  readonly #maxGeneration = new Map<string, number>();
  /** Acknowledged publishes not yet verified downstream. */
  #pubs: Pub[] = [];
  #maxPublished = 0n;
  /** Downstream: verified contiguous up to here; every row id seen; row id by LSN for the pending publishes. */
  #downstreamTo = 0n;
  readonly #ids = new Set<bigint>();
  readonly #idAt = new Map<bigint, bigint>();
  readonly stats: LedgerStats = {
    restarts: 0,
    acks: 0,
    reloads: 0,
    publishes: 0,
    crdtSteps: 0,
    indexes: 0,
    redelivered: 0,
    reloadsFoundCommitted: 0,
    downstreamRows: 0,
  };

  /** Every index acknowledged, with its probe digest (a lossy restart may bring back a dropped one). */
  readonly #everIndexed = new Map<string, string>();

  constructor(options: { lossy?: boolean } = {}) {
    this.#lossy = options.lossy ?? false;
  }

  /** Where downstream is verified up to: a child need only report its records from here on. */
  get downstreamTo(): bigint {
    return this.#downstreamTo;
  }

  /** Starts taking the acknowledgements of round `round`. */
  begin(round: number): void {
    this.#r = freshRound(round);
  }

  ack(a: Ack): void {
    const r = this.#r;
    this.stats.acks++;
    switch (a.t) {
      case "load":
        r.loaded.set(a.id, { version: a.version, generation: a.generation });
        break;
      case "reloading":
        r.reloading.set(a.id, a.to);
        break;
      case "reloaded":
        r.loaded.set(a.id, { version: a.version, generation: a.generation });
        r.reloading.delete(a.id);
        this.stats.reloads++;
        break;
      case "create":
        r.created.add(a.name);
        break;
      case "crdt":
        r.crdt.set(a.w, Math.max(r.crdt.get(a.w) ?? -1, a.i));
        this.stats.crdtSteps++;
        break;
      case "pub": {
        const pub = { round: r.round, p: a.p, i: a.i, lsnStart: BigInt(a.lsnStart), lsnEnd: BigInt(a.lsnEnd) };
        this.#pubs.push(pub);
        if (pub.lsnEnd > this.#maxPublished) this.#maxPublished = pub.lsnEnd;
        this.stats.publishes++;
        break;
      }
      case "index":
        r.indexes.set(a.name, a.digest);
        this.#everIndexed.set(a.name, a.digest);
        this.stats.indexes++;
        break;
      case "dropping":
        r.dropping.add(a.name);
        break;
      case "dropped":
        r.dropped.add(a.name);
        r.dropping.delete(a.name);
        break;
      case "sink":
        r.sinkAcks++;
        if (a.redelivered) {
          r.redelivered++;
          this.stats.redelivered++;
        }
        break;
      case "caught-up":
        break;
    }
  }

  /**
   * Holds a restarted host (`view`) and downstream (its records from {@link downstreamTo} on, and its position)
   * against everything acknowledged since the last check; returns the violations. The view becomes the baseline
   * (call {@link begin} before the next round's acknowledgements).
   */
  check(view: HostView, records: readonly DownstreamRecord[], position: bigint): string[] {
    const bad: string[] = [];
    const lost: string[] = []; // acknowledged and missing: a violation unless lossy
    const r = this.#r;
    const base = this.#base;
    this.stats.restarts++;
    if (view.quarantined.length) bad.push(`quarantined: ${view.quarantined.join("; ")}`);

    // Plugins and generations.
    for (const id of Object.keys(PLUGINS)) {
      const got = view.plugins[id];
      const acked = r.loaded.get(id) ?? base?.plugins[id];
      const inFlight = r.reloading.get(id);
      if (acked) {
        const same = got && got.version === acked.version && got.generation === acked.generation;
        const committed = got && inFlight === got.version && got.generation > acked.generation;
        if (committed) this.stats.reloadsFoundCommitted++;
        if (!same && !committed) {
          bad.push(
            `plugin ${id}: serves ${got ? `${got.version} at generation ${got.generation}` : "nothing"}, ` +
              `acknowledged ${acked.version} at ${acked.generation}${inFlight ? ` (reload to ${inFlight} in flight)` : ""}`,
          );
        }
      } else if (got && got.version !== "1.0.0") {
        bad.push(`plugin ${id}: serves ${got.version} though its load was never acknowledged`);
      }
      if (got) {
        const max = this.#maxGeneration.get(id) ?? 0;
        if (got.generation < max) bad.push(`plugin ${id}: generation ${got.generation} after ${max}`);
        this.#maxGeneration.set(id, Math.max(max, got.generation));
      }
    }
    const crdtPlugin = view.plugins["dev.uni.crdt"]?.version;
    const vectorPlugin = view.plugins["dev.uni.vector-flat"]?.version;
    const cdcPlugin = view.plugins["dev.uni.changelog"]?.version;
    if (view.crdtVersion !== null && view.crdtVersion !== crdtPlugin)
      bad.push(`the CRDT states are served by ${view.crdtVersion}, the plugin serves ${crdtPlugin}`);
    if (view.cdc && view.cdc.version !== cdcPlugin)
      bad.push(`the stream is served by ${view.cdc.version}, the plugin serves ${cdcPlugin}`);
    for (const [name, idx] of Object.entries(view.indexes)) {
      if (idx.version !== vectorPlugin)
        bad.push(`index ${name} is served by ${idx.version}, the plugin ${vectorPlugin}`);
    }

    // Resources that must exist.
    const mustExist = (name: string, present: boolean, had: boolean) => {
      if (!present && (had || r.created.has(name))) lost.push(`${name}: acknowledged, missing after the restart`);
    };
    mustExist("tags", view.tags !== null, base?.tags != null);
    mustExist("count", view.count !== null, base?.count != null);
    mustExist("feed", view.cdc !== null, base?.cdc != null);

    // CRDTs.
    if (view.tags) {
      const now = new Set(view.tags);
      for (const e of base?.tags ?? []) if (!now.has(e)) lost.push(`tags: element ${e} from before was lost`);
      const had = new Set(base?.tags ?? []);
      const mine = new Map<number, Set<number>>();
      for (const e of view.tags) {
        if (had.has(e)) continue;
        const [round, w, i] = e.split(".").map(Number) as [number, number, number];
        if (round !== r.round || !(w >= 0 && w < CRDT_WRITERS)) {
          bad.push(`tags: element ${e} appeared, never written in round ${r.round}`);
          continue;
        }
        const set = mine.get(w) ?? new Set<number>();
        set.add(i);
        mine.set(w, set);
      }
      for (let w = 0; w < CRDT_WRITERS; w++) {
        const last = r.crdt.get(w) ?? -1;
        const got = mine.get(w) ?? new Set<number>();
        for (let i = 0; i <= last; i++)
          if (!got.has(i)) lost.push(`tags: acknowledged element ${r.round}.${w}.${i} lost`);
        for (const i of got) if (i > last + 1) bad.push(`tags: element ${r.round}.${w}.${i} was never written`);
      }
    }
    if (view.count !== null) {
      const from = base?.count ?? 0;
      let acked = 0;
      for (const last of r.crdt.values()) acked += last + 1;
      if (view.count < from + acked) lost.push(`count: ${view.count}, expected at least ${from + acked}`);
      if (view.count > from + acked + CRDT_WRITERS) {
        bad.push(`count: ${view.count}, more than the ${from + acked} acknowledged plus one step per writer`);
      }
    }

    // Indexes.
    const expected = new Map<string, string>();
    for (const [name, idx] of Object.entries(base?.indexes ?? {})) expected.set(name, idx.digest);
    for (const [name, digest] of r.indexes) expected.set(name, digest);
    for (const name of r.dropped) expected.delete(name);
    for (const [name, digest] of expected) {
      const got = view.indexes[name];
      if (!got) {
        if (!r.dropping.has(name)) lost.push(`index ${name}: acknowledged, missing after the restart`);
      } else if (got.digest !== digest) {
        bad.push(`index ${name}: probes differently after the restart: ${got.digest} vs ${digest}`);
      }
    }
    const building = `ix.${r.round}.${[...r.indexes.keys()].filter((n) => n.startsWith(`ix.${r.round}.`)).length}`;
    for (const [name, got] of Object.entries(view.indexes)) {
      if (expected.has(name) || name === building) continue;
      const dropped = this.#everIndexed.get(name);
      if (this.#lossy && dropped !== undefined) {
        if (got.digest !== dropped) bad.push(`index ${name}: back after a lost drop, probing differently`);
      } else {
        bad.push(`index ${name}: appeared, never acknowledged or building`);
      }
    }

    // CDC and downstream.
    bad.push(...this.#downstream(records, position));
    if (view.cdc) {
      const next = BigInt(view.cdc.nextLsn);
      const acknowledged = BigInt(view.cdc.acknowledged);
      if (next < this.#maxPublished)
        lost.push(`cdc: next LSN ${next} below the acknowledged publish ending at ${this.#maxPublished}`);
      if (next < position) bad.push(`cdc: next LSN ${next} below what downstream already holds (${position})`);
      if (acknowledged > position)
        bad.push(`cdc: acknowledged ${acknowledged} past what downstream holds (${position}): rows skipped`);
    }

    this.#base = view;
    if (!this.#lossy) bad.push(...lost);
    return bad;
  }

  /** Downstream's records from {@link downstreamTo} on: contiguous, rows once each, publishes at their LSNs. */
  #downstream(records: readonly DownstreamRecord[], position: bigint): string[] {
    const bad: string[] = [];
    let at = this.#downstreamTo;
    for (const rec of records) {
      if (rec.lsnStart < this.#downstreamTo) continue; // checked before (the child reported from further back)
      if (rec.lsnStart !== at) {
        bad.push(`downstream: a record at LSN ${rec.lsnStart}, expected ${at} (a gap or an overlap)`);
        break;
      }
      if (BigInt(rec.ids.length) !== rec.lsnEnd - rec.lsnStart) {
        bad.push(`downstream: [${rec.lsnStart}, ${rec.lsnEnd}) holds ${rec.ids.length} rows`);
        break;
      }
      rec.ids.forEach((id, k) => {
        if (this.#ids.has(id))
          bad.push(`downstream: row ${id} delivered twice (again at LSN ${rec.lsnStart + BigInt(k)})`);
        this.#ids.add(id);
        this.#idAt.set(rec.lsnStart + BigInt(k), id);
      });
      this.stats.downstreamRows += rec.ids.length;
      at = rec.lsnEnd;
    }
    if (at !== position) bad.push(`downstream: records end at ${at}, its position is ${position}`);
    this.#downstreamTo = at;
    const pending: Pub[] = [];
    for (const pub of this.#pubs) {
      if (pub.lsnEnd > at) {
        pending.push(pub);
        continue;
      }
      const want = batchIds(pub.round, pub.p, pub.i);
      const got = want.map((_, k) => this.#idAt.get(pub.lsnStart + BigInt(k)));
      // Lossy: a lost publish's LSNs go to the next one (downstream never saw the lost one: nothing to check).
      if (!this.#lossy && got.some((id, k) => id !== want[k])) {
        bad.push(
          `downstream: acknowledged publish ${pub.round}/${pub.p}/${pub.i} at [${pub.lsnStart}, ${pub.lsnEnd}) holds ` +
            `${got.map(String).join(",")}, not ${want.map(String).join(",")}`,
        );
      }
      for (let k = 0n; k < pub.lsnEnd - pub.lsnStart; k++) this.#idAt.delete(pub.lsnStart + k);
    }
    this.#pubs = pending;
    return bad;
  }

  /** Downstream alone (after a catch-up): its records from {@link downstreamTo} on, and its position. */
  checkDownstream(records: readonly DownstreamRecord[], position: bigint): string[] {
    return this.#downstream(records, position);
  }

  /** After a final catch-up: every acknowledged publish is downstream. */
  allDelivered(): string[] {
    if (this.#lossy) return [];
    return this.#pubs.map(
      (p) => `publish ${p.round}/${p.p}/${p.i} [${p.lsnStart}, ${p.lsnEnd}) never reached downstream`,
    );
  }
}
