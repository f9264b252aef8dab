/**
 * Panel 4: a row's likes as a pn-counter held on two replicas. Each replica is its own live CRDT state;
 * merging moves one state's persisted bytes into the other, through the plugin (both directions).
 */
import type { LiveCrdt } from "../../../../src/mod.ts";
import { $, type App } from "../app.ts";
import { describeError } from "../plugins.ts";

const REPLICAS = { a: "replica-a", b: "replica-b" } as const;
type Replica = keyof typeof REPLICAS;

export function setupLikes(app: App): (row: number) => void {
  let row: number | null = null;
  const info = $("likes-info");

  /** The replica's counter for `row`; created on first use, with the row's starting likes on replica A only. */
  async function counter(replica: Replica, r: number): Promise<LiveCrdt> {
    const name = `likes/${replica}/${r}`;
    const existing = app.host.crdt(name);
    if (existing) return existing;
    const created = await app.host.createCrdt(name, "pn-counter");
    const seed = app.data.seedLikes[r] as number;
    if (replica === "a" && seed) await created.apply([REPLICAS.a, seed]);
    return created;
  }

  async function show(): Promise<void> {
    if (row === null) return;
    const [a, b] = await Promise.all([counter("a", row), counter("b", row)]);
    $("likes-a").textContent = String(await a.value());
    $("likes-b").textContent = String(await b.value());
  }

  async function guarded(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      await show();
    } catch (err) {
      info.textContent = describeError(err);
    }
  }

  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-like]")) {
    button.addEventListener("click", () => {
      if (row === null) return;
      const replica = button.dataset.like as Replica;
      const delta = Number(button.dataset.delta);
      const r = row;
      void guarded(async () => {
        await (await counter(replica, r)).apply([REPLICAS[replica], delta]);
        info.textContent = `${REPLICAS[replica]} applied ${delta > 0 ? "+1" : "−1"} locally; the other replica has not seen it yet.`;
      });
    });
  }

  $("likes-merge").addEventListener("click", () => {
    if (row === null) return;
    const r = row;
    void guarded(async () => {
      const [a, b] = await Promise.all([counter("a", r), counter("b", r)]);
      const bytesOfA = await a.persist();
      await a.merge(b);
      await b.merge(bytesOfA);
      const served = a.servedBy;
      info.textContent = `Merged both ways through ${served.id} v${served.version}: the replicas now agree.`;
    });
  });

  return (selected: number) => {
    row = selected;
    $("likes-row").textContent = String(selected);
    info.textContent = "";
    void guarded(async () => {});
  };
}
