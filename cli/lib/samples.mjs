// Where `check`, `compat` and `dev` find the project's sample data: uni-plugin.json's "samples" (how to build
// an index, example CRDT ops, literals of a logical type), next to the component or above the current folder.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CliError, messageOf } from "./errors.mjs";
import { CONFIG_FILE } from "./project.mjs";

function findUp(start) {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return join(dir, CONFIG_FILE);
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * The samples for a component file: from `explicit` (a uni-plugin.json or a bare samples JSON), else the
 * uni-plugin.json nearest the component, else the one nearest the current folder, else none.
 * @returns {Promise<{ samples: object, from?: string }>}
 */
export async function findSamples(componentFile, explicit) {
  const file = explicit ?? (componentFile && findUp(dirname(componentFile))) ?? findUp(".");
  if (!file) return { samples: {} };
  let json;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new CliError(`cannot read samples from ${file}: ${messageOf(err)}`);
  }
  return { samples: json.samples ?? (explicit ? json : {}), from: file };
}
