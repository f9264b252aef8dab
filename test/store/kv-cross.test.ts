// Node-only (spawns Deno): one local Deno KV file shared by a Deno process (Deno.openKv) and this Node process
// (@deno/kv's openKv). Each sees the other's committed writes through get and list, raw and through the store
// adapter; compare-and-set is atomic across the two; and @deno/kv really reads the same SQLite file Deno writes.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openKv } from "@deno/kv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { denoKvStore } from "../../src/adapters/deno-kv.ts";
import { incrementCounter } from "../../src/store/mod.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const deno = join(repoRoot, "node_modules/.bin/deno");
const peer = fileURLToPath(new URL("./kv-peer.ts", import.meta.url));
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs the Deno peer; `onLine` sees each output line as it comes; resolves every line once it exits. */
function runPeer(dir: string, path: string, args: string[], onLine?: (line: string) => void): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      deno,
      ["run", "--unstable-kv", `--allow-read=${repoRoot},${dir}`, `--allow-write=${dir}`, peer, path, ...args],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      const before = out.length;
      out += d;
      const fresh = out.slice(out.lastIndexOf("\n", before) + 1).split("\n");
      fresh.pop();
      for (const line of fresh) onLine?.(line);
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`deno peer ${args.join(" ")} exited ${code}: ${err}`));
      resolve(
        out
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      );
    });
  });
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("one Deno KV file shared by Deno and Node", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "uni-store-kvx-"));
    path = join(dir, "shared.sqlite3");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("@deno/kv reads the SQLite file Deno writes, and Deno reads what @deno/kv writes", async () => {
    // Byte values only: they are stored raw. A V8-serialized value (a string, an object) written by Deno 2.9 is
    // unreadable to Node 20's v8 ("invalid or unsupported version"), which is why the store keeps bytes only.
    const [written] = (await runPeer(dir, path, ["raw-write"])) as [{ versionstamp: string }];
    const header = (await readFile(path)).subarray(0, 16).toString("latin1");
    expect(header).to.equal("SQLite format 3\u0000");
    const kv = await openKv(path);
    const bytes = await kv.get(["raw", "from-deno"]);
    expect(dec.decode(bytes.value as Uint8Array)).to.equal("bytes from deno");
    expect(bytes.versionstamp).to.equal(written.versionstamp);

    const size = async () => (await stat(path)).size + (await stat(`${path}-wal`).catch(() => ({ size: 0 }))).size;
    const sizeBefore = await size();
    const mine = await kv.set(["raw", "from-node"], enc.encode("bytes from node ".repeat(1000)));
    kv.close();
    expect(await size(), "Node's write went into the file").to.be.greaterThan(sizeBefore);
    const [seen] = (await runPeer(dir, path, ["raw-read"])) as [{ value: string; versionstamp: string }];
    expect(seen).to.deep.equal({ value: "bytes from node ".repeat(1000), versionstamp: mine.versionstamp });
  }, 60_000);

  it("shares a store: records, links and blobs written by one runtime read back in the other", async () => {
    const [w] = (await runPeer(dir, path, ["store-write"])) as [
      { ok: boolean; versionstamp: string; blob: string; sha: string },
    ];
    expect(w.ok).to.equal(true);
    const store = denoKvStore(await openKv(path), { closeKv: true });
    const one = await store.get(["shared", "deno", 1]);
    const two = await store.get(["shared", "deno", 2n]);
    expect(dec.decode(one?.value)).to.equal("one");
    expect(two?.versionstamp).to.equal(w.versionstamp);
    expect(two?.blobs).to.deep.equal([w.blob]);
    expect(sha(await store.getBlob(w.blob))).to.equal(w.sha);

    const nodeBlob = enc.encode("a blob from node ".repeat(10_000));
    const { id } = await store.putBlob(nodeBlob);
    const res = await store
      .atomic()
      .set(["shared", "node"], enc.encode("from node"), { blobs: [id] })
      .commit();
    await store.close();
    const [entries] = (await runPeer(dir, path, ["store-read"])) as [
      { key: unknown[]; value: string; versionstamp: string; blobs: string[] }[],
    ];
    expect(entries.map((e) => [e.key, e.value])).to.deep.equal([
      [["shared", "deno", "2n"], "two"],
      [["shared", "deno", 1], "one"],
      [["shared", "node"], "from node"],
    ]);
    expect(entries[2]?.versionstamp).to.equal(res.ok ? res.versionstamp : "");
    expect(entries[2]?.blobs).to.deep.equal([sha(nodeBlob)]);
  }, 60_000);

  it("a running Deno process sees Node's commit through get, by polling", async () => {
    const store = denoKvStore(await openKv(path), { closeKv: true });
    let committed: string | undefined;
    const lines = runPeer(dir, path, ["wait-for", "late"], (line) => {
      if (line === '"ready"' && !committed) {
        committed = "pending";
        void store
          .atomic()
          .set(["shared", "late"], enc.encode("written while Deno was running"))
          .commit()
          .then((r) => {
            committed = r.ok ? r.versionstamp : "refused";
          });
      }
    });
    const out = (await lines) as [string, { value: string; versionstamp: string }];
    expect(out[1].value).to.equal("written while Deno was running");
    expect(out[1].versionstamp).to.equal(committed);
    await store.close();
  }, 60_000);

  it("compare-and-set is atomic across the two processes: a shared counter never repeats", async () => {
    let conflicts = 0;
    const store = denoKvStore(await openKv(path), {
      closeKv: true,
      observer: { onCommit: (e) => void (e.ok || conflicts++) },
    });
    const n = 150;
    const fromNode: bigint[] = [];
    let nodeDone: Promise<void> | undefined;
    const fromDeno = runPeer(dir, path, ["count", String(n)], (line) => {
      if (line !== '"ready"') return;
      nodeDone = (async () => {
        await store.commit({ mutations: [{ type: "set", key: ["go"], value: new Uint8Array() }] });
        for (let i = 0; i < n; i++) {
          fromNode.push(await incrementCounter(store, ["counter"]));
          await new Promise((r) => setTimeout(r, 1)); // take turns, as processes doing other work would
        }
      })();
    });
    const [, denoValues] = (await fromDeno) as [string, string[]];
    await nodeDone;
    await store.close();
    const deno = denoValues.map((v) => BigInt(v.slice(0, -1)));
    const all = [...fromNode, ...deno].sort((a, b) => Number(a - b));
    expect(all).to.deep.equal(Array.from({ length: 2 * n }, (_, i) => BigInt(i + 1)));
    // They really ran at once: Node's values interleave with Deno's.
    const [lo, hi] = [deno[0] as bigint, deno.at(-1) as bigint];
    const inside = fromNode.filter((v) => v > lo && v < hi).length;
    expect(
      inside,
      `deno ${lo}..${hi}, node ${fromNode[0]}..${fromNode.at(-1)}, ${conflicts} conflicts`,
    ).to.be.greaterThan(0);
  }, 60_000);
});
