#!/usr/bin/env node
// `npm run bench` (full, writes bench/results/node.json) and `npm run bench:smoke`
// (`--smoke`: seconds, tiny sizes, exits non-zero if a benchmark throws).
// Bundles bench/node.ts (Node 20 runs no TypeScript), then runs it in a child
// Node with --expose-gc so memory figures can start from a collected heap.
// Extra arguments: benchmark ids to run only those (e.g. `call-overhead`);
// `--head` benchmarks the committed tree (HEAD) instead of the working tree.
import { spawnSync } from "node:child_process";
import { bundle, repoRoot, snapshot } from "./build.mjs";

const args = process.argv.slice(2);
const root = args.includes("--head") ? await snapshot("HEAD") : repoRoot;
const file = await bundle("bench/node.ts", "node", root);
const child = spawnSync(
  process.execPath,
  ["--expose-gc", "--enable-source-maps", file, ...args.filter((a) => a !== "--head")],
  // Components are read from the tree benchmarked; results are written to the working tree.
  { stdio: "inherit", cwd: repoRoot, env: { ...process.env, BENCH_REPO_ROOT: root, BENCH_RESULTS_DIR: `${repoRoot}/bench/results` } },
);
process.exit(child.status ?? 1);
