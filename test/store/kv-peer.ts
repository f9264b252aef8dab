// The Deno side of kv-cross.test.ts, run with `deno run --unstable-kv`: opens the shared KV file and does one
// command, printing its result as one JSON line.
//   raw-write | raw-read | store-write | store-read | count <n> | wait-for <key> | sqlite-path
import { denoKvStore, type DenoKvLike } from "../../src/adapters/deno-kv.ts";
import { incrementCounter } from "../../src/store/mod.ts";

declare const Deno: {
  args: string[];
  openKv(path: string): Promise<DenoKvLike & { set(k: unknown[], v: unknown): Promise<{ versionstamp: string }> }>;
};

const [path, command, arg] = Deno.args as [string, string, string | undefined];
const kv = await Deno.openKv(path);
const enc = new TextEncoder();
const dec = new TextDecoder();
const say = (x: unknown) => console.log(JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));

async function hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (command === "raw-write") {
  const b = await kv.set(["raw", "from-deno"], enc.encode("bytes from deno"));
  say({ versionstamp: b.versionstamp });
} else if (command === "raw-read") {
  const e = await kv.get(["raw", "from-node"]);
  say({ value: dec.decode(e.value as Uint8Array), versionstamp: e.versionstamp });
} else if (command === "store-write") {
  const store = denoKvStore(kv);
  const blob = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  const { id } = await store.putBlob(blob);
  const res = await store
    .atomic()
    .set(["shared", "deno", 1], enc.encode("one"))
    .set(["shared", "deno", 2n], enc.encode("two"), { blobs: [id] })
    .commit();
  say({ ok: res.ok, versionstamp: res.ok ? res.versionstamp : null, blob: id, sha: await hex(blob) });
} else if (command === "store-read") {
  const store = denoKvStore(kv);
  const entries = [];
  for await (const e of store.list({ prefix: ["shared"] })) {
    const blobs = [];
    for (const id of e.blobs) blobs.push(await hex(await store.getBlob(id)));
    entries.push({ key: e.key, value: dec.decode(e.value), versionstamp: e.versionstamp, blobs });
  }
  say(entries);
} else if (command === "count") {
  const store = denoKvStore(kv);
  say("ready");
  // Start together with the other process: when it writes ["go"].
  while (!(await store.get(["go"]))) await new Promise((r) => setTimeout(r, 2));
  const values: bigint[] = [];
  for (let i = 0; i < Number(arg); i++) {
    values.push(await incrementCounter(store, ["counter"]));
    await new Promise((r) => setTimeout(r, 1));
  }
  say(values);
} else if (command === "wait-for") {
  // Polls (watch would never see another process's write) until the key appears.
  const store = denoKvStore(kv);
  say("ready");
  for (;;) {
    const e = await store.get(["shared", arg as string]);
    if (e) {
      say({ value: dec.decode(e.value), versionstamp: e.versionstamp });
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
kv.close();
