// Opens a built component through the runtime's public `component` API, the way a host would, and compares what
// it declares with what it implements. Shared by `build` (a lying manifest never leaves the build) and `check`.
import { CliError, messageOf } from "./errors.mjs";
import { checkManifest } from "./project.mjs";
import { component, LoadError } from "./runtime.mjs";
import { interfaceName, PROVIDES_KEY } from "./worlds.mjs";

const ALL_GRANTS = new Set(["index", "cdc", "crdt", "logical-type", "cdc-sink", "host-log"]);

/**
 * @typedef {object} Inspected
 * @property {import("../../dist/mod.js").component.ComponentModule} module
 * @property {import("../../dist/mod.js").component.ComponentInstance} instance
 * @property {import("../../dist/mod.js").Manifest} manifest
 * @property {Record<string, string[]>} implemented keys per surface, from the component's own listing exports
 * @property {{ level: string, message: string }[]} logs what the plugin logged so far
 */

/**
 * Compiles and instantiates `bytes` (no registration, no registry) and lists what it implements.
 * @param {Uint8Array} bytes
 * @param {{ cdcSink?: (output: string, start: bigint, end: bigint, payload: Uint8Array) => void }} [options]
 * @returns {Promise<Inspected>}
 * @throws {CliError} when the runtime refuses the component (wrong world, bad manifest, a trap while listing)
 */
export async function inspectComponent(bytes, options = {}) {
  let module;
  try {
    module = await component.ComponentModule.compile(bytes);
  } catch (err) {
    throw new CliError(`the runtime refuses the component: ${messageOf(err)}`, {
      hint:
        err instanceof LoadError ? "the world (imports and exports) must be exactly one in wit/worlds.wit" : undefined,
    });
  }
  const logs = [];
  const instance = await instantiate(module, { logs, cdcSink: options.cdcSink });
  const manifest = checkManifest(instance.manifest(), "the component's manifest");
  instance.pluginId = manifest.id;
  const implemented = { index: [], cdc: [], crdt: [], "logical-type": [] };
  try {
    if (instance.index) implemented.index = instance.index.kinds();
    if (instance.cdc) implemented.cdc = instance.cdc.outputs();
    if (instance.crdt) implemented.crdt = instance.crdt.kinds();
    if (instance.logicalType) implemented["logical-type"] = instance.logicalType.names();
  } catch (err) {
    throw new CliError(`listing what the component implements failed: ${withAbort(messageOf(err), logs)}`);
  }
  return { module, instance, manifest, implemented, logs };
}

/**
 * A fresh instance of a compiled component with every capability granted.
 * @param {{ logs: { level: string, message: string }[], cdcSink?: Function, pluginId?: string }} options
 *   logs: where the plugin's host-log lines go (kept, so a trap can be explained by what it logged)
 */
export async function instantiate(module, { logs, cdcSink, pluginId = "(plugin)" }) {
  return await component.ComponentInstance.instantiate(module, {
    pluginId,
    grants: ALL_GRANTS,
    log: (level, message) => logs.push({ level, message }),
    cdcSink: cdcSink ?? (() => {}),
  });
}

/**
 * Every way the manifest disagrees with the component: declared but not implemented, implemented but not
 * declared, a surface without its capability, a capability for a surface it does not export, cdc-sink use.
 * @param {Inspected} inspected
 * @returns {string[]} one sentence per problem (empty: the manifest tells the truth)
 */
export function manifestProblems({ module, manifest, implemented }) {
  const problems = [];
  for (const [surface, key] of Object.entries(PROVIDES_KEY)) {
    const declared = manifest.provides[key];
    const real = implemented[surface];
    const exported = module.surfaces.has(surface);
    if (declared.length > 0 && !exported) {
      problems.push(`declares provides.${key} [${declared.join(", ")}] but does not export ${interfaceName(surface)}`);
      continue;
    }
    const missing = declared.filter((k) => !real.includes(k));
    if (missing.length > 0) {
      problems.push(
        `declares provides.${key} [${missing.join(", ")}] that it does not implement (it implements [${real.join(", ")}])`,
      );
    }
    const undeclared = real.filter((k) => !declared.includes(k));
    if (undeclared.length > 0) {
      problems.push(
        `implements ${surface} [${undeclared.join(", ")}] that provides.${key} does not declare (a host would never route to ${undeclared.length > 1 ? "them" : "it"})`,
      );
    }
    if (exported && !manifest.capabilities.includes(surface)) {
      problems.push(
        `exports ${interfaceName(surface)} but "capabilities" lacks "${surface}" (a host refuses to register it)`,
      );
    }
    if (!exported && manifest.capabilities.includes(surface)) {
      problems.push(`asks for capability "${surface}" but does not export ${interfaceName(surface)}`);
    }
  }
  const importsSink = module.requiredImports.has("cdc-sink");
  if (importsSink && !manifest.capabilities.includes("cdc-sink")) {
    problems.push(
      `imports ${interfaceName("cdc-sink")} but "capabilities" lacks "cdc-sink" (a host refuses to load it)`,
    );
  }
  if (!importsSink && manifest.capabilities.includes("cdc-sink")) {
    problems.push(`asks for capability "cdc-sink" but never calls ${interfaceName("cdc-sink")}`);
  }
  return problems;
}

/**
 * A trap message with the plugin's last `abort: …` log line: the SDK's abort handler logs the message of an
 * AssemblyScript throw just before it traps, so the author sees why, not just `unreachable`. The host's
 * TrapError already carries it (src/component/guest.ts); this covers a message from anywhere else.
 */
export function withAbort(message, logs) {
  if (message.includes("; the plugin said: ")) return message;
  const abort = [...logs].reverse().find((l) => l.level === "error" && l.message.startsWith("abort: "));
  return abort ? `${message}; the plugin said: ${abort.message.slice("abort: ".length)}` : message;
}
