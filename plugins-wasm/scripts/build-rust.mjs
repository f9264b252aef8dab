// Builds the Rust sample plugins (cargo workspace in plugins-wasm/rust) and
// wraps each core module into a component in `outDir`.
//
// Uses Debian's rustc-web explicitly: rustup's rustc/cargo come first on PATH
// and have no wasm32 std. std itself is rebuilt from source (-Zbuild-std, see
// rust/.cargo/config.toml), which needs RUSTC_BOOTSTRAP=1.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { componentize } from "./componentize.mjs";

const workspace = fileURLToPath(new URL("../rust", import.meta.url));
const coreDir = join(workspace, "target", "wasm32-unknown-unknown", "release");
const dist = fileURLToPath(new URL("../dist", import.meta.url));
/** Test-only components: committed next to the workspace, not in dist. */
export const fixturesDir = join(workspace, "fixtures");

/** Cargo package → [component file, world]. */
export const components = [
  ["vector-flat-v1", "vector-flat-v1.wasm", "index-plugin"],
  ["vector-flat-v2", "vector-flat-v2.wasm", "index-plugin"],
  ["vector-flat-v2-incompatible", "vector-flat-v2-incompatible.wasm", "index-plugin"],
  ["changelog-v1", "changelog-v1.wasm", "cdc-plugin"],
  ["changelog-v2", "changelog-v2.wasm", "cdc-plugin"],
  ["changelog-v2-incompatible", "changelog-v2-incompatible.wasm", "cdc-plugin"],
];
const fixtures = [["arrow-echo", "arrow-echo.wasm", "index-plugin"]];

function cargoBuild(packages) {
  const args = [
    "build",
    "--offline",
    "--release",
    "--target",
    "wasm32-unknown-unknown",
    ...packages.flatMap((p) => ["-p", p]),
  ];
  // Drop flags from the caller's environment: they would change the bytes
  // (and rebuild std), breaking `check:plugins`.
  const env = { ...process.env, RUSTC: "/usr/bin/rustc", RUSTC_BOOTSTRAP: "1" };
  for (const key of [
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "RUSTC_WRAPPER",
  ])
    delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/cargo", args, { cwd: workspace, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`cargo build failed with exit code ${code}`)),
    );
  });
}

/**
 * @param {string} outDir where the components go
 * @param {{ only?: string[] }} [options] limit to these cargo packages
 * @returns {Promise<string[]>} the component file names written
 */
export async function build(outDir, options = {}) {
  const selected = components.filter(([pkg]) => !options.only || options.only.includes(pkg));
  // Fixtures are refreshed only by a real build into dist, never by `--check`.
  const withFixtures = resolve(outDir) === dist && !options.only;
  await cargoBuild([...selected, ...(withFixtures ? fixtures : [])].map(([pkg]) => pkg));
  const written = [];
  for (const [pkg, file, world] of selected) {
    await writeFile(join(outDir, file), await componentFrom(pkg, world));
    written.push(file);
  }
  if (withFixtures) {
    for (const [pkg, file, world] of fixtures)
      await writeFile(join(fixturesDir, file), await componentFrom(pkg, world));
  }
  return written;
}

async function componentFrom(pkg, world) {
  return componentize(await readFile(join(coreDir, `${pkg.replaceAll("-", "_")}.wasm`)), world);
}

// `node plugins-wasm/scripts/build-rust.mjs [package...]` builds into dist directly.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const only = process.argv.slice(2);
  const files = await build(dist, only.length ? { only } : {});
  console.log(`built ${files.join(", ")}`);
}
