/**
 * The surface clients a live resource talks to, wherever its plugin's instance runs: in the host's thread
 * (`ComponentInstance`: synchronous results) or in a worker (`WorkerInstance`: promises, per-call deadlines).
 * Resources `await` every result, so one code path serves both; in-thread calls simply resolve at once.
 *
 * @module
 */
import { ComponentInstance } from "../component/instance.ts";
import type { ChangeBatch } from "../component/types.ts";
import type { CrdtState } from "../surfaces/crdt.ts";
import type { IndexHandle } from "../surfaces/index.ts";
import type { WorkerInstance } from "../worker/instance.ts";
import { persistShared } from "../worker/shared.ts";
import type { StreamCallOptions } from "../worker/types.ts";

export type MaybePromise<T> = T | Promise<T>;

/** Where a plugin version's instance runs. */
export type PluginInstance = ComponentInstance | WorkerInstance;

/** What a caller may pass with any call: a deadline, honoured by worker-hosted plugins. */
export interface CallOptions {
  /**
   * How long the call may run in the plugin's worker (ms). Past it the call rejects with `DeadlineExceeded`, the
   * worker is ended and the plugin restored with its state. Default: the host's `callTimeoutMs`. In-thread
   * plugins cannot be interrupted (a running wasm call owns the thread): there it is ignored.
   */
  timeoutMs?: number;
}

export interface IndexHandleLike {
  readonly dropped: boolean;
  probe(query: Uint8Array, k: number, call?: CallOptions): MaybePromise<Uint8Array>;
  probeFiltered(query: Uint8Array, k: number, mask: Uint8Array, call?: CallOptions): MaybePromise<Uint8Array>;
  supportsFilter(call?: CallOptions): MaybePromise<boolean>;
  persist(call?: CallOptions): MaybePromise<Uint8Array>;
  schema(call?: CallOptions): MaybePromise<Uint8Array>;
  drop(call?: CallOptions): MaybePromise<void>;
}

export interface CrdtStateLike {
  readonly dropped: boolean;
  apply(op: Uint8Array, call?: CallOptions): MaybePromise<void>;
  merge(otherPersisted: Uint8Array, call?: CallOptions): MaybePromise<void>;
  value(call?: CallOptions): MaybePromise<Uint8Array>;
  persist(call?: CallOptions): MaybePromise<Uint8Array>;
  drop(call?: CallOptions): MaybePromise<void>;
}

export interface CdcClientLike {
  outputs(call?: CallOptions): MaybePromise<string[]>;
  start(output: string, fromLsn?: bigint, call?: StreamCallOptions): MaybePromise<CdcStreamLike>;
}

export interface CdcStreamLike {
  readonly dropped: boolean;
  deliver(batch: ChangeBatch, call?: StreamCallOptions): MaybePromise<void>;
  checkpoint(call?: StreamCallOptions): MaybePromise<bigint>;
  shutdown(call?: StreamCallOptions): MaybePromise<void>;
  drop(call?: CallOptions): MaybePromise<void>;
}

/** Whether an instance runs in the host's thread. */
export function inThread(instance: PluginInstance): instance is ComponentInstance {
  return instance instanceof ComponentInstance;
}

/**
 * Persisted bytes of `handle`, for another instance to open: a view lent straight from its memory when both sides
 * are in the host's thread (one copy, into the next instance), else a snapshot over shared memory (one copy out of
 * the worker; the bytes never touch the serving thread) that the other side reads in place.
 */
export async function moveState<T>(
  handle: IndexHandleLike | CrdtStateLike,
  intoThread: boolean,
  open: (bytes: Uint8Array) => MaybePromise<T>,
  moved: (bytes: number) => void,
): Promise<T> {
  const local = handle as unknown as Partial<Pick<IndexHandle, "persistLent">>;
  if (typeof local.persistLent === "function" && intoThread) {
    return local.persistLent((view: Uint8Array) => {
      moved(view.byteLength);
      return open(view) as T; // in-thread into in-thread: synchronous
    });
  }
  const bytes =
    typeof local.persistLent === "function"
      ? persistShared(handle as unknown as IndexHandle | CrdtState)
      : await (handle as unknown as { persistShared(): Promise<Uint8Array> }).persistShared();
  moved(bytes.byteLength);
  return await open(bytes);
}

/** Drops a handle whose instance may be gone, ignoring what that throws or rejects. */
export function dropQuietly(handle: { drop(): MaybePromise<void> } | undefined): void {
  if (!handle) return;
  try {
    const r = handle.drop();
    if (r instanceof Promise) r.catch(() => {});
  } catch {
    // The instance trapped, died or was disposed: the handle goes with it.
  }
}
