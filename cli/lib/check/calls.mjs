// Every call `check` makes into the plugin goes through here: timed against the budget, and a trap or a
// refusal turned into a sentence that names the call and carries what the plugin logged before it trapped.
import { PluginCallError, TrapError } from "../runtime.mjs";
import { withAbort } from "../inspect.mjs";

/** A call that failed; `expected` marks a plugin error (fn-error) as opposed to a trap. */
export class CallFailure extends Error {
  constructor(call, err, logs) {
    const trapped = err instanceof TrapError;
    super(`${call} ${trapped ? "trapped" : "failed"}: ${withAbort(err?.message ?? String(err), logs)}`, { cause: err });
    this.name = "CallFailure";
    this.call = call;
    /** The plugin returned a fn-error (its own, deliberate refusal). */
    this.fnError = err instanceof PluginCallError;
    this.trapped = trapped;
    if (trapped) {
      this.hint =
        "bad input must return an error (FnError), never trap: a trap (panic, throw, out-of-bounds) poisons the instance";
    }
  }
}

export class Calls {
  /**
   * @param {number} budgetMs every call must return within this
   * @param {{ level: string, message: string }[]} logs the plugin's host-log lines (shared with the instances)
   */
  constructor(budgetMs, logs, watch) {
    this.budgetMs = budgetMs;
    this.logs = logs;
    /** Where a watchdog on another thread sees the call in progress (see guard.mjs), if one watches. */
    this.watch = watch;
    this.count = 0;
    /** @type {{ call: string, ms: number } | null} */
    this.slowest = null;
    /** @type {{ call: string, ms: number }[]} */
    this.overBudget = [];
    /** The first call that trapped (it poisoned its instance). @type {CallFailure | null} */
    this.firstTrap = null;
  }

  /**
   * Runs one plugin call, synchronously.
   * @template T
   * @param {string} call e.g. "crdt-state.merge"
   * @param {() => T} fn
   * @returns {T}
   * @throws {CallFailure}
   */
  run(call, fn) {
    const t0 = performance.now();
    this.watch?.enter(call);
    try {
      return fn();
    } catch (err) {
      const failure = new CallFailure(call, err, this.logs);
      if (failure.trapped && !this.firstTrap) this.firstTrap = failure;
      throw failure;
    } finally {
      this.watch?.leave();
      const ms = performance.now() - t0;
      this.count++;
      if (!this.slowest || ms > this.slowest.ms) this.slowest = { call, ms };
      if (ms > this.budgetMs && this.overBudget.length < 5) this.overBudget.push({ call, ms });
    }
  }

  /** Like `run`, but a fn-error comes back as `{ error }` (the plugin may refuse, e.g. an op it does not take). */
  attempt(call, fn) {
    try {
      return { value: this.run(call, fn) };
    } catch (err) {
      if (err instanceof CallFailure && err.fnError) return { error: err.cause };
      throw err;
    }
  }
}
