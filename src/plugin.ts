/**
 * Turning bytes into a vetted, *unregistered* plugin version: compile, link,
 * read and check the manifest, intersect capabilities, and verify that every
 * surface the manifest declares is really implemented. Used by both `load` and
 * `reload`, so a new version is checked exactly as strictly as a first load.
 *
 * @module
 */
import { ComponentInstance } from "./component/instance.ts";
import {
  type CdcClientLike,
  type CrdtClientLike,
  type IndexClientLike,
  inThread,
  type LogicalTypeClientLike,
  type MaybePromise,
  type PluginInstance,
} from "./resources/clients.ts";
import type { WorkerInstance } from "./worker/instance.ts";
import { ComponentModule } from "./component/module.ts";
import type { LogLimits } from "./component/log-limit.ts";
import type { CdcSink, LogLevel } from "./component/types.ts";
import { ErrorCode, LoadError, ManifestError, RegistryError } from "./errors.ts";
import {
  type Capability,
  checkAbi,
  declared,
  type Manifest,
  PROVIDES_KEY,
  parseManifest,
  SURFACES,
  type Surface,
} from "./manifest.ts";

/** A loaded plugin version as users see it: stamped with a generation that never repeats for an id. */
export interface PluginHandle {
  readonly id: string;
  readonly version: string;
  readonly generation: number;
}

/** One instantiated, vetted version of a plugin. */
export interface PluginVersion {
  /** Generation 0 until the version is committed (load or reload), which {@link stamp}s the real one. */
  handle: PluginHandle;
  readonly manifest: Manifest;
  readonly module: ComponentModule;
  /** In the host's thread, or in a worker (`isolation: "worker"`). */
  readonly instance: PluginInstance;
  /** Where the instance runs. */
  readonly isolation: Isolation;
  /** Effective capabilities: declared ∩ granted (host-log always). */
  readonly capabilities: ReadonlySet<Capability>;
  /** Where `cdc-sink.emit` calls of this instance are routed (set by the CDC resource around each stream call). */
  readonly sinkRoute: SinkRoute;
  /** The component's bytes (a durable host stores them, to restore this version after a restart). */
  readonly bytes: Uint8Array;
  /** The grants asked for at load or reload, when narrower than the host's (restored with the version). */
  readonly asked?: readonly Capability[];
}

/** The CDC resource currently calling into the instance, to which `emit`s belong. */
export interface SinkRoute {
  current: CdcSink | null;
}

/** Where a plugin version's instance runs: the host's own thread, or a worker of its own. */
export type Isolation = "thread" | "worker";

/** Starts a worker-hosted instance of `module` (the host supplies it, with its factory and deadlines). */
export type SpawnWorker = (
  module: ComponentModule,
  options: { pluginId: () => string; log: (level: LogLevel, message: string) => void; logLimits?: LogLimits },
) => Promise<WorkerInstance>;

export interface VetOptions {
  /** Default `"thread"`. `"worker"` needs `spawn`. */
  isolation?: Isolation;
  spawn?: SpawnWorker;
  /** Worker isolation: the deadline of the calls vetting makes (manifest, the surfaces' listings), ms. */
  timeoutMs?: number;
  grants: ReadonlySet<Capability>;
  /** The grants the caller asked for, when it narrowed the host's (kept on the version). */
  asked?: readonly Capability[];
  memoryPagesCeiling: number;
  logLimits?: LogLimits;
  log: (pluginId: string, level: LogLevel, message: string) => void;
}

/** Lists the keys an instance implements for a surface, through the surface's own listing export. */
function implemented(
  instance: PluginInstance,
  surface: Surface,
  call?: { timeoutMs: number },
): MaybePromise<readonly string[]> | undefined {
  switch (surface) {
    case "index":
      return (instance.index as IndexClientLike | undefined)?.kinds(call);
    case "cdc":
      return (instance.cdc as CdcClientLike | undefined)?.outputs(call);
    case "crdt":
      return (instance.crdt as CrdtClientLike | undefined)?.kinds(call);
    case "logical-type":
      return (instance.logicalType as LogicalTypeClientLike | undefined)?.names(call);
  }
}

/** Compiles, instantiates and vets `bytes`. Nothing is registered; on failure nothing is left running. */
export async function vetPlugin(bytes: Uint8Array, options: VetOptions): Promise<PluginVersion> {
  let module = await ComponentModule.compile(bytes, { memoryPagesCeiling: options.memoryPagesCeiling });
  const sinkRoute: SinkRoute = { current: null };
  let pluginId = "(unknown plugin)";
  // Link every import the module has, so the manifest can be read and a refusal can name the plugin;
  // the capability check right after the manifest refuses what is not declared ∩ granted, before any
  // call but `manifest` (and a sink call before then finds no stream: refused).
  const grants = new Set<string>([...options.grants, "host-log", "cdc-sink"]);
  const isolation = options.isolation ?? "thread";
  const instantiate = async (m: ComponentModule): Promise<PluginInstance> => {
    if (isolation === "worker") {
      if (!options.spawn) throw new LoadError(ErrorCode.InvalidComponent, "worker isolation needs a worker factory");
      const w = await options.spawn(m, {
        pluginId: () => pluginId,
        log: (level, message) => options.log(pluginId, level, message),
        ...(options.logLimits ? { logLimits: options.logLimits } : {}),
      });
      w.pluginId = pluginId;
      return w;
    }
    return await ComponentInstance.instantiate(m, {
      pluginId,
      grants,
      log: (level, message) => options.log(pluginId, level, message),
      ...(options.logLimits ? { logLimits: options.logLimits } : {}),
      cdcSink: (output, lsnStart, lsnEnd, payload) => {
        if (!sinkRoute.current) {
          throw new RegistryError(ErrorCode.Forbidden, "cdc-sink.emit called outside of a cdc-stream call", {
            pluginId,
          });
        }
        sinkRoute.current(output, lsnStart, lsnEnd, payload);
      },
    });
  };
  let instance = await instantiate(module);
  try {
    const call = options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs };
    const manifest = parseManifest(
      await (inThread(instance) ? instance.manifest() : (instance as WorkerInstance).manifest(call)),
    );
    pluginId = manifest.id;
    instance.pluginId = manifest.id;
    checkAbi(manifest);

    // The manifest's own memory limit applies when it is lower than the host's ceiling: the module is compiled
    // again with that maximum (cached per content and limit), and instantiated afresh before anything else runs.
    const asked = manifest.limits.memory_pages;
    if (asked !== undefined && asked < module.memoryPagesCeiling) {
      await instance.dispose();
      module = await ComponentModule.compile(bytes, { memoryPagesCeiling: asked }).catch((err) => {
        throw new ManifestError(
          ErrorCode.ResourceLimit,
          `plugin ${manifest.id} asks for limits.memory_pages ${asked}, but its module starts with more memory than that: ${(err as Error).message}`,
          "limits.memory_pages",
          { pluginId: manifest.id, cause: err },
        );
      });
      instance = await instantiate(module);
      instance.pluginId = manifest.id;
    }

    const capabilities = new Set<Capability>(["host-log"]);
    for (const c of manifest.capabilities) if (options.grants.has(c)) capabilities.add(c);
    if (module.imports.has("cdc-sink") && !capabilities.has("cdc-sink")) {
      const why = manifest.capabilities.includes("cdc-sink") ? "was not granted" : "is not declared in its manifest";
      throw new RegistryError(
        ErrorCode.CapabilityDenied,
        `plugin ${manifest.id} imports uni:plugin/cdc-sink, but capability "cdc-sink" ${why}`,
        { pluginId: manifest.id },
      );
    }

    for (const surface of SURFACES) {
      const keys = declared(manifest, surface);
      if (keys.length === 0) continue;
      const field = `provides.${PROVIDES_KEY[surface]}`;
      if (!module.surfaces.has(surface)) {
        throw new ManifestError(
          ErrorCode.InvalidManifest,
          `plugin ${manifest.id} declares ${field} [${keys.join(", ")}] but does not export uni:plugin/${surface}`,
          field,
          { pluginId: manifest.id },
        );
      }
      if (!capabilities.has(surface)) {
        const why = manifest.capabilities.includes(surface) ? "was not granted" : "is not declared in its manifest";
        throw new RegistryError(
          ErrorCode.CapabilityDenied,
          `plugin ${manifest.id} provides ${field} [${keys.join(", ")}], but capability "${surface}" ${why}`,
          { pluginId: manifest.id },
        );
      }
      const real = new Set(await implemented(instance, surface, call));
      const missing = keys.filter((k) => !real.has(k));
      if (missing.length) {
        throw new ManifestError(
          ErrorCode.InvalidManifest,
          `plugin ${manifest.id} declares ${field} [${missing.join(", ")}] that it does not implement ` +
            `(it implements [${[...real].join(", ")}])`,
          field,
          { pluginId: manifest.id },
        );
      }
    }

    const handle: PluginHandle = Object.freeze({ id: manifest.id, version: manifest.version, generation: 0 });
    return {
      handle,
      manifest,
      module,
      instance,
      isolation,
      capabilities,
      sinkRoute,
      bytes,
      ...(options.asked ? { asked: [...options.asked] } : {}),
    };
  } catch (err) {
    await Promise.resolve(instance.dispose()).catch(() => {});
    throw err;
  }
}

/**
 * Gives a version its generation as it becomes visible, so a refused load or reload uses none up:
 * generations count the versions that actually served.
 */
export function stamp(version: PluginVersion, generation: number): void {
  version.handle = Object.freeze({ ...version.handle, generation });
}
