/**
 * How a node learns that the store changed. Two modes, chosen per node (`FleetNodeOptions.notify`):
 *
 * - **poll** (`pollNotifier`): re-read after an interval that starts at `minMs`, doubles while nothing changes, up
 *   to `maxMs` (jittered downwards, so `maxMs` is a true maximum), and drops back to `minMs` as soon as a pass
 *   finds work. The only mode that
 *   works on a local SQLite-backed Deno KV shared by several processes: its `watch` never sees another
 *   process's writes (measured; see src/store/README.md).
 * - **watch** (`watchNotifier(feed)`): a pass runs as soon as a watched key is written, with a slow poll
 *   (`fallbackMs`) underneath in case an event is missed. For backends that deliver remote changes (Deno Deploy,
 *   a self-hosted `denokv`); the feed comes from an adapter (`denoKvChangeFeed` in src/adapters/deno-kv-watch.ts).
 *
 * @module
 */
import type { Key } from "../store/types.ts";

/** What a loop waits on between passes. */
export interface Waker {
  /**
   * Resolves when the next pass should run: a watched key may have changed, or the interval ran out. `busy` says
   * the pass just ended found something to do (polling restarts at its shortest interval).
   */
  next(busy: boolean): Promise<void>;
  /** Ends a pending {@link next} now (this node changed something the loop should look at). */
  poke(): void;
  /** Stops watching; a pending {@link next} resolves. */
  close(): void;
}

export interface ChangeNotifier {
  readonly mode: "poll" | "watch";
  /** The shortest time between passes when changes keep coming (what a rollout's decision waits at most, polling). */
  readonly minMs: number;
  /** A waker for a loop that reads `keys` (watch mode watches them; poll mode ignores them). */
  waker(keys: readonly Key[]): Waker;
}

/** Polling intervals. */
export interface PollOptions {
  /** Default 50 ms. */
  minMs?: number;
  /** Default 1000 ms. */
  maxMs?: number;
  /** Growth per idle pass. Default 2. */
  factor?: number;
  /**
   * Each wait is the interval times a random factor in [1 − jitter, 1], so nodes started together do not poll in
   * lockstep and `maxMs` stays a true maximum. Default 0.1.
   */
  jitter?: number;
}

/** A source of change events for store keys (see src/adapters/deno-kv-watch.ts). */
export interface ChangeFeed {
  /** Calls `onChange` whenever one of `keys` is written (at least once: extra calls are harmless); returns the stop. */
  watch(keys: readonly Key[], onChange: () => void): () => void;
}

export interface WatchOptions {
  /** A pass runs at least this often even without events. Default 5000 ms. */
  fallbackMs?: number;
}

/** A timer that {@link Waker.poke} and {@link Waker.close} can end early. */
class Sleep {
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = false;
  closed = false;

  wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.wake(false), ms);
    });
  }

  /** Ends the current wait; `remember`: with none pending, the next wait returns at once. */
  wake(remember: boolean): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake) wake();
    else if (remember) this.#pending = true;
  }
}

/** Polling with exponential backoff (see the module doc). */
export function pollNotifier(options: PollOptions = {}): ChangeNotifier {
  const minMs = Math.max(1, options.minMs ?? 50);
  const maxMs = Math.max(minMs, options.maxMs ?? 1000);
  const factor = Math.max(1, options.factor ?? 2);
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.1));
  return {
    mode: "poll",
    minMs,
    waker(): Waker {
      const sleep = new Sleep();
      let interval = minMs;
      return {
        next(busy: boolean): Promise<void> {
          interval = busy ? minMs : Math.min(maxMs, interval * factor);
          return sleep.wait(interval * (1 - jitter * Math.random()));
        },
        poke: () => sleep.wake(true),
        close: () => {
          sleep.closed = true;
          sleep.wake(false);
        },
      };
    },
  };
}

/** Passes run when watched keys change, with a slow poll underneath (see the module doc). */
export function watchNotifier(feed: ChangeFeed, options: WatchOptions = {}): ChangeNotifier {
  const fallbackMs = Math.max(1, options.fallbackMs ?? 5000);
  return {
    mode: "watch",
    minMs: 0,
    waker(keys: readonly Key[]): Waker {
      const sleep = new Sleep();
      const stops: (() => void)[] = [];
      // Deno KV watches at most 10 keys at once.
      for (let i = 0; i < keys.length; i += 10) stops.push(feed.watch(keys.slice(i, i + 10), () => sleep.wake(true)));
      return {
        next: () => sleep.wait(fallbackMs),
        poke: () => sleep.wake(true),
        close: () => {
          sleep.closed = true;
          for (const stop of stops) stop();
          sleep.wake(false);
        },
      };
    },
  };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
