/**
 * An adaptive spin budget. Spinning before sleeping makes back-to-back calls cost about a microsecond
 * when both threads have a core; on a busy machine a spinning thread takes the core the other one
 * needs, and the spin only adds latency. So a spin that catches what it waits for resets the budget
 * to its maximum; one that runs out doubles it when the awaited event came soon after (a longer spin
 * would have caught it) and halves it otherwise, down to a floor of a few µs (never zero, so a short
 * probe notices when spinning pays again).
 *
 * @module
 */
const FLOOR_MS = 0.003;

export class SpinBudget {
  #ms: number;
  readonly #maxMs: number;

  constructor(maxMicros: number) {
    this.#maxMs = Math.max(0, maxMicros) / 1000;
    this.#ms = this.#maxMs;
  }

  /** How long to spin now, in ms. */
  get ms(): number {
    return this.#ms;
  }

  /** What the spin waited for came during the spin. */
  hit(): void {
    this.#ms = this.#maxMs;
  }

  /** The spin ran out, and what it waited for came `lateMs` after its end. */
  late(lateMs: number): void {
    const next = lateMs <= this.#maxMs ? this.#ms * 2 : this.#ms / 2;
    this.#ms = Math.min(this.#maxMs, Math.max(FLOOR_MS, next));
  }
}
