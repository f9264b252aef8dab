#!/usr/bin/env node
// `npm run bench` (full, writes bench/results/node.json) and `npm run bench:smoke`
// (`--smoke`: seconds, tiny sizes, exits non-zero if a benchmark throws).
// Bundles bench/node.ts (Node 20 runs no TypeScript), then runs it in a child
// Node with --expose-gc so memory figures can start from a collected heap.
// Extra arguments: benchmark ids to run only those (e.g. `call-overhead`).
import { spawnSync } from "node:child_process";
import { bundle, repoRoot } from "./build.mjs";

const file = await bundle("bench/node.ts", "node");
const child = spawnSync(
  process.execPath,
  ["--expose-gc", "--enable-source-maps", file, ...process.argv.slice(2)],
  { stdio: "inherit", cwd: repoRoot, env: { ...process.env, BENCH_REPO_ROOT: repoRoot } },
);
process.exit(child.status ?? 1);
