/**
 * Change notification for the fleet over Deno KV's `watch` (`watchNotifier(denoKvChangeFeed(kv))`). Use it where
 * the backend delivers other processes' writes to a watcher: Deno Deploy, or a self-hosted `denokv` reached by URL.
 * A local SQLite-backed KV does not (a watcher sees only its own process's writes: measured with two Deno
 * processes, src/store/README.md), so fleets sharing a local file poll (`pollNotifier`, the default).
 *
 * One KV watch per key, shared by every subscriber and kept until `close()`: subscribers come and go (each rollout
 * barrier watches its plugin's record for a while), KV watches do not. Besides costing less, this avoids a hang
 * measured with `@deno/kv` 0.14 in Node: cancelling one of several open watches and then writing blocks the
 * process for good.
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv("https://kv.example.com/…");
 * const store = denoKvStore(kv);
 * const feed = denoKvChangeFeed(kv);
 * const node = new FleetNode({ host, store, nodeId, notify: watchNotifier(feed) });
 * // … on shutdown: await node.stop(); feed.close(); kv.close();
 * ```
 *
 * @module
 */
import type { ChangeFeed } from "../fleet/notify.ts";
import { encodeKey, normalizeKey } from "../store/keys.ts";
import type { Key } from "../store/types.ts";
import type { KvKey } from "./deno-kv.ts";

/** The `watch` of Deno's `Deno.Kv` and of `@deno/kv`'s `Kv`. */
export interface DenoKvWatchable {
  watch(keys: readonly KvKey[]): ReadableStream<unknown>;
}

export interface DenoKvChangeFeed extends ChangeFeed {
  /** Ends every KV watch (before closing the database). */
  close(): void;
}

/**
 * A change feed over `kv` for a store made with `denoKvStore(kv, { prefix })` (the same prefix: the store keeps its
 * records at `[...prefix, "r", ...key]`).
 */
export function denoKvChangeFeed(kv: DenoKvWatchable, options: { prefix?: Key } = {}): DenoKvChangeFeed {
  const records = [...normalizeKey(options.prefix ?? ["uni-store"], "prefix"), "r"];
  const watches = new Map<string, { listeners: Set<() => void>; reader: ReadableStreamDefaultReader<unknown> }>();
  let closed = false;
  const start = (key: Key) => {
    const reader = kv.watch([[...records, ...key] as KvKey]).getReader();
    const entry = { listeners: new Set<() => void>(), reader };
    void (async () => {
      try {
        for (;;) {
          const { done } = await reader.read();
          if (done || closed) return;
          for (const listener of [...entry.listeners]) listener();
        }
      } catch {
        // The database closed, or the watch failed: the notifier's fallback poll still runs.
      }
    })();
    return entry;
  };
  return {
    watch(keys, onChange) {
      const entries = keys.map((k) => {
        const key = normalizeKey(k, "watched key");
        const id = [...encodeKey(key)].join(",");
        let entry = watches.get(id);
        if (!entry && !closed) {
          entry = start(key);
          watches.set(id, entry);
        }
        entry?.listeners.add(onChange);
        return entry;
      });
      return () => {
        for (const e of entries) e?.listeners.delete(onChange);
      };
    },
    close() {
      closed = true;
      for (const e of watches.values()) e.reader.cancel().catch(() => {});
      watches.clear();
    },
  };
}
