/**
 * The plugin manifest (docs/manifest.md): parsed strictly, so a typo is an
 * error naming the field rather than a silently ignored setting.
 *
 * @module
 */
import semver from "semver";
import { ErrorCode, ManifestError } from "./errors.ts";

/** The host's ABI: the version of the `uni:plugin` WIT package it implements. */
export const HOST_ABI = "1.0.0";
/** ABI majors this host runs. */
export const SUPPORTED_ABI_MAJORS: readonly number[] = [1];

/** What a plugin may ask for. `host-log` is always granted. */
export type Capability = "index" | "cdc" | "crdt" | "logical-type" | "cdc-sink" | "host-log";
export const CAPABILITIES: readonly Capability[] = ["index", "cdc", "crdt", "logical-type", "cdc-sink", "host-log"];

/** The four stateful surfaces, named as their WIT interfaces. */
export type Surface = "index" | "cdc" | "crdt" | "logical-type";
export const SURFACES: readonly Surface[] = ["index", "cdc", "crdt", "logical-type"];

/** The manifest key under `provides` that lists each surface's registry keys. */
export const PROVIDES_KEY = {
  index: "index_kinds",
  cdc: "cdc_outputs",
  crdt: "crdt_kinds",
  "logical-type": "logical_types",
} as const satisfies Record<Surface, string>;

export interface Provides {
  index_kinds: string[];
  cdc_outputs: string[];
  crdt_kinds: string[];
  logical_types: string[];
}

export interface Dependency {
  id: string;
  version_req: string;
  optional: boolean;
}

export interface Manifest {
  id: string;
  version: string;
  abi: string;
  description?: string;
  capabilities: Capability[];
  provides: Provides;
  determinism: "pure" | "session-scoped" | "nondeterministic";
  side_effects: "read-only" | "writes" | "external-io";
  scope: "instance" | "session";
  depends_on: Dependency[];
  limits: { memory_pages?: number };
  hash?: string;
  signature?: string;
}

const ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TOP_KEYS = new Set([
  "id",
  "version",
  "abi",
  "description",
  "capabilities",
  "provides",
  "determinism",
  "side_effects",
  "scope",
  "depends_on",
  "limits",
  "hash",
  "signature",
]);

function fail(field: string, message: string, code: number = ErrorCode.InvalidManifest): never {
  throw new ManifestError(code, `manifest ${field}: ${message}`, field);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) fail(where ? `${where}.${key}` : key, `unknown key (allowed: ${[...allowed].join(", ")})`);
  }
}

function str(obj: Record<string, unknown>, key: string, required: true): string;
function str(obj: Record<string, unknown>, key: string, required: false): string | undefined;
function str(obj: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined) return required ? fail(key, "is required") : undefined;
  if (typeof v !== "string") return fail(key, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(obj: Record<string, unknown>, key: string, values: readonly T[], fallback: T): T {
  const v = obj[key] ?? fallback;
  if (!values.includes(v as T)) fail(key, `must be one of ${values.join(" | ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

function keyList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(field, "must be a list of strings");
  const seen = new Set<string>();
  for (const item of v) {
    if (typeof item !== "string" || !KEY.test(item)) fail(field, `${JSON.stringify(item)} is not a valid key`);
    if (seen.has(item)) fail(field, `${JSON.stringify(item)} is listed twice`);
    seen.add(item);
  }
  return v as string[];
}

/**
 * Parses and validates manifest JSON. Throws {@link ManifestError} whose
 * `field` names the offending key.
 *
 * @example
 * ```ts
 * const m = parseManifest('{"id":"dev.uni.x","version":"1.0.0","abi":"^1.0","provides":{}}');
 * m.provides.index_kinds; // []
 * ```
 */
export function parseManifest(json: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return fail("(json)", `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) return fail("(json)", "must be a JSON object");
  rejectUnknown(raw, TOP_KEYS, "");

  const id = str(raw, "id", true);
  if (!ID.test(id)) fail("id", `${JSON.stringify(id)} is not reverse-DNS (e.g. "dev.example.my-plugin")`);
  const version = str(raw, "version", true);
  if (!/^\d/.test(version) || !semver.valid(version))
    fail("version", `${JSON.stringify(version)} is not semver (e.g. "1.2.0")`);
  const abi = str(raw, "abi", true);
  if (abi.trim() === "" || semver.validRange(abi) === null)
    fail("abi", `${JSON.stringify(abi)} is not a semver range (e.g. "^1.0")`);

  const caps = raw.capabilities ?? [];
  if (!Array.isArray(caps)) fail("capabilities", "must be a list");
  for (const c of caps as unknown[]) {
    if (!CAPABILITIES.includes(c as Capability)) {
      fail("capabilities", `unknown capability ${JSON.stringify(c)} (known: ${CAPABILITIES.join(", ")})`);
    }
  }

  const providesRaw = raw.provides;
  if (!isObject(providesRaw)) return fail("provides", "is required and must be an object");
  rejectUnknown(providesRaw, new Set(Object.values(PROVIDES_KEY)), "provides");
  const provides: Provides = {
    index_kinds: keyList(providesRaw.index_kinds, "provides.index_kinds"),
    cdc_outputs: keyList(providesRaw.cdc_outputs, "provides.cdc_outputs"),
    crdt_kinds: keyList(providesRaw.crdt_kinds, "provides.crdt_kinds"),
    logical_types: keyList(providesRaw.logical_types, "provides.logical_types"),
  };

  const deps = raw.depends_on ?? [];
  if (!Array.isArray(deps)) fail("depends_on", "must be a list");
  const depends_on = (deps as unknown[]).map((d, i): Dependency => {
    const field = `depends_on[${i}]`;
    if (!isObject(d)) return fail(field, "must be an object");
    rejectUnknown(d, new Set(["id", "version_req", "optional"]), field);
    if (typeof d.id !== "string" || !ID.test(d.id)) fail(`${field}.id`, "must be a reverse-DNS id");
    if (typeof d.version_req !== "string" || semver.validRange(d.version_req) === null) {
      fail(`${field}.version_req`, "must be a semver range");
    }
    if (d.optional !== undefined && typeof d.optional !== "boolean") fail(`${field}.optional`, "must be a boolean");
    return { id: d.id as string, version_req: d.version_req as string, optional: d.optional === true };
  });

  const limitsRaw = raw.limits ?? {};
  if (!isObject(limitsRaw)) return fail("limits", "must be an object");
  rejectUnknown(limitsRaw, new Set(["memory_pages"]), "limits");
  const pages = limitsRaw.memory_pages;
  if (pages !== undefined && (!Number.isInteger(pages) || (pages as number) < 1 || (pages as number) > 65536)) {
    fail("limits.memory_pages", "must be an integer from 1 to 65536");
  }

  const description = str(raw, "description", false);
  const hash = str(raw, "hash", false);
  const signature = str(raw, "signature", false);
  return {
    id,
    version,
    abi,
    ...(description === undefined ? {} : { description }),
    capabilities: caps as Capability[],
    provides,
    determinism: oneOf(raw, "determinism", ["pure", "session-scoped", "nondeterministic"] as const, "pure"),
    side_effects: oneOf(raw, "side_effects", ["read-only", "writes", "external-io"] as const, "read-only"),
    scope: oneOf(raw, "scope", ["instance", "session"] as const, "instance"),
    depends_on,
    limits: pages === undefined ? {} : { memory_pages: pages as number },
    ...(hash === undefined ? {} : { hash }),
    ...(signature === undefined ? {} : { signature }),
  };
}

/** Refuses a manifest whose ABI range excludes this host, listing what the host supports. */
export function checkAbi(manifest: Manifest): void {
  if (!semver.satisfies(HOST_ABI, manifest.abi)) {
    throw new ManifestError(
      ErrorCode.AbiUnsupported,
      `plugin ${manifest.id} needs ABI ${manifest.abi}, but this host implements ${HOST_ABI} ` +
        `(supported ABI majors: ${SUPPORTED_ABI_MAJORS.join(", ")})`,
      "abi",
      { pluginId: manifest.id },
    );
  }
}

/** The registry keys a manifest declares for one surface. */
export function declared(manifest: Manifest, surface: Surface): readonly string[] {
  return manifest.provides[PROVIDES_KEY[surface]];
}

/** The capability that registering a surface needs: the surface's own name. */
export function capabilityFor(surface: Surface): Capability {
  return surface;
}
