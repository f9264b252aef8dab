// `uni-plugin dev [dir]`: build, load into a small local dev host with generated state, then rebuild on every
// save and hot-reload into it, printing each ReloadReport. The host keeps serving the last good version when a
// build or a reload fails.
import { watch } from "node:fs";
import { createServer } from "node:http";
import { relative, sep } from "node:path";
import { buildProject } from "../lib/build.mjs";
import { loadFastCheck } from "../lib/check/run.mjs";
import { messageOf } from "../lib/errors.mjs";
import { openProject, shown } from "../lib/project.mjs";
import { emitsProblem, json, reloadLines } from "../lib/report.mjs";
import { PluginHost, ReloadError } from "../lib/runtime.mjs";
import { findSamples } from "../lib/samples.mjs";
import { generateState, loadState, observe, publishSome, saveState } from "../lib/state.mjs";

export const usage = `uni-plugin dev [dir] [--port <n>] [--state <dir>] [--save-state <dir>] [--target-dir <dir>]
  Builds the project, loads it into a local dev host with generated state (or --state), and watches the sources:
  every save rebuilds and hot-reloads the new build into the running host, printing the reload's report and
  whether the state still answers the same. A failed build or reload leaves the last good version serving.
  --port <n>          also serve the host's plugins and state as JSON on http://127.0.0.1:<n>/
  --save-state <dir>  after every successful reload, save the host's state there (for compat --state)
  Stop with Ctrl-C.`;

export const options = {
  port: { type: "string" },
  state: { type: "string" },
  "save-state": { type: "string" },
  "target-dir": { type: "string" },
};

/** Files whose change means a rebuild; build output, dependencies and editor droppings are not. */
function isSource(path) {
  const parts = path.split(sep);
  if (parts.some((p) => ["build", "target", "node_modules", ".git", ".uni-plugin"].includes(p))) return false;
  return /\.(rs|ts|toml|json)$/.test(path) && !/(^|\/)\.#|~$|\.swp$/.test(path);
}

export async function run({ positionals, values }, io) {
  const dir = positionals[0] ?? ".";
  let project = await openProject(dir);
  const fc = await loadFastCheck();
  const { samples } = await findSamples(project.outFile, undefined);
  const log = (line) => io.out(`[dev] ${line}`);
  const host = new PluginHost({
    onLog: ({ pluginId, level, message }) => io.out(`[${pluginId}] ${level}: ${message}`),
  });

  log(`building ${shown(project.root)} …`);
  const first = await buildProject(project, { targetDir: values["target-dir"], quiet: true });
  log(`built ${shown(first.file)} in ${(first.ms / 1000).toFixed(1)} s`);
  let handle = await host.load(first.bytes);
  const state = values.state
    ? await loadState(host, values.state, { fc, seed: 1 })
    : await generateState(host, handle, { fc, samples, seed: 1 });
  for (const note of state.notes) log(`state: ${note}`);
  let lastReport = null;

  const server =
    values.port === undefined
      ? undefined
      : createServer(async (_req, res) => {
          try {
            const body = json({ plugins: host.plugins(), state: await observe(host, state), lastReload: lastReport });
            res.writeHead(200, { "content-type": "application/json" }).end(body);
          } catch (err) {
            res.writeHead(500, { "content-type": "text/plain" }).end(messageOf(err));
          }
        });
  if (server) {
    await new Promise((resolve) => server.listen(Number(values.port), "127.0.0.1", resolve));
    log(`serving the host's state on http://127.0.0.1:${server.address().port}/`);
  }

  let running = Promise.resolve();
  let pending = false;
  let timer;
  const rebuild = async () => {
    pending = false;
    try {
      project = await openProject(dir);
      log("change detected: rebuilding …");
      const built = await buildProject(project, { targetDir: values["target-dir"], quiet: true });
      log(`built ${shown(built.file)} in ${(built.ms / 1000).toFixed(1)} s; hot-reloading`);
      const before = await observe(host, state);
      let report;
      try {
        report = await host.reload(handle, built.bytes);
      } catch (err) {
        if (!(err instanceof ReloadError) || !err.report) throw err;
        report = err.report;
      }
      lastReport = report;
      for (const line of reloadLines(report)) io.out(line);
      if (!report.ok) {
        log(`still serving ${handle.id}@${handle.version} (generation ${handle.generation})`);
        return;
      }
      handle = report.to;
      for (const { name } of state.cdc) await publishSome(host.cdc(name), fc, Date.now() >>> 0, 1);
      const after = await observe(host, state);
      const changed = Object.keys(before).filter((k) => !k.startsWith("cdc ") && before[k] !== after[k]);
      for (const { name, emits } of state.cdc) {
        const problem = emitsProblem(emits);
        if (problem) log(`cdc ${name}: ${problem}`);
      }
      log(
        changed.length === 0
          ? `now serving ${handle.id}@${handle.version} (generation ${handle.generation}); the state answers as before`
          : `now serving ${handle.id}@${handle.version} (generation ${handle.generation}); answers changed: ${changed.join(", ")}`,
      );
      if (values["save-state"]) await saveState(host, state, values["save-state"]);
    } catch (err) {
      io.out(`[dev] error: ${messageOf(err)}`);
      if (err?.hint) io.out(`[dev]   fix: ${err.hint}`);
      log(`still serving ${handle.id}@${handle.version} (generation ${handle.generation})`);
    }
  };
  const watcher = watch(project.root, { recursive: true }, (_event, file) => {
    if (!file || !isSource(relative(project.root, `${project.root}${sep}${file}`))) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (pending) return;
      pending = true;
      running = running.then(rebuild);
    }, 150);
  });
  log(`watching ${shown(project.root)} (${project.lang}); save a source file to hot-reload, Ctrl-C to stop`);

  await new Promise((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  watcher.close();
  clearTimeout(timer);
  await running;
  server?.close();
  host.dispose();
  log("stopped");
  return 0;
}
