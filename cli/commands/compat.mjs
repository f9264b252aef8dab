// `uni-plugin compat <old.wasm> <new.wasm> [--state <dir>]`: a dry-run hot reload in a throwaway PluginHost, on
// generated state (or a saved one), printing the ReloadReport a real reload would give.
import { readFile } from "node:fs/promises";
import { loadFastCheck } from "../lib/check/run.mjs";
import { CliError, messageOf } from "../lib/errors.mjs";
import { emitsProblem, json, reloadLines } from "../lib/report.mjs";
import { PluginHost, ReloadError } from "../lib/runtime.mjs";
import { findSamples } from "../lib/samples.mjs";
import { generateState, loadState, observe, publishSome, saveState } from "../lib/state.mjs";
import { shown } from "../lib/project.mjs";

export const usage = `uni-plugin compat <old.wasm> <new.wasm> [--state <dir>] [--save-state <dir>] [--force] [--json]
                        [--samples <uni-plugin.json>] [--seed <n>]
  Loads old into a throwaway PluginHost, gives it state (generated from what it provides, or --state: a folder
  a host saved, see docs/authoring.md), then hot-reloads new over it and prints the reload's report: the steps,
  what moved, or the step that refused and why. After a successful reload it compares what the state answers
  before and after, and checks that CDC LSNs continue exactly once. Exit 0 when the reload would succeed.
  --save-state <dir>  writes the state used (before the reload) as a folder --state can read back
  --force             reload as with { force: true } (lets the new version drop kinds)`;

export const options = {
  state: { type: "string" },
  "save-state": { type: "string" },
  samples: { type: "string" },
  seed: { type: "string" },
  force: { type: "boolean" },
  json: { type: "boolean" },
};

async function read(file) {
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${messageOf(err)}`);
  }
}

/**
 * The dry run itself, for `compat` and tests.
 * @returns {Promise<{ report: object, notes: string[], changes: string[], problems: string[], logs: object[] }>}
 */
export async function dryRun(oldBytes, newBytes, { samples = {}, seed, stateDir, saveTo, force = false }) {
  const fc = await loadFastCheck();
  const logs = [];
  const host = new PluginHost({ onLog: (entry) => logs.push(entry) });
  try {
    let handle;
    try {
      handle = await host.load(oldBytes);
    } catch (err) {
      throw new CliError(`the old component does not load: ${messageOf(err)}`);
    }
    const state = stateDir
      ? await loadState(host, stateDir, { fc, seed })
      : await generateState(host, handle, { fc, samples, seed });
    if (saveTo) await saveState(host, state, saveTo);
    const before = await observe(host, state);
    let report;
    try {
      report = await host.reload(handle, newBytes, { force });
    } catch (err) {
      if (!(err instanceof ReloadError) || !err.report) throw err;
      report = err.report;
    }
    const changes = [];
    const problems = [];
    if (report.ok) {
      for (const { name, emits } of state.cdc) {
        await publishSome(host.cdc(name), fc, seed + 7, 2);
        const problem = emitsProblem(emits);
        if (problem) problems.push(`cdc ${name}: ${problem}`);
      }
      const after = await observe(host, state);
      for (const [what, was] of Object.entries(before)) {
        if (what.startsWith("cdc ")) continue;
        if (after[what] !== was) changes.push(`${what}: ${was} before, ${after[what] ?? "(gone)"} after`);
      }
    }
    return { report, notes: state.notes, changes, problems, logs };
  } finally {
    host.dispose();
  }
}

export async function run({ positionals, values }, io) {
  const [oldFile, newFile] = positionals;
  if (!oldFile || !newFile) throw new CliError("compat needs <old.wasm> and <new.wasm>", { hint: usage });
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  const { samples } = await findSamples(newFile, values.samples);
  const result = await dryRun(await read(oldFile), await read(newFile), {
    samples,
    seed,
    stateDir: values.state,
    saveTo: values["save-state"],
    force: values.force,
  });
  const { report, notes, changes, problems } = result;
  const ok = report.ok && problems.length === 0;
  if (values.json) {
    io.out(json({ ok, report, state: notes, changes, problems }));
    return ok ? 0 : 1;
  }
  io.out(`dry-run reload ${shown(oldFile)} → ${shown(newFile)}`);
  for (const note of notes) io.out(`  state: ${note}`);
  if (values["save-state"]) io.out(`  state saved to ${shown(values["save-state"])} (reuse it with --state)`);
  for (const line of reloadLines(report)) io.out(line);
  for (const change of changes) io.out(`  note: ${change}`);
  for (const problem of problems) io.out(`  FAIL ${problem}`);
  if (report.ok && problems.length === 0) {
    io.out(
      changes.length === 0 ? "  the state answers exactly as before the reload" : "  (answers changed: intended?)",
    );
  }
  return ok ? 0 : 1;
}
