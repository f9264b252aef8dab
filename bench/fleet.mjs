#!/usr/bin/env node
// `node bench/fleet.mjs [--smoke]`: the fleet's goals (bench/fleet.ts) on real processes. Bundles bench/fleet.ts
// with rolldown (Node 20 runs no TypeScript) into node_modules/.cache, packages kept external, then runs it.
// `npm run bench` runs it after the Node benchmarks (`npm run bench -- fleet` runs only this).
import { spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { build } from "rolldown";
import { repoRoot } from "./build.mjs";

const dir = join(repoRoot, "node_modules", ".cache", "uni-bench");
await mkdir(dir, { recursive: true });
const file = join(dir, "fleet.mjs");
await build({
  input: join(repoRoot, "bench", "fleet.ts"),
  platform: "node",
  external: (id) => !id.startsWith(".") && !id.startsWith("/"),
  logLevel: "warn",
  output: { file, format: "esm", sourcemap: true, codeSplitting: false },
});
const child = spawnSync(process.execPath, ["--enable-source-maps", file, ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: repoRoot,
  env: { ...process.env, FLEET_REPO_ROOT: repoRoot },
});
process.exit(child.status ?? 1);
