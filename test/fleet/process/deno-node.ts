// The Deno entry of fleet-node.ts: `deno run --unstable-kv … deno-node.ts <id> <kv path> <config json>`.
import { denoKvStore, type DenoKvLike } from "../../../src/adapters/deno-kv.ts";
import { type Config, main } from "./fleet-node.ts";

declare const Deno: {
  args: string[];
  openKv(path: string): Promise<DenoKvLike>;
  stdin: { readable: ReadableStream<Uint8Array> };
  readFile(path: URL): Promise<Uint8Array>;
  exit(code: number): never;
};

async function* lines(): AsyncIterable<string> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  }
}

const [id, path, config] = Deno.args as [string, string, string];
await main(
  {
    name: "deno",
    openStore: async (p) => denoKvStore(await Deno.openKv(p), { closeKv: true }),
    lines,
    component: (name) => Deno.readFile(new URL(`../../../plugins-wasm/dist/${name}.wasm`, import.meta.url)),
    exit: (code) => Deno.exit(code),
  },
  id,
  path,
  JSON.parse(config) as Config,
);
