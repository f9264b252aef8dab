/**
 * Panel 4: a row's likes as a pn-counter held on two replicas in this tab, and shared with every other tab.
 *
 * Replica A is "online": after each change it sends its persisted state to the other tabs of this demo
 * (likes-sync.ts), and merges whatever they send. Replica B is "offline" (a second device): it only learns
 * through **Merge A ⇄ B**, which exchanges persisted states both ways through the plugin. Replica ids carry
 * the tab's id, so two tabs never write as the same replica.
 *
 * Both replicas of a row start from the row's likes in the catalogue, applied as one op of a replica named
 * "catalogue" — the same op on every replica and in every tab. A pn-counter keeps each replica's own count and
 * merges by taking each replica's highest, so those likes count once however often states are merged.
 */
import type { LiveCrdt } from "../../../../src/mod.ts";
import { $, type App } from "../app.ts";
import { TabSync } from "../likes-sync.ts";
import { showOutcome, technicalDetails } from "../messages.ts";

type Replica = "a" | "b";
const KIND = "pn-counter";

export function setupLikes(app: App): (row: number) => void {
  let row: number | null = null;
  const result = $("likes-result");
  const sync = new TabSync();
  const replicaId = (replica: Replica) => `tab-${sync.tabId}/${replica}`;
  const creating = new Map<string, Promise<LiveCrdt>>();

  /** The replica's counter for `r`, created on first use with the row's catalogue likes. */
  function counter(replica: Replica, r: number): Promise<LiveCrdt> {
    const name = `likes/${replica}/${r}`;
    const existing = app.host.crdt(name);
    if (existing) return Promise.resolve(existing);
    let pending = creating.get(name);
    if (!pending) {
      pending = (async () => {
        const created = await app.host.createCrdt(name, KIND);
        const seed = app.data.seedLikes[r] as number;
        if (seed) await created.apply(["catalogue", seed]);
        return created;
      })().finally(() => creating.delete(name));
      creating.set(name, pending);
    }
    return pending;
  }

  async function show(): Promise<void> {
    if (row === null) return;
    const r = row;
    const [a, b] = await Promise.all([counter("a", r), counter("b", r)]);
    $("likes-a").textContent = String(await a.value());
    $("likes-b").textContent = String(await b.value());
    const seed = app.data.seedLikes[r] as number;
    $("likes-seed").textContent =
      `Both replicas started at ${seed}: row ${r}'s likes already in the catalogue, applied as one op of replica ` +
      `"catalogue". A pn-counter keeps each replica's own count and merges by taking each replica's highest, so ` +
      `those ${seed} count once, however often the replicas merge.`;
  }

  function told(headline: string, kind = "ok"): void {
    showOutcome(result, { kind, headline });
  }

  async function guarded(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      await show();
    } catch (err) {
      showOutcome(result, {
        kind: "refused",
        headline: `${what} did not work: the CRDT plugin refused it. The counts shown are unchanged.`,
        details: technicalDetails(err),
      });
    }
  }

  /** Sends replica A's state for `r` to the other tabs. */
  async function share(r: number): Promise<void> {
    const a = app.host.crdt(`likes/a/${r}`);
    if (a && sync.available) sync.publish(r, KIND, await a.persist());
  }

  sync.onState = (r, bytes, from) => {
    void guarded("Merging likes from another tab", async () => {
      const a = await counter("a", r);
      try {
        await a.merge(bytes);
      } catch (err) {
        showOutcome(result, {
          kind: "refused",
          headline:
            `Likes from tab ${from} could not be merged: its CRDT plugin stores counters in a format this tab's ` +
            `${a.servedBy.id} ${a.servedBy.version} cannot read. Upgrade this tab's CRDT plugin (panel 1) to sync.`,
          details: technicalDetails(err),
        });
        return;
      }
      if (r === row) told(`Likes from tab ${from} arrived and were merged into replica A.`);
    });
  };
  sync.onWant = (r) => void share(r);
  sync.onPeers = () => {
    const n = sync.peers.size;
    $("likes-tabs").textContent = !sync.available
      ? "This browser has no BroadcastChannel: replicas stay in this tab."
      : n
        ? `${n} other tab${n > 1 ? "s" : ""} of this demo open: replica A shares its state with ${n > 1 ? "theirs" : "its replica A"} after every change.`
        : "No other tab of this demo is open. Open this page in a second tab: replica A there and here share their likes.";
  };
  sync.onPeers();
  $("likes-tab-id").textContent = sync.tabId;

  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-like]")) {
    button.addEventListener("click", () => {
      if (row === null) return;
      const replica = button.dataset.like as Replica;
      const delta = Number(button.dataset.delta);
      const r = row;
      void guarded("The like", async () => {
        await (await counter(replica, r)).apply([replicaId(replica), delta]);
        const sign = delta > 0 ? "+1" : "−1";
        if (replica === "a") {
          await share(r);
          told(`Replica A applied ${sign} and sent its state to the other tabs; replica B has not seen it yet.`);
        } else told(`Replica B applied ${sign} offline: nobody else has seen it until you merge.`);
      });
    });
  }

  $("likes-merge").addEventListener("click", () => {
    if (row === null) return;
    const r = row;
    void guarded("The merge", async () => {
      const [a, b] = await Promise.all([counter("a", r), counter("b", r)]);
      const bytesOfA = await a.persist();
      await a.merge(b);
      await b.merge(bytesOfA);
      await share(r);
      const served = a.servedBy;
      told(
        `Merged A ⇄ B through ${served.id} v${served.version}: both replicas agree, and A sent the result to the other tabs.`,
      );
    });
  });

  return (selected: number) => {
    row = selected;
    $("likes-row").textContent = String(selected);
    result.hidden = true;
    void guarded("Opening the row", async () => {
      await counter("a", selected);
      if (sync.available) sync.want(selected);
    });
  };
}
