// Browser entry of the durable-host crash child (crash-child.ts): IndexedDB (blobs in OPFS) for the host and for
// downstream, components fetched from the test's server. host-crash-browser.test.ts reloads the page mid-workload
// (or crashes its renderer); the parameters of each round come through sessionStorage, which a reload keeps, or the
// query string. Every line goes out as a console message the moment it is made.
import { indexedDbStore } from "../../src/adapters/indexeddb.ts";
import { runChild } from "./crash-child.ts";

const query = new URLSearchParams(location.search);
const saved = JSON.parse(sessionStorage.getItem("crash") ?? "null") as {
  round: number;
  since: string;
  final: boolean;
} | null;
const params = saved ?? {
  round: Number(query.get("round") ?? 0),
  since: query.get("since") ?? "0",
  final: query.get("final") === "1",
};
const say = (line: unknown) => console.log(JSON.stringify(line, (_, v) => (typeof v === "bigint" ? String(v) : v)));
runChild({
  host: indexedDbStore("crash-host"),
  sink: indexedDbStore("crash-sink"),
  component: async (name) => {
    const res = await fetch(`/dist/${name}.wasm`);
    if (!res.ok) throw new Error(`GET /dist/${name}.wasm: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  },
  say,
  round: params.round,
  since: BigInt(params.since),
  final: params.final,
}).catch((err: unknown) => console.log(JSON.stringify({ t: "error", message: String((err as Error)?.stack ?? err) })));
