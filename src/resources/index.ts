/**
 * A named, host-owned index. Reload moves it by `persist` (old) → `open` (new),
 * keeping the old handle alive until the new version is committed.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { fromIPC, toIPC } from "../arrow.ts";
import type { IndexHandle } from "../surfaces/index.ts";
import { LiveResource, type PluginEntry } from "./entry.ts";

/** Arrow data as a table, or as IPC stream bytes already serialised. */
export type ArrowInput = Table | Uint8Array;

export function ipcOf(input: ArrowInput): Uint8Array {
  return input instanceof Uint8Array ? input : toIPC(input);
}

export class LiveIndex extends LiveResource {
  readonly surface = "index" as const;
  /** @internal the serving version's handle; swapped by reload's commit. */
  handle: IndexHandle;

  /** @internal created by PluginHost.createIndex / openIndex */
  constructor(entry: PluginEntry, name: string, kind: string, handle: IndexHandle, onDrop: (r: LiveResource) => void) {
    super(entry, name, kind, onDrop);
    this.handle = handle;
  }

  /** The index kind, e.g. `vector.flat`. */
  get kind(): string {
    return this.key;
  }

  /** k nearest rows per query row, as an Arrow table in the kind's probe schema. */
  async probe(query: ArrowInput, k: number): Promise<Table> {
    return fromIPC(await this.probeIPC(ipcOf(query), k));
  }

  /** {@link probe} on Arrow IPC bytes in and out. */
  probeIPC(query: Uint8Array, k: number): Promise<Uint8Array> {
    return this.call(() => this.handle.probe(query, k));
  }

  /** {@link probe} restricted to rows whose bit is set in `mask` (LSB-first bitmap in build order). */
  async probeFiltered(query: ArrowInput, k: number, mask: Uint8Array): Promise<Table> {
    const bytes = ipcOf(query);
    return fromIPC(await this.call(() => this.handle.probeFiltered(bytes, k, mask)));
  }

  supportsFilter(): Promise<boolean> {
    return this.call(() => this.handle.supportsFilter());
  }

  /** The persisted bytes (e.g. to keep in Deno KV and `openIndex` after a restart). */
  persist(): Promise<Uint8Array> {
    return this.call(() => this.handle.persist());
  }

  /** The probe output schema, as an empty Arrow table. */
  async schema(): Promise<Table> {
    return fromIPC(await this.call(() => this.handle.schema()));
  }

  protected release(): void {
    this.handle.drop();
  }
}
