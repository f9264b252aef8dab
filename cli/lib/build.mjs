// The build pipeline every project goes through: compile (cargo or asc) → preflight against the world →
// jco componentize → open it with the runtime and compare manifest and implementation. Each stage's failure is
// a CliError that names the problem and its fix.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, posix } from "node:path";
import { compileAssemblyScript } from "./as-build.mjs";
import { componentize } from "./componentize.mjs";
import { CliError, messageOf } from "./errors.mjs";
import { inspectComponent, manifestProblems } from "./inspect.mjs";
import { preflight } from "./preflight.mjs";
import { buildRustCore } from "./rust-build.mjs";

/**
 * Compiles the project's sources to a core module with canonical export names.
 * @param {import("./project.mjs").Project} project
 * @param {{ targetDir?: string, quiet?: boolean }} [options]
 */
export async function compileCore(project, options = {}) {
  if (project.lang === "rust") return await buildRustCore({ root: project.root, ...options });
  return await compileAssemblyScript({
    baseDir: project.root,
    entry: project.entry,
    sdkDir: posix.normalize(project.sdkDir),
    manifestJson: project.manifestJson,
  });
}

/**
 * Wraps a core module into a component of the project's world, after checking it can be one.
 * @param {Uint8Array} core
 * @param {import("./project.mjs").Project} project
 */
export async function toComponent(core, project) {
  preflight(core, project);
  try {
    return await componentize(core, project.world);
  } catch (err) {
    if (err instanceof CliError) throw err;
    // Preflight caught what we know; anything left is jco's, shortened to its first lines.
    const text = messageOf(err).split("\n").slice(0, 6).join("\n");
    throw new CliError(`jco could not wrap the core module into a ${project.world} component:\n${text}`, {
      hint: "compare the core module's exports with docs/abi.md (wasm-tools print, or `npx jco wit` on a component)",
    });
  }
}

/** Refuses a component whose manifest disagrees with what it implements. */
export async function verifyComponent(bytes, project) {
  const inspected = await inspectComponent(bytes);
  try {
    const problems = manifestProblems(inspected);
    if (problems.length > 0) {
      throw new CliError(`${project.manifestFile} does not match the code: it ${problems.join("; it ")}`, {
        hint: `make ${project.manifestFile} "provides" list exactly what the code registers`,
      });
    }
    return inspected;
  } finally {
    inspected.instance.dispose();
  }
}

/**
 * Builds the project into `project.outFile` (or `out`).
 * @returns {Promise<{ bytes: Uint8Array, file: string, ms: number }>}
 */
export async function buildProject(project, options = {}) {
  const t0 = performance.now();
  const core = await compileCore(project, options);
  const bytes = await toComponent(core, project);
  await verifyComponent(bytes, project);
  const file = options.out ?? project.outFile;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return { bytes, file, ms: performance.now() - t0 };
}
