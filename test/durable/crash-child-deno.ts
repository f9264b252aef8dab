// Deno entry of the durable-host crash child (crash-child.ts): Deno KV for the host and for downstream, components
// read from plugins-wasm/dist. Started by host-crash-deno.test.ts with `deno run --unstable-kv`, read access to the
// repository and write access to the test's directory only. Arguments: dir, round, since, [final].
import { openDenoKvStore } from "../../src/adapters/deno.ts";
import { runChild } from "./crash-child.ts";

declare const Deno: {
  args: string[];
  readFile(path: URL): Promise<Uint8Array>;
  stdout: { writeSync(bytes: Uint8Array): number };
  exit(code: number): never;
};

const [dir, round, since, final] = Deno.args as [string, string, string, string?];
const dist = new URL("../../plugins-wasm/dist/", import.meta.url);
const encoder = new TextEncoder();
// writeSync: the line is out of the process before the next step runs (a kill cannot strand it in a buffer).
const say = (line: unknown) => {
  let bytes = encoder.encode(`${JSON.stringify(line, (_, v) => (typeof v === "bigint" ? String(v) : v))}\n`);
  while (bytes.length) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
};
await runChild({
  host: await openDenoKvStore(`${dir}/host.kv`),
  sink: await openDenoKvStore(`${dir}/sink.kv`),
  component: (name) => Deno.readFile(new URL(`${name}.wasm`, dist)),
  say,
  round: Number(round),
  since: BigInt(since),
  final: final === "final",
});
if (final === "final") Deno.exit(0);
