// A plugin project on disk (what `uni-plugin new` scaffolds): manifest.json, optional uni-plugin.json, the
// sources of one language. Everything the commands need to know about it is read here, once.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, posix, relative, resolve } from "node:path";
import { CliError, messageOf } from "./errors.mjs";
import { ManifestError, parseManifest } from "./runtime.mjs";
import { declaredSurfaces, PROVIDES_KEY, WORLDS, worldExporting } from "./worlds.mjs";

export const MANIFEST_FILE = "manifest.json";
export const CONFIG_FILE = "uni-plugin.json";
const CONFIG_KEYS = new Set(["lang", "entry", "sdk", "out", "samples", "budgetMs"]);

/**
 * @typedef {object} Project
 * @property {string} root absolute project folder
 * @property {"rust" | "assemblyscript"} lang
 * @property {string} manifestJson manifest.json as written
 * @property {import("../../dist/mod.js").Manifest} manifest parsed strictly
 * @property {string} world e.g. "crdt-plugin", derived from what the manifest provides
 * @property {string} entry the source file that exports the surfaces (relative to root)
 * @property {string} sdkDir the AssemblyScript SDK folder (relative to root)
 * @property {string} sdkImport the SDK folder as the entry imports it (e.g. "../sdk")
 * @property {string} outFile where `build` writes the component (absolute)
 * @property {Record<string, unknown>} config uni-plugin.json (or {})
 * @property {string} manifestFile "manifest.json", for messages
 */

/** The nearest folder at or above `start` that holds a manifest.json. */
export function findProjectRoot(start = ".") {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, MANIFEST_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new CliError(`no ${MANIFEST_FILE} in ${resolve(start)} or any folder above it`, {
        hint: "run this inside a plugin project, or create one: uni-plugin new <dir> --surface crdt --lang assemblyscript --id dev.example.my-plugin",
      });
    }
    dir = up;
  }
}

async function readJson(path, what) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${what}: ${messageOf(err)}`);
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    throw new CliError(`${what} is not valid JSON: ${messageOf(err)}`);
  }
}

/**
 * Reads and checks the manifest strictly (docs/manifest.md): the same parser the host uses, so a manifest the
 * host would refuse never builds.
 * @throws {CliError} naming the field at fault
 */
export function checkManifest(text, file = MANIFEST_FILE) {
  try {
    return parseManifest(text);
  } catch (err) {
    if (err instanceof ManifestError) {
      throw new CliError(`${file}: ${err.message}`, {
        hint: "see docs/manifest.md for every key; unknown keys are refused on purpose",
      });
    }
    throw err;
  }
}

/** The world a manifest's `provides` implies. */
export function worldOf(manifest, file = MANIFEST_FILE) {
  const surfaces = declaredSurfaces(manifest);
  if (surfaces.length === 0) {
    throw new CliError(`${file} provides nothing: every list under "provides" is empty`, {
      hint: `list what the plugin implements, e.g. "provides": { "${PROVIDES_KEY.crdt}": ["my-kind"] }`,
    });
  }
  const world = worldExporting(surfaces);
  if (!world) {
    const known = Object.entries(WORLDS)
      .map(([w, s]) => `${w} (${s.join(" + ")})`)
      .join(", ");
    throw new CliError(`${file} provides ${surfaces.join(" + ")}, which no uni:plugin@1.0.0 world exports`, {
      hint: `the worlds are ${known}; split the plugin, or provide a combination one world has`,
    });
  }
  const missingCaps = surfaces.filter((s) => !manifest.capabilities.includes(s));
  if (missingCaps.length > 0) {
    throw new CliError(
      `${file} provides ${missingCaps.join(", ")} but does not ask for the capabilit${missingCaps.length > 1 ? "ies" : "y"}`,
      { hint: `add ${missingCaps.map((c) => `"${c}"`).join(", ")} to "capabilities"` },
    );
  }
  return world;
}

/** Reads the project at or above `start`. */
export async function openProject(start = ".") {
  const root = findProjectRoot(start);
  const { text: manifestJson } = await readJson(join(root, MANIFEST_FILE), MANIFEST_FILE);
  const manifest = checkManifest(manifestJson);
  const world = worldOf(manifest);
  const config = existsSync(join(root, CONFIG_FILE))
    ? (await readJson(join(root, CONFIG_FILE), CONFIG_FILE)).value
    : {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new CliError(`${CONFIG_FILE} must be a JSON object`);
  }
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key)) {
      throw new CliError(`${CONFIG_FILE}: unknown key "${key}"`, {
        hint: `known keys: ${[...CONFIG_KEYS].join(", ")}`,
      });
    }
  }
  const lang = config.lang ?? (existsSync(join(root, "Cargo.toml")) ? "rust" : "assemblyscript");
  if (lang !== "rust" && lang !== "assemblyscript") {
    throw new CliError(`${CONFIG_FILE}: "lang" must be "rust" or "assemblyscript", got ${JSON.stringify(lang)}`);
  }
  const entry = lang === "rust" ? "src/lib.rs" : (config.entry ?? "assembly/index.ts");
  const sdkDir = config.sdk ?? "sdk";
  let sdkImport = posix.relative(posix.dirname(entry), sdkDir);
  if (!sdkImport.startsWith(".")) sdkImport = `./${sdkImport}`;
  const name = manifest.id.split(".").pop();
  const outFile = join(root, config.out ?? "build", `${name}-${manifest.version}.wasm`);
  return {
    root,
    lang,
    manifestJson,
    manifest,
    world,
    entry,
    sdkDir,
    sdkImport,
    outFile,
    config,
    manifestFile: MANIFEST_FILE,
  };
}

/** A path for messages: relative to the current folder when that is shorter. */
export function shown(path) {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && rel.length < path.length ? rel : path;
}
