// Node-only: the file store's log on a real directory — torn tails, damage in the middle, compaction and its
// leftovers, the lock, group commit (counted fsyncs) and a failing fsync. Node-only because it reaches under the
// store to cut, flip and copy its files.
import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileStore, NodeDirectory, openFileStore } from "../../src/adapters/node-fs.ts";
import { ErrorCode } from "../../src/errors.ts";
import { type LogOpenReport, logStore } from "../../src/store/log/backend.ts";
import type { AppendFile } from "../../src/store/log/directory.ts";
import { type StateStore, StoreError } from "../../src/store/mod.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected a rejection");
}

async function logFile(dir: string): Promise<string> {
  const logs = (await readdir(dir)).filter((n) => /^log-[0-9a-f]{16}$/.test(n)).sort();
  expect(logs).to.have.length(1);
  return join(dir, logs[0] as string);
}

/** Commits `n` batches, each setting ["a", i] and ["b", i] together; resolves the log size after each. */
async function writeBatches(store: StateStore, dir: string, n: number): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    await store.commit({
      mutations: [
        { type: "set", key: ["a", i], value: text(`a${i}`.repeat(i + 1)) },
        { type: "set", key: ["b", i], value: text(`b${i}`) },
      ],
    });
    sizes.push((await stat(await logFile(dir))).size);
  }
  return sizes;
}

describe("file store log", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-store-log-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("cuts a torn tail at any byte: every complete batch survives whole, none half", async () => {
    const store = await openFileStore(dir);
    const sizes = await writeBatches(store, dir, 12);
    await store.close();
    const path = await logFile(dir);
    const full = await readFile(path);
    const header = 32;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: header, max: full.length }), async (cut) => {
        await writeFile(path, full.subarray(0, cut));
        const reports: LogOpenReport[] = [];
        const s = await openFileStore(dir, { onOpen: (r) => reports.push(r) });
        const complete = sizes.filter((size) => size <= cut).length;
        for (let i = 0; i < 12; i++) {
          const [a, b] = await s.getMany([
            ["a", i],
            ["b", i],
          ]);
          expect(a !== null, `batch ${i} with cut ${cut}`).to.equal(i < complete);
          expect(b !== null).to.equal(i < complete);
          if (a) expect(str(a.value)).to.equal(`a${i}`.repeat(i + 1));
        }
        const edge = complete === 0 ? header : (sizes[complete - 1] as number);
        expect(reports[0]?.tornBytes).to.equal(cut - edge);
        // The tail is gone from the file, so new commits follow the last complete batch.
        await s.commit({ mutations: [{ type: "set", key: ["after"], value: text("x") }] });
        await s.close();
        const again = await openFileStore(dir, { onOpen: (r) => reports.push(r) });
        expect(reports[1]?.tornBytes).to.equal(0);
        expect(str((await again.get(["after"]))?.value)).to.equal("x");
        await again.close();
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it("refuses a log damaged in the middle, and recovers the part before the damage when asked", async () => {
    const store = await openFileStore(dir);
    const sizes = await writeBatches(store, dir, 6);
    await store.close();
    const path = await logFile(dir);
    const bytes = await readFile(path);
    bytes[(sizes[2] as number) + 20] ^= 0x04; // inside batch 3 (0-based), with batches 4 and 5 after it
    await writeFile(path, bytes);

    const err = await rejection(openFileStore(dir));
    expect(err.code).to.equal(ErrorCode.Corrupt);
    expect(err.message).to.contain(`byte ${sizes[2]}`);
    expect(err.message).to.contain("recover");
    // The lock was released: a second attempt gets the same answer, not "locked".
    expect((await rejection(openFileStore(dir))).code).to.equal(ErrorCode.Corrupt);

    const reports: LogOpenReport[] = [];
    const recovered = await openFileStore(dir, { recover: true, onOpen: (r) => reports.push(r) });
    expect(reports[0]?.recovered?.offset).to.equal(sizes[2]);
    const kept = reports[0]?.recovered?.keptAs as string;
    expect(Buffer.compare(await readFile(join(dir, kept)), bytes)).to.equal(0);
    for (let i = 0; i < 6; i++) expect((await recovered.get(["a", i])) !== null).to.equal(i < 3);
    await recovered.close();
  });

  it("refuses a damaged log header", async () => {
    const store = await openFileStore(dir);
    await writeBatches(store, dir, 2);
    await store.close();
    const path = await logFile(dir);
    const bytes = await readFile(path);
    bytes[10] ^= 1;
    await writeFile(path, bytes);
    expect((await rejection(openFileStore(dir))).code).to.equal(ErrorCode.Corrupt);
  });

  it("compacts into a new generation that holds only live records", async () => {
    const store = await openFileStore(dir, { compactAtBytes: 16 * 1024 });
    for (let round = 0; round < 40; round++) {
      await store.commit({
        mutations: Array.from({ length: 10 }, (_, k) => ({
          type: "set" as const,
          key: ["hot", k],
          value: text(`${round}:${"x".repeat(200)}`),
        })),
      });
      if (round % 10 === 9) await store.commit({ mutations: [{ type: "delete", key: ["hot", round % 10] }] });
    }
    const path = await logFile(dir);
    expect(path.endsWith("log-0000000000000001")).to.equal(false);
    expect((await stat(path)).size).to.be.below(16 * 1024 * 2);
    const before = [];
    for await (const e of store.list({ prefix: ["hot"] })) before.push([e.key, str(e.value), e.versionstamp]);
    await store.close();
    const again = await openFileStore(dir);
    const after = [];
    for await (const e of again.list({ prefix: ["hot"] })) after.push([e.key, str(e.value), e.versionstamp]);
    expect(after).to.deep.equal(before);
    expect(after).to.have.length(9);
    await again.close();
  });

  it("after a crash mid-compaction opens the newest complete generation and removes the leftovers", async () => {
    const store = await openFileStore(dir, { compactAtBytes: 4 * 1024 });
    const old = join(dir, "old-copy");
    await store.commit({ mutations: [{ type: "set", key: ["k"], value: text("v1") }] });
    await copyFile(await logFile(dir), old);
    for (let i = 0; i < 30; i++) {
      await store.commit({ mutations: [{ type: "set", key: ["k"], value: text(`v${i + 2}${"y".repeat(300)}`) }] });
    }
    await store.close();
    const current = await logFile(dir);
    // As if the process died after renaming the new generation in but before deleting the old one, with a
    // half-written temporary file of a later attempt lying around.
    await copyFile(old, join(dir, "log-0000000000000001"));
    await writeFile(`${current}.tmp-1234`, text("half written"));
    await writeFile(join(dir, "blobs.tmp"), text("unrelated file"));
    const again = await openFileStore(dir);
    expect(str((await again.get(["k"]))?.value)?.startsWith("v31")).to.equal(true);
    await again.close();
    const names = (await readdir(dir)).sort();
    expect(names.filter((n) => n.startsWith("log-"))).to.deep.equal([current.slice(dir.length + 1)]);
    await rm(old);
  });

  it("holds the directory for one process; a lock left by a dead process is taken over", async () => {
    const store = await openFileStore(dir);
    const err = await rejection(openFileStore(dir));
    expect(err.code).to.equal(ErrorCode.Io);
    expect(err.message).to.contain("already open");
    await store.close();
    await writeFile(join(dir, "LOCK"), "999999999"); // no such process
    const again = await openFileStore(dir);
    expect(await readFile(join(dir, "LOCK"), "utf8")).to.equal(String(process.pid));
    await again.close();
  });

  it("fileStore opens on first use: a failed open rejects, the next operation tries again", async () => {
    const holder = await openFileStore(dir);
    const lazy = fileStore(dir);
    expect(lazy.adapter).to.equal("fs");
    expect((await rejection(lazy.get(["a"]))).message).to.contain("already open");
    expect((await rejection(lazy.putBlob(new Uint8Array(1)))).code).to.equal(ErrorCode.Io);
    await holder.close();
    await lazy.commit({ mutations: [{ type: "set", key: ["a"], value: text("1") }] });
    expect(str((await lazy.get(["a"]))?.value)).to.equal("1");
    await lazy.close();
    await fileStore(dir).close(); // never opened: nothing to release
  });

  it("group-commits: many concurrent commits share few fsyncs, each resolved after its own", async () => {
    let syncs = 0;
    class Counting extends NodeDirectory {
      override async openAppend(path: string): Promise<AppendFile> {
        const file = await super.openAppend(path);
        return {
          ...file,
          sync: async () => {
            syncs++;
            await file.sync();
          },
        };
      }
    }
    const store = await logStore(new Counting(dir));
    const n = 400;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.commit({ mutations: [{ type: "set", key: ["g", i], value: text(`${i}`) }] }),
      ),
    );
    expect(results.every((r) => r.ok)).to.equal(true);
    const stamps = results.map((r) => (r.ok ? r.versionstamp : ""));
    expect(new Set(stamps).size).to.equal(n);
    expect(syncs).to.be.at.least(2);
    expect(syncs).to.be.below(n / 4);
    await store.close();
    const again = await openFileStore(dir);
    let count = 0;
    for await (const _ of again.list({ prefix: ["g"] })) count++;
    expect(count).to.equal(n);
    await again.close();
  });

  it("stops after a failed fsync, rejecting what was pending; a reopen has every acknowledged write", async () => {
    let failNext = false;
    class Flaky extends NodeDirectory {
      override async openAppend(path: string): Promise<AppendFile> {
        const file = await super.openAppend(path);
        return {
          ...file,
          sync: async () => {
            if (failNext) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
            await file.sync();
          },
        };
      }
    }
    const store = await logStore(new Flaky(dir));
    await store.commit({ mutations: [{ type: "set", key: ["ok"], value: text("1") }] });
    failNext = true;
    const err = await rejection(store.commit({ mutations: [{ type: "set", key: ["lost"], value: text("2") }] }));
    expect(err.code).to.equal(ErrorCode.Io);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("EIO");
    // Not visible: it never became durable.
    expect((await rejection(store.get(["lost"]))).code).to.equal(ErrorCode.Io);
    await store.close();
    const again = await openFileStore(dir);
    expect(str((await again.get(["ok"]))?.value)).to.equal("1");
    await again.close();
  });

  it("writes blobs as whole files: a leftover temporary file is removed at open, a cut file is caught", async () => {
    const store = await openFileStore(dir);
    const { id } = await store.putBlob(new Uint8Array(100_000).fill(9));
    await store.close();
    await writeFile(join(dir, "blobs", `${id}.tmp-abc`), text("partial"));
    await truncate(join(dir, "blobs", id), 6); // inside the blob file's own header
    const again = await openFileStore(dir);
    expect(await readdir(join(dir, "blobs"))).to.deep.equal([id]);
    expect((await rejection(again.getBlob(id))).code).to.equal(ErrorCode.Corrupt);
    await again.close();
  });
});
