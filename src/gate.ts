/**
 * A gate in front of one plugin's live resources. Calls `enter` before using the
 * plugin and `exit` after; a reload `close`s the gate so new calls queue (they
 * are not failed), waits for in-flight calls to `drain`, and `open`s it again —
 * after swapping in the new version, or, on rollback, with the old one.
 *
 * @module
 */
export class Gate {
  #closed = false;
  #queued: Array<() => void> = [];
  #inFlight = 0;
  #drainWaiters: Array<() => void> = [];

  /** Calls currently between `enter` and `exit`, leases included. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls waiting for the gate to open. */
  get queued(): number {
    return this.#queued.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the gate is open; the caller must `exit` afterwards. */
  enter(): Promise<void> | undefined {
    if (!this.#closed) {
      this.#inFlight++;
      return undefined; // fast path: no promise, no microtask
    }
    return new Promise<void>((resolve) => {
      this.#queued.push(() => {
        this.#inFlight++;
        resolve();
      });
    });
  }

  exit(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const w of this.#drainWaiters.splice(0)) w();
  }

  close(): void {
    this.#closed = true;
  }

  /** Opens the gate and releases queued calls in arrival order. */
  open(): void {
    this.#closed = false;
    for (const release of this.#queued.splice(0)) release();
  }

  /** Resolves true once nothing is in flight, false if `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.#drainWaiters.indexOf(done);
        if (i >= 0) this.#drainWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.#drainWaiters.push(done);
    });
  }
}
