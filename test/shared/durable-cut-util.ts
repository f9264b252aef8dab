// Crash points without killing anything: a memory store whose storage is copied at every commit boundary. A copy
// is exactly what a process killed between two commits leaves behind (commits are atomic; blobs put before the
// next commit and not linked by anything are garbage a restore never reads). Restoring a host from each copy
// checks every crash point of a deterministic workload, in every runtime.
import { MemoryStorage } from "../../src/store/mod.ts";

/** The storage as it stood right after commit `counter`. */
export interface Cut {
  counter: bigint;
  storage: MemoryStorage;
}

/** A storage that keeps a copy of itself at every commit boundary. `cuts` grows as commits happen. */
export class CuttingStorage {
  readonly storage = new MemoryStorage();
  readonly cuts: Cut[] = [];

  constructor() {
    // The memory backend bumps `counter` once per commit, before applying it: the copy taken then is the state
    // after the previous commit, complete. A field on the instance (not an accessor on a subclass: the base
    // class's field definition would shadow it).
    let counter = this.storage.counter;
    Object.defineProperty(this.storage, "counter", {
      get: () => counter,
      set: (next: bigint) => {
        this.cuts.push({ counter, storage: copyOf(this.storage, counter) });
        counter = next;
      },
    });
  }

  /** The commit counter now: an acknowledgement taken at this value is durable in every cut at or after it. */
  get counter(): bigint {
    return this.storage.counter;
  }

  /** Every cut, plus the final state. */
  all(): Cut[] {
    return [...this.cuts, { counter: this.storage.counter, storage: copyOf(this.storage, this.storage.counter) }];
  }
}

/** A copy that later commits to either side do not change (records are replaced on write, never mutated). */
export function copyOf(from: MemoryStorage, counter: bigint): MemoryStorage {
  const to = new MemoryStorage();
  for (const r of from.records.values()) to.records.set(r.id, { ...r });
  for (const [id, b] of from.blobs) to.blobs.set(id, { ...b });
  to.counter = counter;
  return to;
}
