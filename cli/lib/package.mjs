// Facts about the installed uni-plugin-runtime package the CLI belongs to.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

export const packageName = pkg.name;
export const packageVersion = pkg.version;

/** The exact version this package was built and tested with, for a dependency it does not ship (jco, asc…). */
export function testedVersion(name) {
  const v = pkg.devDependencies?.[name] ?? pkg.dependencies?.[name];
  if (!v) throw new Error(`package.json pins no version of ${name}`);
  return v;
}

/** Where templates and the SDKs live inside the package. */
export const templatesDir = new URL("../templates/", import.meta.url);
export const sdkDir = (lang) => new URL(`../../plugins-wasm/sdk/${lang}/`, import.meta.url);
