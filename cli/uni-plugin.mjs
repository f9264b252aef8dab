#!/usr/bin/env node
// uni-plugin: the plugin author's kit. `new` scaffolds a project, `build` makes the component, `check` tests
// it against the contract, `compat` dry-runs a reload, `dev` rebuilds and hot-reloads on save.
// Runs under Node (>= 20.19) and Deno (`deno run -A …/cli/uni-plugin.mjs`).
import { parseArgs } from "node:util";

const COMMANDS = {
  new: () => import("./commands/new.mjs"),
  build: () => import("./commands/build.mjs"),
  check: () => import("./commands/check.mjs"),
  compat: () => import("./commands/compat.mjs"),
  dev: () => import("./commands/dev.mjs"),
};

const HELP = `uni-plugin <command> [options]

  new <dir> --surface index|cdc|crdt|logical-type --lang rust|assemblyscript --id <plugin id>
                  scaffold a plugin project (manifest, v1 implementation, tests, build config)
  build [dir]     build the component into build/<name>-<version>.wasm
  check [file.wasm] [--json]
                  conformance: world, manifest, and the surface's contract on generated data
  compat <old.wasm> <new.wasm> [--state <dir>]
                  dry-run a hot reload from old to new on generated (or saved) state
  dev [dir]       build, load into a local dev host, rebuild and hot-reload on every save

  uni-plugin <command> --help   shows a command's options`;

/** Prints to the terminal; commands receive it so tests and `dev` can capture output. */
const io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(HELP);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`uni-plugin: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  const command = await load();
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`uni-plugin ${name}: ${err.message}\n\n${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(command.usage);
    return 0;
  }
  return await command.run(parsed, io);
}

function report(err) {
  if (err?.name === "CliError") {
    io.err(`error: ${err.message}`);
    if (err.hint) io.err(`  fix: ${err.hint}`);
    return err.exitCode ?? 1;
  }
  if (err?.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("/dist/mod.js")) {
    io.err("error: the runtime is not built (dist/mod.js is missing)\n  fix: npm run build");
    return 1;
  }
  // A runtime error (PluginError) carries a code and a readable message; anything else is a bug in the CLI.
  if (typeof err?.code === "number") io.err(`error: ${err.message} (code 0x${err.code.toString(16)})`);
  else io.err(`uni-plugin crashed: ${err?.stack ?? err}`);
  return 1;
}

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
let code;
try {
  code = await main(args);
} catch (err) {
  code = report(err);
}
// `dev` keeps running (it resolves only when stopped); everything else exits with its status.
process.exitCode = code;
