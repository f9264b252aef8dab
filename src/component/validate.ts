/**
 * Checks that a component is a `uni:plugin@1.0.0` world, at both levels:
 * the component's import/export names, and the main core module's imports
 * and exports (names and signatures) against docs/abi.md.
 *
 * Decision: uni:plugin components must be pure. Any import besides
 * `host-log`, `cdc-sink` (and `types`, which comes with them) is refused —
 * WASI included — so a plugin cannot reach the file system, clock or network
 * behind the host's back, and loads identically in browsers, Deno and Node.
 *
 * What must match the world exactly is what the component imports and exports.
 * Its core module may export more than the component lifts (componentize-js
 * leaves `wasi:cli/run@0.2.10#run` there): nothing outside the component can
 * reach those, so they are ignored.
 *
 * @module
 */
import { ErrorCode, LoadError } from "../errors.ts";
import {
  ALLOWED_COMPONENT_IMPORTS,
  BASE_EXPORTS,
  CDC_SINK,
  DIRECT_RESULT,
  HOST_IMPORTS,
  HOST_LOG,
  interfaceName,
  resourceIntrinsics,
  SURFACE_FUNCTIONS,
  SURFACE_RESOURCE,
  SURFACES,
} from "./abi.ts";
import type { ComponentSummary, CoreModuleSummary } from "./binary.ts";
import type { HostImportName, SurfaceName } from "./types.ts";

function wrongWorld(message: string): never {
  throw new LoadError(ErrorCode.WrongWorld, `wrong world: ${message}`);
}

const SURFACE_BY_INTERFACE = new Map(SURFACES.map((s) => [interfaceName(s), s] as const));

/** Component-level names → the exported surfaces. */
export function validateComponentNames(component: ComponentSummary): Set<SurfaceName> {
  for (const name of component.imports) {
    if (!ALLOWED_COMPONENT_IMPORTS.has(name)) {
      wrongWorld(
        `the component imports "${name}"; uni:plugin components must be pure: only ${HOST_LOG} and ${CDC_SINK} are linked (no WASI, no other interfaces)`,
      );
    }
  }
  const surfaces = new Set<SurfaceName>();
  let hasManifest = false;
  const unexpected: string[] = [];
  for (const name of component.exports) {
    if (name === "manifest") hasManifest = true;
    else {
      const surface = SURFACE_BY_INTERFACE.get(name);
      if (surface) surfaces.add(surface);
      else unexpected.push(name);
    }
  }
  const expected = `a uni:plugin@1.0.0 world exports "manifest" and one or more of ${SURFACES.map(interfaceName).join(", ")}`;
  const problems: string[] = [];
  if (unexpected.length > 0) problems.push(`exports unexpected ${unexpected.map((n) => `"${n}"`).join(", ")}`);
  if (!hasManifest) problems.push(`does not export "manifest"`);
  if (surfaces.size === 0) problems.push("exports no uni:plugin surface");
  if (problems.length > 0) wrongWorld(`the component ${problems.join(", ")}; ${expected}`);
  return surfaces;
}

/** Core-level check. Returns the host imports the module needs. */
export function validateCoreModule(core: CoreModuleSummary, surfaces: ReadonlySet<SurfaceName>): Set<HostImportName> {
  const linkable = new Map<string, Record<string, string>>(Object.entries(HOST_IMPORTS));
  for (const surface of surfaces) {
    const resource = SURFACE_RESOURCE[surface];
    if (resource) linkable.set(`[export]${interfaceName(surface)}`, resourceIntrinsics(resource));
  }
  const required = new Set<HostImportName>();
  for (const imp of core.imports) {
    const expected = linkable.get(imp.module)?.[imp.name];
    if (expected === undefined || imp.kind !== "func") {
      wrongWorld(
        `the core module imports "${imp.module}" "${imp.name}" (${imp.kind}); the host links only what docs/abi.md lists for the exported surfaces, and uni:plugin components must be pure`,
      );
    }
    if (imp.signature !== expected) {
      wrongWorld(
        `core import "${imp.module}" "${imp.name}" has signature ${imp.signature}, docs/abi.md says ${expected}`,
      );
    }
    if (imp.module === HOST_LOG) required.add("host-log");
    if (imp.module === CDC_SINK) required.add("cdc-sink");
  }

  const exports = new Map(core.exports.map((e) => [e.name, e]));
  for (const [name, sig] of Object.entries(BASE_EXPORTS)) {
    const exp = exports.get(name);
    if (!exp) wrongWorld(`the core module does not export "${name}"`);
    if (sig === "memory" ? exp.kind !== "memory" : exp.signature !== sig) {
      wrongWorld(`core export "${name}" is ${exp.signature ?? exp.kind}, docs/abi.md says ${sig}`);
    }
  }
  const posts = new Set<string>(["cabi_post_manifest"]);
  for (const surface of surfaces) {
    const prefix = `${interfaceName(surface)}#`;
    for (const [fn, sig] of Object.entries(SURFACE_FUNCTIONS[surface])) {
      const name = prefix + fn;
      const exp = exports.get(name);
      if (!exp) wrongWorld(`the component exports ${interfaceName(surface)} but its core module lacks "${name}"`);
      if (exp.signature !== sig) {
        wrongWorld(`core export "${name}" has signature ${exp.signature ?? exp.kind}, docs/abi.md says ${sig}`);
      }
      if (sig.endsWith(">i") && !DIRECT_RESULT.has(fn)) posts.add(`cabi_post_${name}`);
    }
  }
  // Core exports the component does not lift (componentize-js's `wasi:cli/run@0.2.10#run`, another surface's
  // functions, toolchain globals) are unreachable from outside the component: the host never calls them, so they
  // are ignored. Only the post-returns of the world's own functions are checked, since the host calls those.
  for (const exp of core.exports) {
    if (posts.has(exp.name) && exp.signature !== "i>") {
      wrongWorld(`core export "${exp.name}" has signature ${exp.signature}, expected i>`);
    }
  }
  const init = exports.get("_initialize");
  if (init && init.signature !== ">")
    wrongWorld(`core export "_initialize" has signature ${init.signature}, expected >`);
  return required;
}
