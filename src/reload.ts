/**
 * Hot reload: an ordered list of named steps, like an OTP release upgrade.
 *
 *   1. validate        the handle names the installed generation; no other reload of this id runs
 *   2. instantiate     the new version, vetted like a first load and invisible to every lookup
 *   3. check-manifest  same id, registry keys free, no stateful kind dropped (unless `force`)
 *   4. check-compat    on the REAL live state: every index opens in the new version with the same
 *                      probe schema; every CRDT state reads back with an equal value and merges
 *                      across versions; every logical type keeps storage type and encoding version
 *                      and round-trips the literals seen in traffic
 *   5. quiesce         new calls queue (not fail); in-flight calls and leases drain, or the reload aborts
 *   6. handoff         index: persist(old) → open(new), old kept; CRDT: persist → from-persisted;
 *                      CDC: checkpoint(old) → start(new, checkpoint) → redeliver retained batches,
 *                      new emits staged. Bytes move old memory → new memory in one copy.
 *   7. commit          registry swap, generation + 1, resources rebound, staged emits released,
 *                      queued calls released to the new version — nothing here can fail halfway
 *   8. retire          shut the old CDC streams down, drop old resources, dispose the old instance
 *
 * Any failure in steps 1–7 (an error, a trap, a timeout) rolls back: the new
 * version is disposed, the old one keeps serving exactly as before, queued calls
 * run on it, and the `ReloadError` carries a report naming the failed step.
 *
 * A serving version that trapped cannot be read from; it is replaced only with
 * `force` (see replacingPoisoned): CDC resumes from what its sink received, its
 * indexes and CRDT states are dropped.
 *
 * @module
 */
import { decode } from "@msgpack/msgpack";
import { fromIPC } from "./arrow.ts";
import { sameBytes } from "./bytes.ts";
import { ErrorCode, PluginError, ReloadError, toPluginError } from "./errors.ts";
import type { PluginHost } from "./host.ts";
import { type Capability, declared, SURFACES, type Surface } from "./manifest.ts";
import { type PluginHandle, type PluginVersion, stamp } from "./plugin.ts";
import { LiveCdc, type PendingCdcHandoff } from "./resources/cdc.ts";
import { LiveCrdt } from "./resources/crdt.ts";
import type { LiveResource, PluginEntry } from "./resources/entry.ts";
import { LiveIndex } from "./resources/index.ts";
import { firstColumn, utf8Column } from "./resources/logical-type.ts";
import type { PluginSource } from "./sources.ts";
import type { IndexHandle } from "./surfaces/index.ts";
import type { CrdtState } from "./surfaces/crdt.ts";

export type StepName =
  | "validate"
  | "instantiate"
  | "check-manifest"
  | "check-compat"
  | "quiesce"
  | "handoff"
  | "commit"
  | "retire";

export interface ReloadOptions {
  /** Allow the new version to drop stateful kinds; live resources of those kinds are dropped at commit. */
  force?: boolean;
  /** Overrides the host's drain timeout for step 5. */
  drainTimeoutMs?: number;
  /** Fails any step still running after this long (default 30 s). Calls into wasm cannot be interrupted. */
  stepTimeoutMs?: number;
  /** Narrows the host's grants for the new version. */
  grants?: readonly Capability[];
  /** Runs at the start of every step; a throw or rejection fails that step. For tracing and fault injection. */
  beforeStep?: (step: StepName, context: ReloadContext) => void | Promise<void>;
}

/** What `beforeStep` sees. */
export interface ReloadContext {
  readonly old: PluginVersion;
  readonly next: PluginVersion | undefined;
}

export interface StepReport {
  step: StepName;
  ok: boolean;
  ms: number;
  detail?: string;
  error?: { code: number; message: string };
}

export interface ReloadReport {
  ok: boolean;
  pluginId: string;
  from: PluginHandle;
  /** The new version's handle (on success). */
  to?: PluginHandle;
  steps: StepReport[];
  failedStep?: StepName;
  reason?: string;
  /** What was handed over. */
  moved: { indexes: number; crdtStates: number; cdcStreams: number; bytes: number };
  totalMs: number;
}

/** Everything one reload holds, so rollback knows exactly what to undo. */
interface Run {
  host: PluginHost;
  handle: PluginHandle;
  source: PluginSource;
  options: ReloadOptions;
  entry?: PluginEntry;
  old?: PluginVersion;
  next?: PluginVersion;
  indexes: Map<LiveIndex, IndexHandle>;
  crdts: Map<LiveCrdt, CrdtState>;
  streams: Map<LiveCdc, PendingCdcHandoff>;
  dropped: LiveResource[];
  retiring: { indexes: IndexHandle[]; crdts: CrdtState[]; streams: [LiveCdc, ReturnType<LiveCdc["commitHandoff"]>][] };
  report: ReloadReport;
  /** Set on failure, so a step body still running after its timeout does nothing. */
  aborted: boolean;
}

type Step = (run: Run) => void | Promise<void>;

/** The reload, in order. Each step's body is below, in the same order. */
const STEPS: readonly [StepName, Step][] = [
  ["validate", validate],
  ["instantiate", instantiate],
  ["check-manifest", checkManifest],
  ["check-compat", checkCompat],
  ["quiesce", quiesce],
  ["handoff", handoff],
  ["commit", commit],
  ["retire", retire],
];

export async function reload(
  host: PluginHost,
  handle: PluginHandle,
  source: PluginSource,
  options: ReloadOptions = {},
): Promise<ReloadReport> {
  const t0 = performance.now();
  const run: Run = {
    host,
    handle,
    source,
    options,
    indexes: new Map(),
    crdts: new Map(),
    streams: new Map(),
    dropped: [],
    retiring: { indexes: [], crdts: [], streams: [] },
    aborted: false,
    report: {
      ok: false,
      pluginId: handle.id,
      from: handle,
      steps: [],
      moved: { indexes: 0, crdtStates: 0, cdcStreams: 0, bytes: 0 },
      totalMs: 0,
    },
  };
  for (const [name, body] of STEPS) {
    const s0 = performance.now();
    try {
      await withTimeout(name, options.stepTimeoutMs ?? 30_000, async () => {
        if (options.beforeStep && run.old) await options.beforeStep(name, { old: run.old, next: run.next });
        if (run.aborted) return; // timed out while the hook ran: rollback has happened, touch nothing
        await body(run);
      });
      run.report.steps.push({ step: name, ok: true, ms: performance.now() - s0, ...detailOf(run, name) });
    } catch (err) {
      const e = toPluginError(err, handle.id);
      run.report.steps.push({
        step: name,
        ok: false,
        ms: performance.now() - s0,
        error: { code: e.code, message: e.message },
      });
      if (name === "retire") break; // committed already: the new version serves; the report says what retire missed
      run.aborted = true;
      rollback(run);
      run.report.failedStep = name;
      run.report.reason = e.message;
      run.report.totalMs = performance.now() - t0;
      throw new ReloadError(
        name,
        `reload of ${handle.id} failed at ${name}: ${e.message}; ${run.old ? "the old version keeps serving" : "nothing changed"}`,
        {
          // Host codes say what went wrong (StaleHandle, Timeout, Trap, InvalidManifest…); a plugin's own
          // fn-error codes (>= 0x100) mean nothing to the caller of reload, so those become Reload.
          code: e.code <= 0xff ? e.code : ErrorCode.Reload,
          pluginId: handle.id,
          cause: e,
          report: run.report,
        },
      );
    }
  }
  run.report.ok = true;
  run.report.totalMs = performance.now() - t0;
  return run.report;
}

// 1. validate -------------------------------------------------------------
function validate(run: Run): void {
  const entry = run.host.entryFor(run.handle); // NotFound / StaleHandle
  if (entry.reloading) {
    throw new ReloadError("validate", `another reload of ${run.handle.id} is in progress`, { pluginId: run.handle.id });
  }
  entry.reloading = true;
  run.entry = entry;
  run.old = entry.current;
}

// 2. instantiate ----------------------------------------------------------
async function instantiate(run: Run): Promise<void> {
  run.next = await run.host.vet(run.source, run.options.grants);
}

// 3. check-manifest -------------------------------------------------------
function checkManifest(run: Run): void {
  const { old, next } = versions(run);
  if (next.manifest.id !== old.manifest.id) {
    throw new ReloadError("check-manifest", `the new component is ${next.manifest.id}, not ${old.manifest.id}`);
  }
  run.host.registry.check(old, next);
  const dropped: string[] = [];
  for (const surface of SURFACES) {
    const kept = new Set(declared(next.manifest, surface));
    for (const key of declared(old.manifest, surface)) if (!kept.has(key)) dropped.push(`${surface} "${key}"`);
  }
  if (dropped.length && !run.options.force) {
    throw new ReloadError(
      "check-manifest",
      `version ${next.manifest.version} drops ${dropped.join(", ")}; reload with { force: true } to drop them and their live state`,
      { code: ErrorCode.Reload },
    );
  }
}

// 4. check-compat ---------------------------------------------------------
function checkCompat(run: Run): void {
  const { old, next } = versions(run);
  const kept = (surface: Surface, key: string) => declared(next.manifest, surface).includes(key);
  if (old.instance.poisoned) {
    replacingPoisoned(run);
    return;
  }

  for (const r of liveOf(run, LiveIndex)) {
    if (!kept("index", r.kind)) continue;
    const fresh = naming("index", r.kind, () => moveIndex(run, r));
    const [before, after] = [r.handle.schema(), fresh.schema()];
    if (!sameBytes(before, after)) {
      // Different bytes may still be the same schema (metadata order, padding): compare what Arrow reads.
      const [want, got] = [schemaOf(before), schemaOf(after)];
      if (want !== got) incompatible("index", r.kind, `probe schema changed from ${want} to ${got}`);
    }
  }

  const crdtKinds = new Set(declared(old.manifest, "crdt").filter((k) => kept("crdt", k)));
  const nextCrdt = next.instance.crdt;
  for (const r of liveOf(run, LiveCrdt)) {
    if (!kept("crdt", r.kind) || !nextCrdt) continue;
    crdtKinds.delete(r.kind);
    const want = decode(r.state.value());
    // Every call below goes to the new instance, so the lent view of the old one's bytes stays valid: no copy out.
    r.state.persistLent((bytes) => {
      const probe = naming(
        "crdt",
        r.kind,
        () => [nextCrdt.fromPersisted(r.kind, bytes), nextCrdt.empty(r.kind)] as const,
      );
      try {
        sameValue(r.kind, "read back by the new version", want, decode(probe[0].value()));
        naming("crdt", r.kind, () => probe[1].merge(bytes)); // old bytes merge into a new-version state
        sameValue(r.kind, "merged into an empty new-version state", want, decode(probe[1].value()));
        probe[0].merge(probe[1].persist()); // new bytes merge into it: idempotent
        sameValue(r.kind, "merged with itself across versions", want, decode(probe[0].value()));
      } finally {
        for (const p of probe) p.drop();
      }
    });
  }
  for (const kind of crdtKinds) {
    // No live state of this kind: still prove the new version reads the old one's empty state.
    const empty = old.instance.crdt?.empty(kind);
    if (!empty || !nextCrdt) continue;
    try {
      naming("crdt", kind, () => empty.persistLent((bytes) => nextCrdt.fromPersisted(kind, bytes))).drop();
    } finally {
      empty.drop();
    }
  }

  const oldTypes = old.instance.logicalType;
  const newTypes = next.instance.logicalType;
  for (const name of declared(old.manifest, "logical-type")) {
    if (!kept("logical-type", name) || !oldTypes || !newTypes) continue;
    const [t0, t1] = [oldTypes.arrowType(name), newTypes.arrowType(name)];
    if (t0 !== t1) incompatible("logical type", name, `storage type changed from ${t0} to ${t1}`);
    const [v0, v1] = [oldTypes.encodingVersion(name), newTypes.encodingVersion(name)];
    if (v0 !== v1) incompatible("logical type", name, `encoding version changed from ${v0} to ${v1}`);
    const samples = [...(run.host.typeSamples.get(name) ?? [])];
    if (!samples.length) continue;
    const stored = oldTypes.fromLiteral(name, utf8Column(samples));
    const shown = firstColumn(oldTypes.toDisplay(name, stored));
    const shownByNew = firstColumn(newTypes.toDisplay(name, stored));
    const reparsed = firstColumn(newTypes.toDisplay(name, newTypes.fromLiteral(name, utf8Column(shown as string[]))));
    for (let i = 0; i < samples.length; i++) {
      if (shownByNew[i] !== shown[i] || reparsed[i] !== shown[i]) {
        incompatible(
          "logical type",
          name,
          `literal ${JSON.stringify(samples[i])} displays as ${JSON.stringify(shown[i])} in the old version but ` +
            `${JSON.stringify(shownByNew[i])} (stored) / ${JSON.stringify(reparsed[i])} (re-parsed) in the new one`,
        );
      }
    }
  }
}

/**
 * The serving version trapped: its memory cannot be trusted, so no state can be read out of it. Replacing it
 * takes `force`, and drops its live indexes and CRDT states (say which); CDC streams lose nothing — the host's
 * log holds every batch after what the sink received, and the new version resumes there.
 */
function replacingPoisoned(run: Run): void {
  const lost = [...liveOf(run, LiveIndex), ...liveOf(run, LiveCrdt)];
  if (!run.options.force) {
    const what = lost.length ? `; replacing it drops ${lost.map((r) => `${r.surface} "${r.name}"`).join(", ")}` : "";
    throw new PluginError(
      ErrorCode.Poisoned,
      `the serving version ${versions(run).old.manifest.version} trapped, so its state cannot be read${what}. ` +
        "Reload with { force: true } to replace it (CDC streams resume from what their sinks received)",
    );
  }
  run.dropped.push(...lost);
}

// 5. quiesce --------------------------------------------------------------
async function quiesce(run: Run): Promise<void> {
  const gate = (run.entry as PluginEntry).gate;
  gate.close();
  const timeout = run.options.drainTimeoutMs ?? run.host.options.drainTimeoutMs;
  if (!(await gate.drain(timeout))) {
    throw new PluginError(
      ErrorCode.Timeout,
      `drain timed out after ${timeout} ms with ${gate.inFlight} call(s) or lease(s) still in flight; not cutting over`,
    );
  }
}

// 6. handoff --------------------------------------------------------------
function handoff(run: Run): void {
  const { old, next } = versions(run);
  if (old.instance.poisoned) {
    // Only CDC survives a trapped version (see replacingPoisoned); anything created since check-compat goes too.
    for (const r of [...liveOf(run, LiveIndex), ...liveOf(run, LiveCrdt)]) {
      if (!run.dropped.includes(r)) run.dropped.push(r);
    }
    for (const r of liveOf(run, LiveCdc)) run.streams.set(r, r.prepareHandoff(next));
    return;
  }
  for (const r of liveOf(run, LiveIndex)) {
    if (declared(next.manifest, "index").includes(r.kind)) {
      if (!run.indexes.has(r)) moveIndex(run, r); // created after check-compat
    } else run.dropped.push(r);
  }
  const crdt = next.instance.crdt;
  for (const r of liveOf(run, LiveCrdt)) {
    if (!crdt || !declared(next.manifest, "crdt").includes(r.kind)) {
      run.dropped.push(r);
      continue;
    }
    const want = decode(r.state.value());
    const state = r.state.persistLent((view) => {
      run.report.moved.bytes += view.byteLength;
      return crdt.fromPersisted(r.kind, view);
    });
    run.crdts.set(r, state);
    sameValue(r.kind, `state "${r.name}" handed over`, want, decode(state.value()));
  }
  for (const r of liveOf(run, LiveCdc)) {
    if (declared(next.manifest, "cdc").includes(r.output)) run.streams.set(r, r.prepareHandoff(next));
    else run.dropped.push(r);
  }
}

// 7. commit ---------------------------------------------------------------
function commit(run: Run): void {
  const { old, next } = versions(run);
  const entry = run.entry as PluginEntry;
  // The last checks; nothing is written before they pass.
  if (next.instance.poisoned || next.instance.disposed) {
    throw new PluginError(ErrorCode.Poisoned, "the new version trapped during the reload; not committing it");
  }
  run.host.registry.check(old, next);
  stamp(next, run.host.nextGeneration(next.handle.id));
  run.host.registry.replace(old, next);
  entry.current = next;
  for (const [r, handle] of run.indexes) {
    if (r.dropped) {
      quietly(() => handle.drop()); // dropped by its user after check-compat opened it in the new version
      continue;
    }
    run.retiring.indexes.push(r.handle);
    r.handle = handle;
  }
  for (const [r, state] of run.crdts) {
    run.retiring.crdts.push(r.state);
    r.state = state;
  }
  for (const [r, pending] of run.streams) run.retiring.streams.push([r, r.commitHandoff(pending)]);
  for (const r of run.dropped) r.dropNow();
  run.report.moved.indexes = run.indexes.size;
  run.report.moved.crdtStates = run.crdts.size;
  run.report.moved.cdcStreams = run.streams.size;
  run.report.to = next.handle;
  entry.reloading = false;
  entry.gate.open();
}

// 8. retire ---------------------------------------------------------------
function retire(run: Run): void {
  const problems: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      problems.push(`${what}: ${toPluginError(err).message}`);
    }
  };
  for (const [r, old] of run.retiring.streams) attempt(`shutdown of cdc "${r.name}"`, () => r.retire(old));
  for (const h of run.retiring.indexes) attempt("index drop", () => h.drop());
  for (const s of run.retiring.crdts) attempt("crdt drop", () => s.drop());
  versions(run).old.instance.dispose();
  if (problems.length) throw new PluginError(ErrorCode.Reload, `retired with problems: ${problems.join("; ")}`);
}

// rollback ----------------------------------------------------------------
/** Undoes steps 2–6: the new version goes, the old one serves on as if nothing happened. */
function rollback(run: Run): void {
  for (const [r, pending] of run.streams) r.abortHandoff(pending);
  for (const h of run.indexes.values()) quietly(() => h.drop());
  for (const s of run.crdts.values()) quietly(() => s.drop());
  run.next?.instance.dispose();
  if (run.entry && run.entry.current === run.old) {
    run.entry.reloading = false;
    run.entry.gate.open(); // queued calls now run on the old version
  }
}

// helpers -----------------------------------------------------------------
function versions(run: Run): { old: PluginVersion; next: PluginVersion } {
  return { old: run.old as PluginVersion, next: run.next as PluginVersion };
}

function liveOf<T extends LiveResource>(run: Run, type: abstract new (...args: never[]) => T): T[] {
  return [...(run.entry as PluginEntry).resources].filter((r): r is T => r instanceof type && !r.dropped);
}

/** persist (old) → open (new), the bytes moving from old memory to new memory in one copy. */
function moveIndex(run: Run, r: LiveIndex): IndexHandle {
  const index = versions(run).next.instance.index;
  if (!index) throw new ReloadError("handoff", `the new version does not export uni:plugin/index`);
  const fresh = r.handle.persistLent((view) => {
    run.report.moved.bytes += view.byteLength;
    return index.open(r.kind, view);
  });
  run.indexes.set(r, fresh);
  return fresh;
}

function schemaOf(ipc: Uint8Array): string {
  return fromIPC(ipc)
    .schema.fields.map((f) => `${f.name}: ${f.type}`)
    .join(", ");
}

/** Runs a compat probe, turning a plugin error into one that names the kind at fault. */
function naming<T>(surface: string, key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = toPluginError(err);
    if (e.code === ErrorCode.Reload) throw e;
    throw new PluginError(ErrorCode.Reload, `${surface} "${key}" is incompatible: ${e.message}`, { cause: e });
  }
}

function incompatible(surface: string, key: string, reason: string): never {
  throw new PluginError(ErrorCode.Reload, `${surface} "${key}" is incompatible: ${reason}`);
}

function sameValue(kind: string, what: string, want: unknown, got: unknown): void {
  if (!deepEqual(want, got)) {
    incompatible("crdt", kind, `state ${what} has value ${show(got)}, expected ${show(want)}`);
  }
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? [...x] : x));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return BigInt(a as number) === BigInt(b as number);
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return sameBytes(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      deepEqual(ka, kb) &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Undoing a half-made resource of a version being thrown away: nothing more to do.
  }
}

function detailOf(run: Run, step: StepName): { detail?: string } {
  switch (step) {
    case "instantiate":
      return run.next
        ? {
            detail: `${run.next.manifest.id}@${run.next.manifest.version} (module ${run.next.module.hash.slice(0, 12)})`,
          }
        : {};
    case "handoff":
      return {
        detail: `${run.indexes.size} index(es), ${run.crdts.size} crdt state(s), ${run.streams.size} cdc stream(s), ${run.report.moved.bytes} bytes`,
      };
    case "commit":
      return run.next ? { detail: `generation ${run.old?.handle.generation} → ${run.next.handle.generation}` } : {};
    default:
      return {};
  }
}

async function withTimeout(step: StepName, ms: number, fn: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginError(ErrorCode.Timeout, `step ${step} did not finish within ${ms} ms`)),
      ms,
    );
  });
  try {
    await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
