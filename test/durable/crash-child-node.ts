// Node entry of the durable-host crash child (crash-child.ts): the file store, components read from disk. Bundled
// by host-crash-node.test.ts with rolldown (Node 20 runs no TypeScript). Arguments: dir, round, since, dist, [final].
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { openFileStore } from "../../src/adapters/node-fs.ts";
import { runChild } from "./crash-child.ts";

const [dir, round, since, dist, final] = process.argv.slice(2) as [string, string, string, string, string?];
// Writes to a pipe are synchronous in Node on Linux: a line is out of the process before the next step runs.
const say = (line: unknown) =>
  process.stdout.write(`${JSON.stringify(line, (_, v) => (typeof v === "bigint" ? String(v) : v))}\n`);
await runChild({
  // A small compaction threshold, so kills land inside the store's compactions too.
  host: await openFileStore(join(dir, "host"), { compactAtBytes: 512 * 1024 }),
  sink: await openFileStore(join(dir, "sink")),
  component: async (name) => new Uint8Array(await readFile(join(dist, `${name}.wasm`))),
  say,
  round: Number(round),
  since: BigInt(since),
  final: final === "final",
});
if (final === "final") process.exit(0);
