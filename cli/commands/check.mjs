// `uni-plugin check [file.wasm] [--json]`: conformance of a built component, non-zero exit on any failure.
import { readFile } from "node:fs/promises";
import { CliError, messageOf } from "../lib/errors.mjs";
import { runCheckGuarded } from "../lib/check/guard.mjs";
import { DEFAULT_BUDGET_MS, DEFAULT_RUNS } from "../lib/check/run.mjs";
import { openProject, shown } from "../lib/project.mjs";
import { findSamples } from "../lib/samples.mjs";

export const usage = `uni-plugin check [file.wasm] [--json] [--samples <uni-plugin.json>] [--seed <n>] [--runs <n>] [--budget-ms <ms>]
  Checks a component against the uni:plugin contract and exits non-zero on any failure:
    world      its imports and exports are exactly one world of wit/worlds.wit
    manifest   strict, and it declares exactly the kinds it implements
    index      persist → open (in a fresh instance) answers the same probes, on generated data
    crdt       merge is commutative, associative, idempotent, and consistent with value, on generated ops
    cdc        every LSN reaches the sink exactly once across checkpoint, restart at start(lsn) and shutdown
    types      literal → storage → display round-trips
    budget     every call returns within --budget-ms (default ${DEFAULT_BUDGET_MS}); a call still running at
               10x that (at least 2 s) is stopped and reported as stuck
  Without a file, checks the current project's build. Sample data (index shapes, CRDT ops, literals) comes from
  the nearest uni-plugin.json. Generated runs per surface: ${Object.entries(DEFAULT_RUNS)
    .map(([s, n]) => `${s} ${n}`)
    .join(", ")} (--runs overrides); --seed reproduces a run.`;

export const options = {
  json: { type: "boolean" },
  samples: { type: "string" },
  seed: { type: "string" },
  runs: { type: "string" },
  "budget-ms": { type: "string" },
};

function integer(value, flag) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--${flag} must be a non-negative integer, got ${value}`);
  return n;
}

export async function run({ positionals, values }, io) {
  const file = positionals[0] ?? (await openProject(".")).outFile;
  let bytes;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${messageOf(err)}`, {
      hint: positionals[0] ? undefined : "build it first: uni-plugin build",
    });
  }
  const { samples, from } = await findSamples(file, values.samples);
  if (!values.json) io.out(`checking ${shown(file)}${from ? ` (samples from ${shown(from)})` : ""}`);
  const budgetMs = integer(values["budget-ms"], "budget-ms") ?? DEFAULT_BUDGET_MS;
  // A call still running at 10x the budget (at least 2 s) is stuck: the checks run in a worker, which is stopped.
  const hardLimitMs = Math.max(10 * budgetMs, 2000);
  const seed = integer(values.seed, "seed") ?? (Date.now() ^ (Math.random() * 0x100000000)) >>> 0;
  const report = await runCheckGuarded(
    bytes,
    {
      samples,
      seed,
      runs: integer(values.runs, "runs"),
      budgetMs,
      onResult: values.json
        ? undefined
        : (r) => {
            io.out(`  ${r.ok ? "PASS" : "FAIL"}  ${r.name}: ${r.ok ? r.detail : r.error}`);
            if (!r.ok && r.hint) io.out(`        fix: ${r.hint}`);
          },
    },
    hardLimitMs,
  );
  if (values.json) {
    io.out(JSON.stringify({ file, ...report }, (_k, v) => (typeof v === "bigint" ? String(v) : v), 2));
  } else {
    const failed = report.checks.filter((c) => !c.ok).length;
    io.out(
      failed === 0
        ? `all ${report.checks.length} checks passed (seed ${report.seed})`
        : `${failed} of ${report.checks.length} checks FAILED (seed ${report.seed})`,
    );
  }
  return report.ok ? 0 : 1;
}
