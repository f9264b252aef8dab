/**
 * One FIFO of writes to the store with group commit: writes that arrive while a commit is in flight go out
 * together in the next one (as many as the store's limits allow), so many concurrent durable writes cost about
 * one durable commit — on the file store one write and one fsync. A write resolves only once its commit is
 * durable. Writes with checks (compare-and-set) commit alone: their check must not fail anyone else's write.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";
import { storedValueBytes } from "../store/store.ts";
import type { Check, Mutation, StateStore } from "../store/types.ts";

interface Pending {
  readonly mutations: readonly Mutation[];
  readonly checks: readonly Check[] | undefined;
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** Rough cost of a mutation in the commit limits (keys are at most a few dozen bytes here). */
function cost(m: Mutation): number {
  return 64 + (m.type === "set" ? storedValueBytes(m.value, m.blobs?.length ?? 0) : 0);
}

export class Writer {
  readonly #store: StateStore;
  readonly #queue: Pending[] = [];
  #inFlight = false;
  /** Commits made, and writes they carried (for tests and the bench). */
  commits = 0;
  writes = 0;

  constructor(store: StateStore) {
    this.#store = store;
  }

  /**
   * Writes `mutations` atomically and durably; with `checks`, only if they hold (resolves false when one fails,
   * nothing written).
   *
   * # Errors
   * The store's: `ResourceLimit` when one write alone exceeds a commit, `Io` when the storage fails.
   */
  write(mutations: readonly Mutation[], checks?: readonly Check[]): Promise<boolean> {
    if (mutations.length === 0 && !checks?.length) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      this.#queue.push({ mutations, checks, resolve, reject });
      this.#pump();
    });
  }

  /** Resolves once every write queued so far has settled. */
  async flush(): Promise<void> {
    while (this.#inFlight || this.#queue.length) {
      await new Promise<void>((resolve) =>
        this.#queue.push({ mutations: [], checks: undefined, resolve: () => resolve(), reject: () => resolve() }),
      );
    }
  }

  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const limits = this.#store.limits;
    const batch: Pending[] = [];
    let mutations = 0;
    let bytes = 0;
    for (const p of this.#queue) {
      if (p.checks?.length) {
        if (batch.length === 0) batch.push(p);
        break;
      }
      const m = p.mutations.length;
      const b = p.mutations.reduce((sum, x) => sum + cost(x), 0);
      if (batch.length > 0 && (mutations + m > limits.maxMutations || bytes + b > limits.maxCommitBytes)) break;
      batch.push(p);
      mutations += m;
      bytes += b;
    }
    this.#queue.splice(0, batch.length);
    const all = batch.flatMap((p) => p.mutations);
    const checks = batch.length === 1 ? batch[0]?.checks : undefined;
    this.#inFlight = true;
    const done = (settle: (p: Pending) => void) => {
      this.#inFlight = false;
      for (const p of batch) settle(p);
      this.#pump();
    };
    if (all.length === 0 && !checks?.length) {
      done((p) => p.resolve(true));
      return;
    }
    this.#store.commit({ mutations: all, ...(checks ? { checks } : {}) }).then(
      (res) => {
        this.commits++;
        this.writes += batch.length;
        done((p) => p.resolve(res.ok));
      },
      (err) => {
        const e =
          err instanceof PluginError
            ? err
            : new PluginError(ErrorCode.Io, `state store commit failed: ${String(err)}`, { retryable: true });
        done((p) => p.reject(e));
      },
    );
  }
}
