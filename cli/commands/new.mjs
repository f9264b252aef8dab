// `uni-plugin new <dir> --surface … --lang … --id …`: a standalone plugin project. It carries a copy of the SDK
// and needs only npm (and, for Rust, Debian's rustc-web): never this package's source checkout.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "../lib/errors.mjs";
import { packageName, packageVersion, sdkDir, templatesDir, testedVersion } from "../lib/package.mjs";
import { checkManifest, shown } from "../lib/project.mjs";

/** The SDKs' coverage: surface → language. Add a pair only once its template builds, checks and reloads. */
export const SUPPORTED = {
  rust: ["index", "cdc"],
  assemblyscript: ["crdt", "logical-type"],
};

function supportedList() {
  return Object.entries(SUPPORTED)
    .flatMap(([lang, surfaces]) => surfaces.map((s) => `--surface ${s} --lang ${lang}`))
    .join(", ");
}

export const usage = `uni-plugin new <dir> --surface <surface> --lang <lang> --id <plugin id> [--name <key>]
                     [--runtime <npm spec>] [--skip-install]
  Creates a plugin project in <dir>: manifest.json, a working v1 of the surface with tests, its build config,
  and a copy of the SDK. Then runs npm install there (unless --skip-install).
  Supported: ${supportedList()}.
  --id       reverse-DNS plugin id, e.g. dev.example.my-plugin
  --name     the kind / output / type name it provides (default: the last label of the id)
  --runtime  the uni-plugin-runtime dependency to write (default: ^${packageVersion}; a path or tarball works)`;

export const options = {
  surface: { type: "string" },
  lang: { type: "string" },
  id: { type: "string" },
  name: { type: "string" },
  runtime: { type: "string" },
  "skip-install": { type: "boolean" },
};

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Where each template's logic lives, for the "next" hint. */
const MAIN_SOURCE = {
  "rust-index": "src/lib.rs",
  "rust-cdc": "src/lib.rs",
  "assemblyscript-crdt": "assembly/max-register.ts",
  "assemblyscript-logical-type": "assembly/color.ts",
};

/** Template file name → project file name: `dot-x` → `.x`, a trailing `.tmpl` dropped. */
function targetName(name) {
  return name.replace(/^dot-/, ".").replace(/\.tmpl$/, "");
}

/** Copies a folder, filling `{{FIELD}}`s in text files. */
async function copyTree(from, to, fields) {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, targetName(entry.name));
    if (entry.isDirectory()) {
      await copyTree(src, dst, fields);
    } else if (fields) {
      const text = await readFile(src, "utf8");
      await writeFile(
        dst,
        text.replace(/\{\{([A-Z_]+)\}\}/g, (_whole, key) => {
          if (!(key in fields)) throw new Error(`template ${src} uses {{${key}}}, which has no value`);
          return fields[key];
        }),
      );
    } else {
      await copyFile(src, dst);
    }
  }
}

function packageJson(name, lang, runtimeSpec) {
  const devDependencies = {
    "@bytecodealliance/jco": testedVersion("@bytecodealliance/jco"),
    "apache-arrow": testedVersion("apache-arrow"),
    "fast-check": testedVersion("fast-check"),
    [packageName]: runtimeSpec,
  };
  if (lang === "assemblyscript") devDependencies.assemblyscript = testedVersion("assemblyscript");
  return `${JSON.stringify(
    {
      name,
      version: "1.0.0",
      private: true,
      type: "module",
      scripts: {
        build: "uni-plugin build",
        test: "uni-plugin build --quiet && node --test test/",
        check: "uni-plugin check",
        dev: "uni-plugin dev",
      },
      devDependencies: Object.fromEntries(Object.entries(devDependencies).sort(([a], [b]) => a.localeCompare(b))),
    },
    null,
    2,
  )}\n`;
}

function npmInstall(dir, io) {
  io.out(`running npm install in ${shown(dir)} …`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.platform === "win32" ? "npm.cmd" : "npm", ["install"], { cwd: dir, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolvePromise()
        : reject(
            new CliError(`npm install failed in ${shown(dir)} (exit ${code})`, {
              hint: "run it again there once the cause is fixed",
            }),
          ),
    );
  });
}

export async function run({ positionals, values }, io) {
  const [dir] = positionals;
  const { surface, lang, id } = values;
  if (!dir || !surface || !lang || !id)
    throw new CliError("new needs <dir>, --surface, --lang and --id", { hint: usage });
  if (!SUPPORTED[lang]) throw new CliError(`unknown --lang ${lang}`, { hint: `supported: ${supportedList()}` });
  if (!SUPPORTED[lang].includes(surface)) {
    throw new CliError(`the ${lang} SDK has no ${surface} template`, { hint: `supported: ${supportedList()}` });
  }
  const root = resolve(dir);
  if (existsSync(root) && (await readdir(root)).length > 0) {
    throw new CliError(`${shown(root)} exists and is not empty`, { hint: "pick a new folder" });
  }
  const lastLabel = id.split(".").pop() ?? "";
  const key = values.name ?? lastLabel;
  if (!KEY.test(key))
    throw new CliError(`--name ${JSON.stringify(key)} is not a valid key ([A-Za-z0-9._-], no leading punctuation)`);
  // The id is checked by the manifest parser itself, so `new` accepts exactly what a host accepts.
  try {
    checkManifest(JSON.stringify({ id, version: "1.0.0", abi: "^1.0", provides: {} }), "--id");
  } catch (err) {
    throw new CliError(err.message, {
      hint: "an id is two or more dot-separated labels of a-z, 0-9 and '-', e.g. dev.example.my-plugin",
    });
  }
  const crate = /^[a-z]/.test(id) ? id.replaceAll(".", "-") : `plugin-${id.replaceAll(".", "-")}`;
  const fields = {
    ID: id,
    KIND: key,
    NAME: lastLabel,
    CRATE: crate,
    RUNTIME: packageName,
  };
  await copyTree(fileURLToPath(new URL(`${lang}-${surface}/`, templatesDir)), root, fields);
  await copyTree(fileURLToPath(sdkDir(lang)), join(root, "sdk"), null);
  const npmName = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-");
  await writeFile(join(root, "package.json"), packageJson(npmName, lang, values.runtime ?? `^${packageVersion}`));
  io.out(`created ${shown(root)}: ${surface} plugin ${id} in ${lang}, providing "${key}" (SDK copied into sdk/)`);
  if (!values["skip-install"]) await npmInstall(root, io);
  const cd = shown(root);
  io.out(`next: cd ${cd} && npm run dev     (then edit ${MAIN_SOURCE[`${lang}-${surface}`]} and save)`);
  io.out(`      npm test · npm run check · npx uni-plugin compat <old.wasm> <new.wasm>`);
  return 0;
}
