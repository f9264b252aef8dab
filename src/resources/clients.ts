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

export interface LogicalTypeClientLike {
  names(call?: CallOptions): MaybePromise<string[]>;
  arrowType(name: string, call?: CallOptions): MaybePromise<string>;
  encodingVersion(name: string, call?: CallOptions): MaybePromise<string>;
  fromLiteral(name: string, literals: Uint8Array, call?: CallOptions): MaybePromise<Uint8Array>;
  toDisplay(name: string, column: Uint8Array, call?: CallOptions): MaybePromise<Uint8Array>;
  castTo(name: string, column: Uint8Array, target: string, call?: CallOptions): MaybePromise<Uint8Array>;
  castFrom(name: string, column: Uint8Array, call?: CallOptions): MaybePromise<Uint8Array>;
}

export interface IndexClientLike {
  kinds(call?: CallOptions): MaybePromise<string[]>;
  build(kind: string, source: Uint8Array, optionsJson?: string, call?: CallOptions): MaybePromise<IndexHandleLike>;
  open(kind: string, persisted: Uint8Array, call?: CallOptions): MaybePromise<IndexHandleLike>;
}

export interface CrdtClientLike {
  kinds(call?: CallOptions): MaybePromise<string[]>;
  empty(kind: string, call?: CallOptions): MaybePromise<CrdtStateLike>;
  fromPersisted(kind: string, persisted: Uint8Array, call?: CallOptions): MaybePromise<CrdtStateLike>;
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
 * are in the host's thread and `open` answers synchronously there (one copy, into the next instance), else a
 * snapshot over shared memory (one copy out of the worker; the bytes never touch the serving thread) that the other
 * side reads in place — or, between in-thread instances with an asynchronous `open`, a plain copy.
 */
export async function moveState<T>(
  handle: IndexHandleLike | CrdtStateLike,
  intoThread: boolean,
  open: (bytes: Uint8Array) => MaybePromise<T>,
  moved: (bytes: number) => void,
  openIsSync = true,
): Promise<T> {
  const local = handle as unknown as Partial<Pick<IndexHandle, "persistLent">>;
  if (typeof local.persistLent === "function" && intoThread && !openIsSync) {
    const copy = await (handle as IndexHandleLike).persist();
    moved(copy.byteLength);
    return await open(copy);
  }
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

/**
 * Disposes an instance wherever it runs: in-thread at once; a worker's after its destructors ran (ended outright if
 * they do not finish within a second). Never throws or rejects: the instance is being let go of.
 */
export function disposeQuietly(instance: PluginInstance): void {
  try {
    const r = inThread(instance) ? instance.dispose() : instance.dispose({ timeoutMs: 1000 });
    if (r instanceof Promise) r.catch(() => (instance as { terminate?: () => void }).terminate?.());
  } catch {
    // Trapped in a destructor: the instance is poisoned and gone either way.
  }
}
