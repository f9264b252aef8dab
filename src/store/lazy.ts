/**
 * A backend opened on first use, so an adapter can hand out a `StateStore` synchronously
 * (`createNodeHost({ store: fileStore(dir) })`): the open runs when the first operation needs it; a failed open
 * rejects the operations waiting for it, and the next operation tries again (a lock may have been released).
 *
 * @module
 */
import type { BackendCheck, BackendMutation, BlobListing, KeyRange, RawEntry, StoreBackend } from "./backend.ts";
import type { CommitResult } from "./types.ts";

export function lazyBackend(adapter: string, open: () => Promise<StoreBackend>): StoreBackend {
  let opened: Promise<StoreBackend> | undefined;
  const ready = () => {
    if (!opened) {
      const attempt = open();
      opened = attempt;
      attempt.catch(() => {
        if (opened === attempt) opened = undefined;
      });
    }
    return opened;
  };
  return {
    adapter,
    get: async (keys) => (await ready()).get(keys),
    async *list(range: KeyRange, options: { reverse: boolean; limit: number }): AsyncGenerator<RawEntry> {
      yield* (await ready()).list(range, options);
    },
    commit: async (checks: readonly BackendCheck[], mutations: readonly BackendMutation[], links: readonly string[]) =>
      (await ready()).commit(checks, mutations, links) as Promise<CommitResult>,
    putBlob: async (id, manifest, data) => (await ready()).putBlob(id, manifest, data),
    getBlob: async (id) => (await ready()).getBlob(id),
    hasBlob: async (id) => (await ready()).hasBlob(id),
    async *listBlobs(): AsyncGenerator<BlobListing> {
      yield* (await ready()).listBlobs();
    },
    deleteBlob: async (listing) => (await ready()).deleteBlob(listing),
    async close() {
      // Never opened: nothing to release. Opened but failed: nothing to release either.
      if (!opened) return;
      const backend = await opened.catch(() => undefined);
      await backend?.close();
    },
  };
}
