/**
 * `FleetControl`: the operator's side, usable from any process that reaches the store (a deploy script, a CI job,
 * an admin endpoint). It sets the desired version of a plugin id — the first version of an id is installed
 * directly, every later one is rolled out (rollout.ts) — and reads progress.
 *
 * @example
 * ```ts
 * const fleet = new FleetControl(store);
 * const { rollout } = await fleet.rollout(await Deno.readFile("crdt-v2.wasm"));
 * const outcome = await fleet.wait("dev.uni.crdt", rollout!); // phase "done", or "reverted" with a reason
 * ```
 *
 * @module
 */
import { ErrorCode } from "../errors.ts";
import { PluginHost } from "../host.ts";
import type { Entry, StateStore } from "../store/types.ts";
import { casUpdate } from "./cas.ts";
import { FleetError } from "./errors.ts";
import { FleetKeys } from "./keys.ts";
import { delay } from "./notify.ts";
import {
  type NodeRecord,
  type PluginRecord,
  pluginBlobs,
  type ReportRecord,
  type Rollout,
  readNode,
  readPlugin,
  readReport,
  type VersionRef,
  writePlugin,
} from "./records.ts";
import * as rollout from "./rollout.ts";
import { type FleetStatus, readFleetStatus } from "./status.ts";

export interface FleetControlOptions {
  /** Default `"default"`. */
  namespace?: string;
  /** Nodes whose last heartbeat is older than this are not made members of a rollout. Default 5000 ms. */
  nodeTtlMs?: number;
}

export interface RolloutRequest {
  /** The node that goes first. Default: the first member by id. */
  canary?: string;
}

/** What `rollout` did. */
export interface RolloutStarted {
  pluginId: string;
  version: string;
  /** The rollout's id; absent when the version was installed directly or already serves. */
  rollout?: string;
  /** The id was new to the fleet: this version is its stable version now, no rollout needed. */
  installed?: boolean;
  /** This version is already the stable one: nothing to do. */
  unchanged?: boolean;
}

export class FleetControl {
  readonly #store: StateStore;
  readonly #keys: FleetKeys;
  readonly #options: FleetControlOptions;

  constructor(store: StateStore, options: FleetControlOptions = {}) {
    this.#store = store;
    this.#keys = new FleetKeys(options.namespace ?? "default");
    this.#options = options;
  }

  /**
   * Makes `component` the desired version of its plugin id. The bytes are vetted first (a throwaway host loads
   * them: a component that does not load is never desired), stored as a blob, then the plugin record is updated.
   *
   * # Errors
   * The load's errors for bad bytes (`LoadError`, `ManifestError`…); `Forbidden` (retryable) while a rollout of
   * the id is still active; `TypeCoercion` when no node up serves the stable version, or the canary is not one of them.
   */
  async rollout(component: Uint8Array, request: RolloutRequest = {}): Promise<RolloutStarted> {
    const vetting = new PluginHost({ onLog: () => {} });
    let id: string;
    let version: string;
    let hash: string;
    try {
      const handle = await vetting.load(component);
      const info = vetting.plugins()[0];
      if (!info) throw new FleetError(ErrorCode.NotFound, "the component loaded but is not listed");
      ({ id, version } = handle);
      hash = info.hash;
    } finally {
      vetting.dispose();
    }
    const blob = await this.#store.putBlob(component);
    const ref: VersionRef = { version, hash, blob: blob.id, size: blob.size, readsFrom: [] };
    const up = await this.#nodesUp();
    const rolloutId = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    let outcome: RolloutStarted = { pluginId: id, version };
    const key = this.#keys.plugin(id);
    await casUpdate(this.#store, key, (entry: Entry | null) => {
      let next: PluginRecord | null;
      if (!entry) {
        next = { id, stable: ref, desired: ref };
        outcome = { pluginId: id, version, installed: true };
      } else {
        const cur = readPlugin(key, entry.value);
        if (cur.stable.hash === hash && !rollout.isActive(cur.rollout)) {
          outcome = { pluginId: id, version, unchanged: true };
          return null;
        }
        // Members: the nodes up that serve the stable version (a node that does not — still joining, or
        // diverged — could not prepare it; it converges once the rollout has ended).
        const members = up.filter((n) => n.plugins[id]?.hash === cur.stable.hash).map((n) => n.id);
        next = rollout.start(cur, ref, {
          id: rolloutId,
          members,
          canary: request.canary ?? (members[0] as string),
          now: Date.now(),
        });
        outcome = { pluginId: id, version, rollout: rolloutId };
      }
      const catalog = { type: "set" as const, key: this.#keys.catalog(), value: new TextEncoder().encode(id) };
      return { value: writePlugin(next), blobs: pluginBlobs(next), ...(entry ? {} : { also: [catalog] }) };
    });
    return outcome;
  }

  /** The plugin record of `id` (stable, desired, last rollout), if the fleet has it. */
  async plugin(id: string): Promise<PluginRecord | undefined> {
    const key = this.#keys.plugin(id);
    const e = await this.#store.get(key);
    return e ? readPlugin(key, e.value) : undefined;
  }

  /** Every node's report for rollout `rolloutId` of `pluginId` (`"converge"`: reloads outside rollouts). */
  async reports(pluginId: string, rolloutId: string): Promise<ReportRecord[]> {
    const out: ReportRecord[] = [];
    for await (const e of this.#store.list({ prefix: this.#keys.reports(pluginId, rolloutId) })) {
      out.push(readReport(e.key, e.value));
    }
    return out;
  }

  /**
   * Waits until rollout `rolloutId` of `pluginId` is done or reverted, and resolves it.
   *
   * # Errors
   * `Timeout` (retryable) after `timeoutMs` (default 60 s); `NotFound` when another rollout replaced it.
   */
  async wait(
    pluginId: string,
    rolloutId: string,
    options: { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<Rollout> {
    const deadline = performance.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const r = (await this.plugin(pluginId))?.rollout;
      if (!r || r.id !== rolloutId) {
        throw new FleetError(
          ErrorCode.NotFound,
          `rollout ${rolloutId} of ${pluginId} is not the plugin's last rollout`,
        );
      }
      if (r.phase === "done" || r.phase === "reverted") return r;
      if (performance.now() > deadline) {
        throw new FleetError(ErrorCode.Timeout, `rollout ${rolloutId} of ${pluginId} is still ${r.phase}`, {
          retryable: true,
        });
      }
      await delay(options.pollMs ?? 50);
    }
  }

  /** The whole fleet's status (status.ts). */
  status(): Promise<FleetStatus> {
    return readFleetStatus(this.#store, {
      namespace: this.#keys.namespace,
      ...(this.#options.nodeTtlMs === undefined ? {} : { nodeTtlMs: this.#options.nodeTtlMs }),
    });
  }

  /** Nodes whose record says up and whose last heartbeat is recent, by wall clock (the operator has no other). */
  async #nodesUp(): Promise<NodeRecord[]> {
    const ttl = this.#options.nodeTtlMs ?? 5000;
    const now = Date.now();
    const up: NodeRecord[] = [];
    for await (const e of this.#store.list({ prefix: this.#keys.nodes() })) {
      try {
        const n = readNode(e.key, e.value);
        if (n.state === "up" && now - n.at < ttl) up.push(n);
      } catch {
        // A damaged node record names no member; the node rewrites it on its next heartbeat.
      }
    }
    return up.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
