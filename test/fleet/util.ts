// Helpers for the in-process fleet tests: nodes (each its own PluginHost, in its own namespace of one shared
// store), waiting for conditions, and a store wrapper that can freeze one node's access (a paused process).
import { makeVector, Table } from "apache-arrow";
import { FleetNode, type FleetNodeOptions, nodeNamespace, pollNotifier } from "../../src/fleet/mod.ts";
import type { FleetEvent } from "../../src/fleet/mod.ts";
import { PluginHost } from "../../src/mod.ts";
import type { AtomicBatch, Check, Mutation, StateStore } from "../../src/store/types.ts";
import { loadPlugin } from "../support/fixtures.ts";

export const plugin = (name: string) => loadPlugin(name);

/** Fast settings for in-process tests (timing is never asserted; it only bounds how long a test waits). */
export const FAST = {
  heartbeatMs: 40,
  nodeTtlMs: 400,
  antiEntropyMs: 40,
  rolloutTimeoutMs: 20_000,
} as const;

export interface TestNode {
  id: string;
  host: PluginHost;
  node: FleetNode;
  events: FleetEvent[];
}

export async function startNode(
  store: StateStore,
  id: string,
  extra: Partial<FleetNodeOptions> = {},
): Promise<TestNode> {
  const host = new PluginHost({ onLog: () => {}, store, namespace: nodeNamespace(id) });
  const events: FleetEvent[] = [];
  const node = new FleetNode({
    host,
    store,
    nodeId: id,
    runtime: "test",
    notify: pollNotifier({ minMs: 10, maxMs: 60 }),
    ...FAST,
    onEvent: (e) => {
      events.push(e);
    },
    ...extra,
  });
  await node.start();
  return { id, host, node, events };
}

/** Polls `check` until it returns a truthy value (resolved), or fails after `timeoutMs` with `what`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<Exclude<T, undefined | null | false | 0 | "">> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Exclude<T, undefined | null | false | 0 | "">;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A change batch of rows `first..first+count` (column `row`, Int64). */
export function rows(first: number, count: number): Table {
  return new Table({ row: makeVector(BigInt64Array.from({ length: count }, (_, i) => BigInt(first + i))) });
}

/**
 * A view of `store` whose every call can be held (as if its process were paused): while frozen, calls wait; on
 * thaw they proceed in order.
 */
export function freezable(store: StateStore): { store: StateStore; freeze(): void; thaw(): void } {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const pass = async () => {
    while (gate) await gate;
  };
  const held = <T>(fn: () => Promise<T>): Promise<T> => pass().then(fn);
  const wrapped: StateStore = {
    adapter: store.adapter,
    limits: store.limits,
    get: (k) => held(() => store.get(k)),
    getMany: (k) => held(() => store.getMany(k)),
    list: (sel, opts) => ({
      async *[Symbol.asyncIterator]() {
        await pass();
        yield* store.list(sel, opts);
      },
    }),
    atomic: (): AtomicBatch => {
      const checks: Check[] = [];
      const mutations: Mutation[] = [];
      const batch: AtomicBatch = {
        check(...c) {
          checks.push(...c);
          return batch;
        },
        set(key, value, o) {
          mutations.push({ type: "set", key, value, ...(o?.blobs ? { blobs: o.blobs } : {}) });
          return batch;
        },
        delete(key) {
          mutations.push({ type: "delete", key });
          return batch;
        },
        commit: () => wrapped.commit({ checks, mutations }),
      };
      return batch;
    },
    commit: (b) => held(() => store.commit(b)),
    putBlob: (b) => held(() => store.putBlob(b)),
    getBlob: (id) => held(() => store.getBlob(id)),
    hasBlob: (id) => held(() => store.hasBlob(id)),
    gc: (o) => store.gc(o),
    close: async () => {},
  };
  return {
    store: wrapped,
    freeze: () => {
      gate = new Promise((r) => {
        open = r;
      });
    },
    thaw: () => {
      const o = open;
      gate = undefined;
      open = undefined;
      o?.();
    },
  };
}
