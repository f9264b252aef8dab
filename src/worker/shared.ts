/**
 * Mixed modes: persisted bytes of an in-thread handle, copied once out of guest memory into memory a
 * worker can take without a copy through main (a `SharedArrayBuffer`, or an `ArrayBuffer` to transfer
 * where shared memory is unavailable). The other direction needs nothing: an in-thread `open` /
 * `fromPersisted` / `merge` reads a worker's `persistShared()` bytes directly.
 *
 * @module
 */
import type { CrdtState } from "../surfaces/crdt.ts";
import type { IndexHandle } from "../surfaces/index.ts";

/**
 * `handle.persist()` into shared memory: one copy, straight from guest memory (`persistLent`).
 *
 * # Errors
 * As `persistLent`: `PluginError(StaleHandle)` for a dropped handle, `TrapError` when the guest traps, …
 */
export function persistShared(handle: IndexHandle | CrdtState): Uint8Array {
  return handle.persistLent((view) => {
    const buffer =
      typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(view.length) : new ArrayBuffer(view.length);
    const out = new Uint8Array(buffer);
    out.set(view);
    return out;
  });
}
