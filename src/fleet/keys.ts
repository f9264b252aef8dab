/**
 * Where the fleet keeps its records in the shared `StateStore`, all under `["fleet", namespace, …]`:
 *
 *     node    <nodeId>                       a node's heartbeat: what it serves (versions, generations), what it owns
 *     catalog                                rewritten when a plugin id joins (what watch-mode nodes watch for new ids)
 *     plugin  <pluginId>                     the stable and desired version of a plugin id, and its last rollout
 *     report  <pluginId> <rolloutId> <node>  one node's ReloadReport for one rollout ("converge" outside rollouts)
 *     replica <crdtName> <nodeId>            one node's persisted CRDT state (anti-entropy)
 *     index   <indexName>                    an index's snapshot, which joining nodes open
 *     lease   <streamName>                   who delivers a CDC stream (owner, fencing token)
 *     stream  <streamName>                   the stream's state record, published by its owner before each delivery
 *
 * Each node's own `PluginHost` keeps its durable state apart, under `["uni", "fleet-node-<id>", …]`
 * (`nodeNamespace`).
 *
 * @module
 */
import type { Key } from "../store/types.ts";

/** The host namespace a node's own `PluginHost` uses in the shared store. */
export function nodeNamespace(nodeId: string): string {
  return `fleet-node-${nodeId}`;
}

export class FleetKeys {
  constructor(readonly namespace: string) {}
  get root(): Key {
    return ["fleet", this.namespace];
  }
  nodes(): Key {
    return ["fleet", this.namespace, "node"];
  }
  node(id: string): Key {
    return ["fleet", this.namespace, "node", id];
  }
  /** Rewritten whenever a plugin id joins the fleet (watch mode: nodes learn of new ids through it). */
  catalog(): Key {
    return ["fleet", this.namespace, "catalog"];
  }
  plugins(): Key {
    return ["fleet", this.namespace, "plugin"];
  }
  plugin(id: string): Key {
    return ["fleet", this.namespace, "plugin", id];
  }
  reports(pluginId: string, rolloutId: string): Key {
    return ["fleet", this.namespace, "report", pluginId, rolloutId];
  }
  report(pluginId: string, rolloutId: string, nodeId: string): Key {
    return ["fleet", this.namespace, "report", pluginId, rolloutId, nodeId];
  }
  /** Every replica record of every state. */
  allReplicas(): Key {
    return ["fleet", this.namespace, "replica"];
  }
  replicas(name: string): Key {
    return ["fleet", this.namespace, "replica", name];
  }
  replica(name: string, nodeId: string): Key {
    return ["fleet", this.namespace, "replica", name, nodeId];
  }
  indexes(): Key {
    return ["fleet", this.namespace, "index"];
  }
  index(name: string): Key {
    return ["fleet", this.namespace, "index", name];
  }
  leases(): Key {
    return ["fleet", this.namespace, "lease"];
  }
  lease(stream: string): Key {
    return ["fleet", this.namespace, "lease", stream];
  }
  streams(): Key {
    return ["fleet", this.namespace, "stream"];
  }
  stream(name: string): Key {
    return ["fleet", this.namespace, "stream", name];
  }
}
