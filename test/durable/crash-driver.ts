// Drives the durable-host crash child (crash-child.ts) round after round: start it, wait until it has restored and
// its workload runs, kill it with SIGKILL after a random delay, read what it acknowledged, and hold the next
// round's restore against it (test/shared/durable-ledger.ts). Node-only (child processes, signals); the child may
// be a Node or a Deno process.
import type { ChildProcess } from "node:child_process";
import { Ledger, type LedgerStats } from "../shared/durable-ledger.ts";
import { rng } from "../shared/durable-workload.ts";
import type { Line } from "./crash-child.ts";

export interface CrashRun {
  /** Starts the child for `round` (`final`: restore and catch up only). */
  spawn(round: number, since: bigint, final: boolean): ChildProcess;
  rounds: number;
  seed: number;
  /** The kill lands this long after the child is ready: uniformly in [min, max) ms. */
  delayMs: [number, number];
  /**
   * This share of the rounds is killed earlier, at a random moment between the child's start and about when it
   * got ready last time: inside the restore (its snapshot folds, quarantines) or the setup.
   */
  earlyShare: number;
}

export interface CrashOutcome {
  violations: string[];
  stats: LedgerStats;
  /** How long each child took from start to a running workload (restore included). */
  restoreMs: number[];
  /** Rounds whose child was killed before it was ready (during its restore or setup). */
  killedEarly: number;
  kills: number;
}

interface ChildResult {
  lines: Line[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Runs a child to its end; with `kill`, kills it that long after its "ready" line or after its start (or at
 * `deadlineMs` in any case).
 */
function runChild(
  child: ChildProcess,
  kill: { afterReadyMs: number } | { afterStartMs: number } | undefined,
  deadlineMs: number,
): Promise<ChildResult> {
  const killAfterReadyMs = kill && "afterReadyMs" in kill ? kill.afterReadyMs : undefined;
  return new Promise((resolve, reject) => {
    let out = "";
    let stderr = "";
    const lines: Line[] = [];
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const killNow = () => child.kill("SIGKILL");
    const deadline = setTimeout(killNow, deadlineMs);
    if (kill && "afterStartMs" in kill) killTimer = setTimeout(killNow, kill.afterStartMs);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      let nl = out.indexOf("\n");
      while (nl >= 0) {
        const line = JSON.parse(out.slice(0, nl)) as Line;
        out = out.slice(nl + 1);
        lines.push(line);
        if (line.t === "ready" && killAfterReadyMs !== undefined) killTimer = setTimeout(killNow, killAfterReadyMs);
        nl = out.indexOf("\n");
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      // Whatever follows the last newline was never a whole line: not an acknowledgement.
      resolve({ lines, signal, code, stderr });
    });
  });
}

function recordsOf(records: [string, string, string[]][]) {
  return records.map(([s, e, ids]) => ({ lsnStart: BigInt(s), lsnEnd: BigInt(e), ids: ids.map(BigInt) }));
}

/** Holds each round's lines (a restore report, then acknowledgements) against the ledger. */
export class CrashChecker {
  readonly ledger = new Ledger();
  readonly outcome: CrashOutcome = {
    violations: [],
    stats: this.ledger.stats,
    restoreMs: [],
    killedEarly: 0,
    kills: 0,
  };

  constructor() {
    this.ledger.begin(-1);
  }

  /**
   * One round's lines, in order. `killed`: the round ended by a kill (false for the final round). Returns false
   * when the round produced no restore report although it should have (the caller stops).
   */
  round(round: number, lines: readonly Line[], killed: boolean, mayBeSilent: boolean, stderr = ""): boolean {
    const { ledger, outcome } = this;
    const where = `round ${round}${killed ? "" : " (final)"}`;
    const [first, ...rest] = lines;
    if (first?.t !== "restored") {
      if (mayBeSilent) {
        // Killed before it could report: nothing was acknowledged, the next restart checks the same state.
        outcome.kills++;
        outcome.killedEarly++;
        return true;
      }
      outcome.violations.push(`${where}: no restore report: ${JSON.stringify(first)} ${stderr.slice(-1000)}`);
      return false;
    }
    const { view, downstream } = first;
    for (const v of ledger.check(view, recordsOf(downstream.records), BigInt(downstream.position))) {
      outcome.violations.push(`${where}, after the restart: ${v}`);
    }
    ledger.begin(round);
    let ready = false;
    for (const line of rest) {
      if (line.t === "ready") {
        ready = true;
        outcome.restoreMs.push(line.restoreMs);
      } else if (line.t === "downstream") {
        const problems = [
          ...ledger.checkDownstream(recordsOf(line.records), BigInt(line.position)),
          ...ledger.allDelivered(),
        ];
        for (const v of problems) outcome.violations.push(`${where}, after catching up: ${v}`);
      } else if (line.t === "error") {
        outcome.violations.push(`${where}: the child failed: ${line.message}`);
      } else if (line.t !== "restored" && line.t !== "done") {
        ledger.ack(line);
      }
    }
    if (killed) {
      outcome.kills++;
      if (!ready) outcome.killedEarly++;
    }
    return true;
  }
}

/** The rounds, then a final restore that catches downstream up; every violation found, and what was exercised. */
export async function crashRounds(run: CrashRun): Promise<CrashOutcome> {
  const random = rng(run.seed);
  const checker = new CrashChecker();
  const { outcome, ledger } = checker;
  for (let round = 0; round <= run.rounds; round++) {
    const final = round === run.rounds;
    const delay = run.delayMs[0] + Math.floor(random() * (run.delayMs[1] - run.delayMs[0]));
    const lastReady = outcome.restoreMs.at(-1);
    const early = lastReady !== undefined && random() < run.earlyShare;
    const kill = final
      ? undefined
      : early
        ? { afterStartMs: Math.floor(random() * lastReady * 1.1) }
        : { afterReadyMs: delay };
    const child = run.spawn(round, ledger.downstreamTo, final);
    const result = await runChild(child, kill, final ? 120_000 : 60_000);
    if (final ? result.code !== 0 : result.signal !== "SIGKILL") {
      outcome.violations.push(
        `round ${round}: child ended with ${result.code ?? result.signal}: ${result.stderr.slice(-2000)}`,
      );
      break;
    }
    if (!checker.round(round, result.lines, !final, early && !final, result.stderr)) break;
    if (outcome.violations.length > 20) break;
  }
  return outcome;
}
