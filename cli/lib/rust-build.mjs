// Rust → core module with Debian's rustc-web, offline: std rebuilt from source (-Zbuild-std, set in the
// project's .cargo/config.toml). The rebuilt std is the slow part (minutes), so every project shares one cargo
// target folder under the user's cache: the first build pays for std once, later builds of any project reuse it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors.mjs";

const TARGET = "wasm32-unknown-unknown";

/** The CLI's cache folder: $UNI_PLUGIN_CACHE_DIR, else $XDG_CACHE_HOME/uni-plugin, else ~/.cache/uni-plugin. */
export function cacheDir(env = process.env) {
  if (env.UNI_PLUGIN_CACHE_DIR) return env.UNI_PLUGIN_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "uni-plugin");
}

/** The shared cargo target folder (overridable with CARGO_TARGET_DIR or --target-dir). */
export function sharedTargetDir(env = process.env) {
  return env.CARGO_TARGET_DIR || join(cacheDir(env), "cargo-target");
}

/** Debian's cargo and rustc: rustup's come first on PATH and have no wasm32 std. Overridable for other setups. */
function toolchain(env) {
  return { cargo: env.UNI_PLUGIN_CARGO || "/usr/bin/cargo", rustc: env.UNI_PLUGIN_RUSTC || "/usr/bin/rustc" };
}

async function crateName(root) {
  const toml = await readFile(join(root, "Cargo.toml"), "utf8").catch(() => {
    throw new CliError(`no Cargo.toml in ${root}`);
  });
  const pkg = /\[package\][^[]*?\bname\s*=\s*"([^"]+)"/s.exec(toml);
  if (!pkg) throw new CliError(`Cargo.toml has no [package] name`);
  return pkg[1].replaceAll("-", "_");
}

/** What a failed cargo run means, when it is one of the setup mistakes we know. */
function hintFor(stderr) {
  if (/can't find crate for `(core|std)`|target may not be installed/.test(stderr))
    return "this is rustup's toolchain, which has no wasm32 std: uni-plugin calls /usr/bin/cargo with RUSTC=/usr/bin/rustc (apt-get install rustc-web cargo-web rust-web-src lld); set UNI_PLUGIN_CARGO / UNI_PLUGIN_RUSTC if yours live elsewhere";
  if (/linker `wasm-ld[^`]*` not found/.test(stderr)) return "apt-get install lld (wasm-ld-14 links the module)";
  if (/library\/vendor|rust-src-vendor|failed to load source for dependency/.test(stderr))
    return "std's vendored sources are missing: apt-get install rust-web-src";
  if (/cannot find macro `export_(index|cdc)_plugin`/.test(stderr))
    return "call it through the SDK crate: uni_plugin_sdk::export_index_plugin!(…) / uni_plugin_sdk::export_cdc_plugin!(…)";
  return undefined;
}

/**
 * Runs `cargo build --release` for the project and returns its core module.
 * @param {{ root: string, targetDir?: string, quiet?: boolean, env?: Record<string, string | undefined> }} options
 * @returns {Promise<Uint8Array>}
 * @throws {CliError} with cargo's own diagnostics, and a hint when the cause is a known setup mistake
 */
export async function buildRustCore({ root, targetDir, quiet = false, env: callerEnv = process.env }) {
  const { cargo, rustc } = toolchain(callerEnv);
  if (!existsSync(cargo) || !existsSync(rustc)) {
    throw new CliError(`Debian's Rust toolchain is not installed (${!existsSync(cargo) ? cargo : rustc} is missing)`, {
      hint: "apt-get install rustc-web cargo-web rust-web-src lld",
    });
  }
  const crate = await crateName(root);
  const target = targetDir ?? sharedTargetDir(callerEnv);
  const env = { ...callerEnv, RUSTC: rustc, RUSTC_BOOTSTRAP: "1", CARGO_TARGET_DIR: target };
  // Flags from the environment would rebuild std (a different std per flag set) and change the bytes.
  for (const key of ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WRAPPER"]) delete env[key];
  const args = ["build", "--offline", "--release", "--target", TARGET];
  const stderr = [];
  const code = await new Promise((resolve, reject) => {
    const child = spawn(cargo, args, { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (chunk) => {
      stderr.push(chunk);
      if (!quiet) process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("close", resolve);
  });
  const text = Buffer.concat(stderr).toString("utf8");
  if (code !== 0) {
    const errors = text
      .split("\n")
      .filter((l) => !/^\s*(Compiling|Finished|Blocking|Fresh|Running)\b/.test(l))
      .join("\n")
      .trim();
    throw new CliError(`cargo build failed (exit ${code})${quiet ? `:\n${errors}` : " (its errors are above)"}`, {
      hint: hintFor(text),
    });
  }
  const artifact = join(target, TARGET, "release", `${crate}.wasm`);
  try {
    return new Uint8Array(await readFile(artifact));
  } catch {
    throw new CliError(`cargo built nothing at ${artifact}`, {
      hint: 'the crate must be a cdylib: [lib] crate-type = ["cdylib"] in Cargo.toml',
    });
  }
}
