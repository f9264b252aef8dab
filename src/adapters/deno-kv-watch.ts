/**
 * Change notification for the fleet over Deno KV's `watch` (`watchNotifier(denoKvChangeFeed(kv))`). Use it where
 * the backend delivers other processes' writes to a watcher: Deno Deploy, or a self-hosted `denokv` reached by URL.
 * A local SQLite-backed KV does not (a watcher sees only its own process's writes: measured with two Deno
 * processes, src/store/README.md), so fleets sharing a local file poll (`pollNotifier`, the default).
 *
 * @example
 * ```ts
 * const kv = await Deno.openKv("https://kv.example.com/…");
 * const store = denoKvStore(kv);
 * const node = new FleetNode({ host, store, nodeId, notify: watchNotifier(denoKvChangeFeed(kv)) });
 * ```
 *
 * @module
 */
import type { ChangeFeed } from "../fleet/notify.ts";
import { normalizeKey } from "../store/keys.ts";
import type { Key } from "../store/types.ts";
import type { KvKey } from "./deno-kv.ts";

/** The `watch` of Deno's `Deno.Kv` and of `@deno/kv`'s `Kv`. */
export interface DenoKvWatchable {
  watch(keys: readonly KvKey[]): ReadableStream<unknown>;
}

/**
 * A change feed over `kv` for a store made with `denoKvStore(kv, { prefix })` (the same prefix: the store keeps its
 * records at `[...prefix, "r", ...key]`).
 */
export function denoKvChangeFeed(kv: DenoKvWatchable, options: { prefix?: Key } = {}): ChangeFeed {
  const records = [...normalizeKey(options.prefix ?? ["uni-store"], "prefix"), "r"];
  return {
    watch(keys, onChange) {
      const stream = kv.watch(keys.map((k) => [...records, ...normalizeKey(k, "watched key")] as KvKey));
      const reader = stream.getReader();
      let stopped = false;
      void (async () => {
        try {
          while (!stopped) {
            const { done } = await reader.read();
            if (done || stopped) return;
            onChange();
          }
        } catch {
          // The database closed, or the watch failed: the notifier's fallback poll still runs.
        }
      })();
      return () => {
        stopped = true;
        reader.cancel().catch(() => {});
      };
    },
  };
}
