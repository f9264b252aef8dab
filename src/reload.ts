/**
 * Hot reload: an ordered list of named steps, like an OTP release upgrade. This
 * file only orders them and undoes them; what each live resource does at each
 * step is its own business (the `Handoff` contract in resources/handoff.ts,
 * implemented in resources/index.ts, crdt.ts, cdc.ts and logical-type.ts).
 *
 *   1. validate        the handle names the installed generation; no other reload of this id runs
 *   2. instantiate     the new version, vetted like a first load and invisible to every lookup
 *   3. check-manifest  same id, registry keys free, no stateful kind dropped (unless `force`)
 *   4. check-compat    each participant proves the new version on the REAL live state. Not a dry
 *                      run: an index is opened in the new version here (persist → open, one copy)
 *                      and that handle is what commit installs; CRDT states are read back and
 *                      merged across versions in probe states dropped again; logical types keep
 *                      storage type and encoding version and round-trip the literals seen. Callers
 *                      are still served meanwhile (in-thread, the thread is busy during each open).
 *   5. quiesce         new calls queue (not fail); in-flight calls and leases drain, or the reload aborts
 *   6. handoff         callers queued: each participant moves what changed since check-compat or was
 *                      created since — CRDT states persist → from-persisted; CDC streams checkpoint,
 *                      seal, start on the new version and redeliver their retained batches (emits staged);
 *                      indexes created after check-compat are opened now. Dropped kinds are marked.
 *   7. commit          registry swap, generation + 1, every participant commits (rebinds or drops),
 *                      staged emits released, queued calls released to the new version — nothing
 *                      here can fail halfway
 *   8. retire          participants release the old side; the old instance is disposed
 *
 * Any failure in steps 1–7 (an error, a trap, a timeout) rolls back: every participant aborts what
 * it made in the new version, the new version is disposed, the old one keeps serving exactly as
 * before, queued calls run on it, and the `ReloadError` carries a report naming the failed step.
 *
 * A serving version that trapped cannot be read from; it is replaced only with `force`: participants
 * that survive a trap (CDC streams: the host's log holds everything after what their sinks received)
 * move over, the rest (indexes, CRDT states) are dropped and named in the refusal without `force`.
 *
 * `{ dryRun: true }` runs steps 1–4 and then rolls back, changing nothing: the report says whether the
 * new version would be accepted (OTP's `check_install_release`).
 *
 * @module
 */
import { ErrorCode, PluginError, ReloadError, toPluginError } from "./errors.ts";
import { type Capability, declared, SURFACES, type Surface } from "./manifest.ts";
import { type Isolation, type PluginHandle, type PluginVersion, stamp } from "./plugin.ts";
import type { PluginEntry } from "./resources/entry.ts";
import { type Handoff, type HandoffContext, type HandoffOutcome, quietly } from "./resources/handoff.ts";
import { disposeQuietly } from "./resources/clients.ts";
import { participants } from "./resources/participants.ts";
import type { PluginSource } from "./sources.ts";
import type { Mutation } from "./store/types.ts";

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
  /** Run validate … check-compat, then roll back: the report says whether the reload would be accepted. */
  dryRun?: boolean;
  /** Overrides the host's drain timeout for step 5. */
  drainTimeoutMs?: number;
  /** Fails any step still running after this long (default 30 s). Calls into wasm cannot be interrupted. */
  stepTimeoutMs?: number;
  /** Narrows the host's grants for the new version. */
  grants?: readonly Capability[];
  /** Where the new version runs; default where the old one does. */
  isolation?: Isolation;
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
  /** Set for `{ dryRun: true }`: nothing was changed, whatever `ok` says. */
  dryRun?: boolean;
  steps: StepReport[];
  failedStep?: StepName;
  reason?: string;
  /** What was handed over. */
  moved: { indexes: number; crdtStates: number; cdcStreams: number; bytes: number };
  totalMs: number;
}

/** The narrow view of the host a reload needs (implemented by `PluginHost`). */
export interface ReloadHost {
  /** The entry of the installed plugin a handle must name. Throws NotFound / StaleHandle. */
  entryFor(handle: PluginHandle): PluginEntry;
  /** Compiles, instantiates (where `isolation` says) and vets a version without registering it. */
  vet(source: PluginSource, grants?: readonly Capability[], isolation?: Isolation): Promise<PluginVersion>;
  /** Throws what swapping `old` for `next` in the registry would throw, changing nothing. */
  checkRegistry(old: PluginVersion, next: PluginVersion): void;
  /** Swaps `old` for `next` in the registry, all or nothing. */
  swapRegistry(old: PluginVersion, next: PluginVersion): void;
  /**
   * Makes `next` the serving version in the host's store (if it has one), with `writes` in the same atomic
   * commit, and resolves its generation: strictly increasing, never reused, across restarts too.
   */
  commitVersion(old: PluginVersion, next: PluginVersion, writes: readonly Mutation[]): Promise<number>;
  /** The host's default drain timeout. */
  readonly drainTimeoutMs: number;
  /** The literals seen in traffic for a logical type. */
  samples(name: string): readonly string[];
}

/** Everything one reload holds, so rollback knows exactly what to undo. */
interface Run {
  readonly host: ReloadHost;
  readonly handle: PluginHandle;
  readonly source: PluginSource;
  readonly options: ReloadOptions;
  entry?: PluginEntry;
  old?: PluginVersion;
  next?: PluginVersion;
  ctx?: HandoffContext;
  /** Each participant's prepared state, from check-compat on. */
  readonly pending: Map<Handoff, unknown>;
  readonly report: ReloadReport;
  /** Set on failure, so a step body still running after its timeout does nothing. */
  aborted: boolean;
  /** Set once the store commit of the version switch has started: from then on the reload completes. */
  pastNoReturn: boolean;
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

/** Runs a reload; see the module doc. Rejects with a `ReloadError` (carrying the report) after rolling back. */
export async function reload(
  host: ReloadHost,
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
    pending: new Map(),
    aborted: false,
    pastNoReturn: false,
    report: {
      ok: false,
      pluginId: handle.id,
      from: handle,
      steps: [],
      moved: { indexes: 0, crdtStates: 0, cdcStreams: 0, bytes: 0 },
      totalMs: 0,
      ...(options.dryRun ? { dryRun: true } : {}),
    },
  };
  for (const [name, body] of STEPS) {
    if (options.dryRun && name === "quiesce") {
      rollback(run); // the checks passed; change nothing
      break;
    }
    const s0 = performance.now();
    try {
      await withTimeout(name, options.stepTimeoutMs ?? 30_000, run, async () => {
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
      throw new ReloadError(name, `reload of ${handle.id} failed at ${name}: ${e.message}; ${afterFailure(run)}`, {
        // Host codes say what went wrong (StaleHandle, Timeout, Trap, InvalidManifest…); a plugin's own
        // fn-error codes (>= 0x100) mean nothing to the caller of reload, so those become Reload.
        code: e.code <= 0xff ? e.code : ErrorCode.Reload,
        pluginId: handle.id,
        cause: e,
        report: run.report,
      });
    }
  }
  run.report.ok = true;
  run.report.totalMs = performance.now() - t0;
  return run.report;
}

/** What state a failed reload leaves, for its message. */
function afterFailure(run: Run): string {
  if (!run.old) return "nothing changed";
  const death = (run.old.instance as { death?: { reason: string } }).death;
  if (death) {
    return (
      `the old version's worker was ended (${death.reason}); the host restores it in a fresh worker with its ` +
      "state, and calls wait for that"
    );
  }
  if (run.old.instance.poisoned) {
    return (
      `the old version ${run.old.manifest.version} trapped and is poisoned (its calls fail with code Poisoned); ` +
      "replace it with reload(handle, fixedVersion, { force: true })"
    );
  }
  return "the old version keeps serving";
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
  run.next = await run.host.vet(
    run.source,
    run.options.grants,
    run.options.isolation ?? (run.old as PluginVersion).isolation,
  );
}

// 3. check-manifest -------------------------------------------------------
function checkManifest(run: Run): void {
  const { old, next } = versions(run);
  if (next.manifest.id !== old.manifest.id) {
    throw new ReloadError("check-manifest", `the new component is ${next.manifest.id}, not ${old.manifest.id}`);
  }
  run.host.checkRegistry(old, next);
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
async function checkCompat(run: Run): Promise<void> {
  const ctx = context(run);
  const all = participants(run.entry as PluginEntry, ctx);
  if (ctx.oldPoisoned) {
    const lost = all.filter((p) => !p.survivesTrap);
    if (!run.options.force) {
      const what = lost.length ? `; replacing it drops ${lost.map((p) => p.label).join(", ")}` : "";
      throw new PluginError(
        ErrorCode.Poisoned,
        `the serving version ${ctx.old.manifest.version} trapped, so its state cannot be read${what}. ` +
          "Reload with { force: true } to replace it (CDC streams resume from what their sinks received)",
      );
    }
  }
  for (const p of all) {
    if (run.aborted) return;
    run.pending.set(p, await p.check(ctx));
  }
}

// 5. quiesce --------------------------------------------------------------
async function quiesce(run: Run): Promise<void> {
  const gate = (run.entry as PluginEntry).gate;
  gate.close();
  const timeout = run.options.drainTimeoutMs ?? run.host.drainTimeoutMs;
  if (!(await gate.drain(timeout))) {
    throw new PluginError(
      ErrorCode.Timeout,
      `drain timed out after ${timeout} ms with ${gate.inFlight} call(s) or lease(s) still in flight; not cutting over`,
    );
  }
}

// 6. handoff --------------------------------------------------------------
async function handoff(run: Run): Promise<void> {
  const ctx = context(run);
  // Everything checked, plus whatever was created after check-compat (its handoff prepares it from scratch).
  const all = new Set([...run.pending.keys(), ...participants(run.entry as PluginEntry, ctx)]);
  for (const p of all) {
    if (run.aborted) return;
    run.pending.set(p, await p.handoff(ctx, run.pending.get(p)));
  }
}

// 7. commit ---------------------------------------------------------------
async function commit(run: Run): Promise<void> {
  const { old, next } = versions(run);
  const entry = run.entry as PluginEntry;
  // The last checks; nothing is written before they pass.
  const checkNext = () => {
    if (next.instance.poisoned || next.instance.disposed) {
      throw new PluginError(ErrorCode.Poisoned, "the new version trapped during the reload; not committing it");
    }
    run.host.checkRegistry(old, next);
  };
  checkNext();
  // The store first (a durable host): the version switch and every participant's new state in one commit. A
  // crash before it restarts on the old version, after it on the new one.
  const ctx = context(run);
  const writes: Mutation[] = [];
  for (const [p, pending] of run.pending) if (p.durable) writes.push(...(await p.durable(ctx, pending)));
  if (run.aborted) return;
  // Past this point the reload completes even if its step timeout fires: a store that says "new version" must
  // never be left behind a memory that rolled back.
  run.pastNoReturn = true;
  const generation = await run.host.commitVersion(old, next, writes);
  // Memory next, synchronously: nothing below can fail halfway.
  stamp(next, generation);
  run.host.swapRegistry(old, next);
  entry.current = next;
  for (const [p, pending] of run.pending) tally(run, p.surface, p.commit(pending));
  run.report.to = next.handle;
  entry.reloading = false;
  entry.gate.open();
}

// 8. retire ---------------------------------------------------------------
async function retire(run: Run): Promise<void> {
  const problems: string[] = [];
  for (const [p, pending] of run.pending) {
    try {
      await p.retire(pending);
    } catch (err) {
      problems.push(`${p.label}: ${toPluginError(err).message}`);
    }
  }
  disposeQuietly(versions(run).old.instance);
  if (problems.length) throw new PluginError(ErrorCode.Reload, `retired with problems: ${problems.join("; ")}`);
}

// rollback ----------------------------------------------------------------
/** Undoes steps 2–6: the new version goes, the old one serves on as if nothing happened. */
function rollback(run: Run): void {
  for (const [p, pending] of run.pending) quietly(() => p.abort(pending));
  run.pending.clear();
  if (run.next) disposeQuietly(run.next.instance);
  if (run.entry && run.entry.current === run.old) {
    run.entry.reloading = false;
    run.entry.gate.open(); // queued calls now run on the old version
  }
}

// helpers -----------------------------------------------------------------
function versions(run: Run): { old: PluginVersion; next: PluginVersion } {
  return { old: run.old as PluginVersion, next: run.next as PluginVersion };
}

/** The participants' view of this reload (built once the new version exists). */
function context(run: Run): HandoffContext {
  if (run.ctx) return run.ctx;
  const { old, next } = versions(run);
  const report = run.report;
  run.ctx = {
    old,
    next,
    force: run.options.force === true,
    get oldPoisoned() {
      return old.instance.poisoned;
    },
    kept: (surface: Surface, key: string) => declared(next.manifest, surface).includes(key),
    moved: (bytes: number) => {
      report.moved.bytes += bytes;
    },
    samples: (name: string) => run.host.samples(name),
  };
  return run.ctx;
}

const MOVED_FIELD = { index: "indexes", crdt: "crdtStates", cdc: "cdcStreams" } as const;

function tally(run: Run, surface: Surface, outcome: HandoffOutcome): void {
  if (outcome === "moved" && surface !== "logical-type") run.report.moved[MOVED_FIELD[surface]]++;
}

function detailOf(run: Run, step: StepName): { detail?: string } {
  switch (step) {
    case "instantiate":
      return run.next
        ? {
            detail: `${run.next.manifest.id}@${run.next.manifest.version} (module ${run.next.module.hash.slice(0, 12)})`,
          }
        : {};
    case "handoff": {
      // Per surface, the participants with something to hand over (a drop decision is not a move).
      const count = { index: 0, crdt: 0, cdc: 0, "logical-type": 0 };
      for (const [p, pending] of run.pending) {
        if (typeof pending === "object" && pending !== null && !("drop" in pending)) count[p.surface]++;
      }
      return {
        detail: `${count.index} index(es), ${count.crdt} crdt state(s), ${count.cdc} cdc stream(s), ${run.report.moved.bytes} bytes`,
      };
    }
    case "commit":
      return run.next ? { detail: `generation ${run.old?.handle.generation} → ${run.next.handle.generation}` } : {};
    default:
      return {};
  }
}

/** Runs a step, failing it after `ms` — unless the run is past the point of no return by then. */
async function withTimeout(step: StepName, ms: number, run: Run, fn: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (!run.pastNoReturn) reject(new PluginError(ErrorCode.Timeout, `step ${step} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
