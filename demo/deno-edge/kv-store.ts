/**
 * What the edge server keeps in Deno KV, so a restarted server picks up where it stopped: plugin components,
 * persisted index bytes, CRDT states, and per CDC stream its checkpoint plus the batches its sink received.
 *
 * Values over KV's 64 KiB limit are stored as blobs: chunks under a fresh stamp, then a head record naming the
 * stamp, written last — a reader sees the old blob or the new one, never a half-written mix.
 *
 * @module
 */
import type { AtomicOperation, Kv, KvKey } from "./deno-api.ts";

/** KV's value limit is 65,536 bytes; stay under it with room for the structured-clone header. */
const CHUNK = 60_000;
/** Chunks per atomic commit: 10 × 60 kB stays under KV's 800 KiB per-commit limit. */
const CHUNKS_PER_COMMIT = 10;

interface BlobHead {
  stamp: string;
  chunks: number;
  size: number;
}

export interface CdcBatchRecord {
  lsnStart: bigint;
  lsnEnd: bigint;
  rows: number;
  /** `id@version` of the plugin version that emitted it. */
  emittedBy: string;
  payloadBytes: number;
}

export interface CdcStreamRecord {
  output: string;
  /** Exclusive end of what the sink has durably received: where a restarted stream resumes. */
  checkpoint: bigint;
}

export class EdgeStore {
  constructor(readonly kv: Kv) {}

  async putBlob(key: KvKey, bytes: Uint8Array): Promise<void> {
    const previous = (await this.kv.get<BlobHead>([...key, "head"])).value;
    const stamp = crypto.randomUUID();
    const chunks = Math.ceil(bytes.byteLength / CHUNK);
    for (let first = 0; first < chunks; first += CHUNKS_PER_COMMIT) {
      const op = this.kv.atomic();
      for (let i = first; i < Math.min(chunks, first + CHUNKS_PER_COMMIT); i++) {
        op.set([...key, "chunk", stamp, i], bytes.subarray(i * CHUNK, (i + 1) * CHUNK));
      }
      await this.#commit(op);
    }
    await this.kv.set([...key, "head"], { stamp, chunks, size: bytes.byteLength } satisfies BlobHead);
    if (previous) await this.#deleteChunks(key, previous.stamp);
  }

  async getBlob(key: KvKey): Promise<Uint8Array | null> {
    const head = (await this.kv.get<BlobHead>([...key, "head"])).value;
    if (!head) return null;
    const out = new Uint8Array(head.size);
    let offset = 0;
    for await (const entry of this.kv.list<Uint8Array>({ prefix: [...key, "chunk", head.stamp] })) {
      out.set(entry.value, offset);
      offset += entry.value.byteLength;
    }
    if (offset !== head.size)
      throw new Error(`blob ${JSON.stringify(key)} is incomplete: ${offset} of ${head.size} bytes`);
    return out;
  }

  async deleteBlob(key: KvKey): Promise<void> {
    const head = (await this.kv.get<BlobHead>([...key, "head"])).value;
    await this.kv.delete([...key, "head"]);
    if (head) await this.#deleteChunks(key, head.stamp);
  }

  async #deleteChunks(key: KvKey, stamp: string): Promise<void> {
    for await (const entry of this.kv.list({ prefix: [...key, "chunk", stamp] })) await this.kv.delete(entry.key);
  }

  async #commit(op: AtomicOperation): Promise<void> {
    const result = await op.commit();
    if (!result.ok) throw new Error("Deno KV refused an atomic commit");
  }

  // Plugins ----------------------------------------------------------------
  savePlugin(id: string, bytes: Uint8Array): Promise<void> {
    return this.putBlob(["plugin", id], bytes);
  }

  async pluginIds(): Promise<string[]> {
    const ids = new Set<string>();
    for await (const e of this.kv.list({ prefix: ["plugin"] })) ids.add(String(e.key[1]));
    return [...ids].sort();
  }

  loadPlugin(id: string): Promise<Uint8Array | null> {
    return this.getBlob(["plugin", id]);
  }

  // Indexes ----------------------------------------------------------------
  async saveIndex(name: string, kind: string, bytes: Uint8Array): Promise<void> {
    await this.putBlob(["index-bytes", name], bytes);
    await this.kv.set(["index", name], { kind });
  }

  async indexes(): Promise<{ name: string; kind: string }[]> {
    const out: { name: string; kind: string }[] = [];
    for await (const e of this.kv.list<{ kind: string }>({ prefix: ["index"] })) {
      out.push({ name: String(e.key[1]), kind: e.value.kind });
    }
    return out;
  }

  indexBytes(name: string): Promise<Uint8Array | null> {
    return this.getBlob(["index-bytes", name]);
  }

  // CRDTs ------------------------------------------------------------------
  async saveCrdt(name: string, kind: string, bytes: Uint8Array): Promise<void> {
    await this.putBlob(["crdt-state", name], bytes);
    await this.kv.set(["crdt", name], { kind });
  }

  async crdts(): Promise<{ name: string; kind: string }[]> {
    const out: { name: string; kind: string }[] = [];
    for await (const e of this.kv.list<{ kind: string }>({ prefix: ["crdt"] })) {
      out.push({ name: String(e.key[1]), kind: e.value.kind });
    }
    return out;
  }

  crdtBytes(name: string): Promise<Uint8Array | null> {
    return this.getBlob(["crdt-state", name]);
  }

  // CDC --------------------------------------------------------------------
  async streams(): Promise<{ name: string; record: CdcStreamRecord }[]> {
    const out: { name: string; record: CdcStreamRecord }[] = [];
    for await (const e of this.kv.list<CdcStreamRecord>({ prefix: ["cdc"] })) {
      out.push({ name: String(e.key[1]), record: e.value });
    }
    return out;
  }

  async registerStream(name: string, output: string): Promise<CdcStreamRecord> {
    const existing = (await this.kv.get<CdcStreamRecord>(["cdc", name])).value;
    if (existing) return existing;
    const record: CdcStreamRecord = { output, checkpoint: 0n };
    await this.kv.set(["cdc", name], record);
    return record;
  }

  /**
   * The sink: records one emitted batch and advances the stream's checkpoint in one atomic commit, refusing
   * (false) unless the batch starts exactly at the stored checkpoint — so the log can hold no gap and no
   * duplicate, even if this process dies at any point.
   */
  async appendBatch(name: string, batch: CdcBatchRecord, payload: Uint8Array): Promise<boolean> {
    const entry = await this.kv.get<CdcStreamRecord>(["cdc", name]);
    if (!entry.value || entry.value.checkpoint !== batch.lsnStart) return false;
    await this.putBlob(["cdc-payload", name, batch.lsnStart], payload);
    const result = await this.kv
      .atomic()
      .check(entry)
      .set(["cdc-log", name, batch.lsnStart], batch)
      .set(["cdc", name], { ...entry.value, checkpoint: batch.lsnEnd } satisfies CdcStreamRecord)
      .commit();
    return result.ok;
  }

  async batches(name: string): Promise<CdcBatchRecord[]> {
    const out: CdcBatchRecord[] = [];
    for await (const e of this.kv.list<CdcBatchRecord>({ prefix: ["cdc-log", name] })) out.push(e.value);
    return out;
  }
}
