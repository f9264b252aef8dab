// The Node entry of fleet-node.ts (bundled by the test with rolldown: Node 20 runs no TypeScript):
// `node node-node.mjs <id> <kv path> <config json>`. Deno KV through @deno/kv.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openKv } from "@deno/kv";
import { denoKvStore } from "../../../src/adapters/deno-kv.ts";
import { type Config, main } from "./fleet-node.ts";

const [id, path, config] = process.argv.slice(2) as [string, string, string];
await main(
  {
    name: "node",
    openStore: async (p) => denoKvStore(await openKv(p), { closeKv: true }),
    lines: () => createInterface({ input: process.stdin }),
    // Bundled under node_modules/.cache: components are found from the working directory (the repository).
    component: async (name) => new Uint8Array(await readFile(join(process.cwd(), "plugins-wasm/dist", `${name}.wasm`))),
    exit: (code) => process.exit(code),
  },
  id,
  path,
  JSON.parse(config) as Config,
);
