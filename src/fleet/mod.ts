/**
 * The fleet: many processes, each with its own `PluginHost`, kept on one plugin version per id, with replicated
 * CRDT states, failover CDC streams and index replicas, coordinated through one shared `StateStore` (Deno KV in
 * practice: Deno Deploy's, a self-hosted `denokv`, or one local file shared by the processes of a machine). No
 * consensus layer of its own: every decision is a compare-and-set commit on a versionstamp. See
 * `src/fleet/README.md`.
 *
 * - `FleetNode` (node.ts): one process's membership: version convergence and rollouts, anti-entropy, CDC leases.
 * - `FleetControl` (control.ts): set the desired version of a plugin (a rollout), read progress.
 * - `readFleetStatus` (status.ts): everything as JSON, e.g. for `GET /fleet`.
 * - `storeSink`, `storeQueue`: a sink and a source in the store, with the contracts exactly-once needs.
 * - `pollNotifier`, `watchNotifier`: how nodes notice changes; `denoKvChangeFeed` feeds `watchNotifier` from a
 *   Deno KV whose `watch` sees other processes' writes (Deno Deploy, `denokv`).
 *
 * @module
 */
export { FleetNode, type FleetNodeOptions, type NodeStatus } from "./node.ts";
export { FleetControl, type FleetControlOptions, type RolloutRequest, type RolloutStarted } from "./control.ts";
export { readFleetStatus, type FleetStatus, type FleetStatusOptions } from "./status.ts";
export type { FleetEvent } from "./converge.ts";
export type { FleetStreamOptions, StreamStatus } from "./cdc-owner.ts";
export type { ReplicaStatus } from "./replication.ts";
export { type FleetSink, type SinkBatch, type StoreSink, type WriterTag, storeSink } from "./sink.ts";
export { type FleetSource, type SourceBatch, type StoreQueue, storeQueue } from "./source.ts";
export {
  type ChangeFeed,
  type ChangeNotifier,
  type PollOptions,
  type WatchOptions,
  type Waker,
  pollNotifier,
  watchNotifier,
} from "./notify.ts";
export { denoKvChangeFeed, type DenoKvChangeFeed, type DenoKvWatchable } from "../adapters/deno-kv-watch.ts";
export { FleetError } from "./errors.ts";
export { FleetKeys, nodeNamespace } from "./keys.ts";
export type {
  NodeRecord,
  PluginRecord,
  Prepared,
  ReportRecord,
  ReportStage,
  Rollout,
  RolloutPhase,
  ServingRecord,
  VersionRef,
} from "./records.ts";
