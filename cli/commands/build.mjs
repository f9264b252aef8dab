// `uni-plugin build [dir] [--out file] [--target-dir dir] [--quiet]`: the project's component, checked against
// its world and its manifest.
import { buildProject } from "../lib/build.mjs";
import { openProject, shown } from "../lib/project.mjs";

export const usage = `uni-plugin build [dir] [--out <file.wasm>] [--target-dir <dir>] [--quiet]
  Builds the plugin project at dir (default: the current folder) into build/<name>-<version>.wasm.
  Rust builds share one cargo target folder (std is rebuilt from source once): --target-dir or
  $CARGO_TARGET_DIR overrides it; the default is $XDG_CACHE_HOME/uni-plugin/cargo-target.`;

export const options = {
  out: { type: "string" },
  "target-dir": { type: "string" },
  quiet: { type: "boolean" },
};

export async function run({ positionals, values }, io) {
  const project = await openProject(positionals[0] ?? ".");
  const { bytes, file, ms } = await buildProject(project, {
    out: values.out,
    targetDir: values["target-dir"],
    quiet: values.quiet,
  });
  io.out(
    `built ${shown(file)}: ${project.manifest.id}@${project.manifest.version}, world ${project.world}, ` +
      `${(bytes.length / 1024).toFixed(1)} KiB in ${(ms / 1000).toFixed(1)} s`,
  );
  return 0;
}
