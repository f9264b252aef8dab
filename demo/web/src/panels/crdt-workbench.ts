/**
 * Panel 7: use any CRDT kind a loaded plugin provides — the samples' and any dropped in through panel 6 (for
 * example `max-register` from plugins-wasm/dist/max-register-v1.wasm). Two replicas of one state per kind;
 * ops are typed as JSON and go to the plugin as MessagePack; Merge exchanges persisted states both ways.
 */
import type { LiveCrdt } from "../../../../src/mod.ts";
import { $, type App } from "../app.ts";
import { showOutcome, technicalDetails } from "../messages.ts";

/** A first op to try, per sample kind (a kind nobody knows starts from `42`). */
const EXAMPLE_OPS: Record<string, string> = {
  "max-register": "42",
  "pn-counter": '["me", 1]',
  "g-counter": '["me", 1]',
  "lww-register": '[1, "me", "hello"]',
  "or-set": '["add", "apple", "t1"]',
};

type Side = "a" | "b";

export function setupCrdtWorkbench(app: App): () => void {
  const select = $("crdt-kind") as HTMLSelectElement;
  const opInput = $("crdt-op") as HTMLInputElement;
  const result = $("crdt-result");
  let shownKinds = "";

  function kinds(): { kind: string; plugin: string }[] {
    return app.host
      .plugins()
      .flatMap((p) => p.registered.crdt.map((kind) => ({ kind, plugin: `${p.id} ${p.version}` })))
      .sort((x, y) => x.kind.localeCompare(y.kind));
  }

  async function state(kind: string, side: Side): Promise<LiveCrdt> {
    const name = `workbench/${kind}/${side}`;
    return app.host.crdt(name) ?? (await app.host.createCrdt(name, kind));
  }

  function show(value: unknown): string {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "—";
  }

  async function refresh(): Promise<void> {
    const kind = select.value;
    if (!kind) return;
    const [a, b] = [app.host.crdt(`workbench/${kind}/a`), app.host.crdt(`workbench/${kind}/b`)];
    $("crdt-a").textContent = a ? show(await a.value()) : "(no state yet)";
    $("crdt-b").textContent = b ? show(await b.value()) : "(no state yet)";
  }

  async function guarded(what: string, fn: () => Promise<string>): Promise<void> {
    try {
      const line = await fn();
      showOutcome(result, { kind: "ok", headline: line });
    } catch (err) {
      const message = err instanceof SyntaxError ? "the op is not valid JSON" : "the plugin refused it";
      showOutcome(result, {
        kind: "refused",
        headline: `${what}: ${message}. The replica is unchanged.`,
        details: technicalDetails(err),
      });
    }
    await refresh();
  }

  for (const side of ["a", "b"] as const) {
    $(`crdt-apply-${side}`).addEventListener("click", () => {
      const kind = select.value;
      void guarded(`Apply to replica ${side.toUpperCase()}`, async () => {
        const op = JSON.parse(opInput.value) as unknown;
        const live = await state(kind, side);
        await live.apply(op);
        return `Replica ${side.toUpperCase()} applied ${opInput.value} through ${live.servedBy.id} ${live.servedBy.version}; the other replica has not seen it yet.`;
      });
    });
  }
  $("crdt-merge").addEventListener("click", () => {
    const kind = select.value;
    void guarded("Merge", async () => {
      const [a, b] = [await state(kind, "a"), await state(kind, "b")];
      const bytesOfA = await a.persist();
      await a.merge(b);
      await b.merge(bytesOfA);
      return `Merged both ways through ${a.servedBy.id} ${a.servedBy.version}: the replicas now agree.`;
    });
  });
  select.addEventListener("change", () => {
    opInput.value = EXAMPLE_OPS[select.value] ?? "42";
    result.hidden = true;
    void refresh();
  });

  return () => {
    const list = kinds();
    const key = list.map((k) => `${k.kind}@${k.plugin}`).join("|");
    const wanted = app.pickCrdtKind;
    if (key !== shownKinds) {
      shownKinds = key;
      const keep = select.value;
      select.replaceChildren(...list.map((k) => new Option(`${k.kind} — ${k.plugin}`, k.kind)));
      select.value = list.some((k) => k.kind === keep) ? keep : (list[0]?.kind ?? "");
    }
    if (wanted && list.some((k) => k.kind === wanted)) {
      app.pickCrdtKind = null;
      select.value = wanted;
      opInput.value = EXAMPLE_OPS[wanted] ?? "42";
      result.hidden = true;
    }
    if (!opInput.value) opInput.value = EXAMPLE_OPS[select.value] ?? "42";
    void refresh();
  };
}
