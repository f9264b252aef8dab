#!/usr/bin/env node
// `npm run bench` (full, writes bench/results/node.json) and `npm run bench:smoke`
// (`--smoke`: seconds, tiny sizes, exits non-zero if a benchmark throws).
// Bundles bench/node.ts (Node 20 runs no TypeScript), then runs it in a child
// Node with --expose-gc so memory figures can start from a collected heap.
// Extra arguments: benchmark ids to run only those (e.g. `call-overhead`; `fleet`: bench/fleet.mjs);
// `--head` benchmarks the committed tree (HEAD) instead of the working tree;
// `--all` then runs Deno (`deno task bench`) and Chromium (bench/chromium.mjs)
// the same way and regenerates RESULTS.md and chart.png (bench/report.mjs).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bundle, repoRoot, snapshot } from "./build.mjs";

const args = process.argv.slice(2);
const all = args.includes("--all");
const head = args.includes("--head");
const passOn = args.filter((a) => a !== "--head" && a !== "--all");
// `fleet` (bench/fleet.mjs: processes sharing one Deno KV file) runs after the Node benchmarks in a full run, or
// alone when it is the only id given.
const ids = passOn.filter((a) => !a.startsWith("--"));
const fleet = ids.length === 0 || ids.includes("fleet");
const fleetOnly = ids.length > 0 && ids.every((id) => id === "fleet");
const nodeArgs = passOn.filter((a) => a !== "fleet");
const root = head ? await snapshot("HEAD") : repoRoot;
const file = fleetOnly ? "" : await bundle("bench/node.ts", "node", root);

function run(cmd, argv, cwd, env = {}) {
  const child = spawnSync(cmd, argv, { stdio: "inherit", cwd, env: { ...process.env, ...env } });
  return child.status ?? 1;
}

let status = fleetOnly
  ? 0
  : run(process.execPath, ["--expose-gc", "--enable-source-maps", file, ...nodeArgs], repoRoot, {
      // Components are read from the tree benchmarked; results are written to the working tree.
      BENCH_REPO_ROOT: root,
      BENCH_RESULTS_DIR: join(repoRoot, "bench", "results"),
    });
if (fleet) {
  const smokeArg = passOn.includes("--smoke") ? ["--smoke"] : [];
  status ||= run(process.execPath, [join(root, "bench", "fleet.mjs"), ...smokeArg], root, {
    BENCH_RESULTS_DIR: join(repoRoot, "bench", "results"),
  });
}
if (all && !fleetOnly) {
  const deno = join(repoRoot, "node_modules", ".bin", "deno");
  const denoArgs = [
    "run",
    "--unstable-kv",
    "--allow-read=.",
    "--allow-write=bench/results,node_modules/.cache/uni-bench",
    "--allow-sys",
    "--v8-flags=--expose-gc",
    "bench/deno.ts",
    ...nodeArgs,
  ];
  status ||= run(deno, denoArgs, root);
  if (root !== repoRoot && !passOn.includes("--smoke")) {
    // The snapshot wrote its own bench/results/deno.json: bring it home.
    status ||= run(
      "cp",
      [join(root, "bench", "results", "deno.json"), join(repoRoot, "bench", "results", "deno.json")],
      repoRoot,
    );
  }
  status ||= run(
    process.execPath,
    [join(repoRoot, "bench", "chromium.mjs"), ...(head ? ["--head"] : []), ...nodeArgs],
    repoRoot,
  );
  if (!passOn.includes("--smoke")) status ||= run(process.execPath, [join(repoRoot, "bench", "report.mjs")], repoRoot);
}
process.exit(status);
