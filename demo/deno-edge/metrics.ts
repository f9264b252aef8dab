/** Prometheus text exposition of what the edge server did: requests, reloads, plugins, CDC positions. */
import type { PluginInfo } from "../../src/mod.ts";

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #latencyMs = new Map<string, number>();
  readonly #reloads = new Map<string, number>();

  request(route: string, status: number, ms: number): void {
    const key = `route="${label(route)}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    this.#latencyMs.set(route, (this.#latencyMs.get(route) ?? 0) + ms);
  }

  reload(pluginId: string, outcome: "ok" | "refused" | "dry-run"): void {
    const key = `plugin="${label(pluginId)}",outcome="${outcome}"`;
    this.#reloads.set(key, (this.#reloads.get(key) ?? 0) + 1);
  }

  render(plugins: PluginInfo[], streams: { name: string; next: bigint; acknowledged: bigint }[]): string {
    const out: string[] = [];
    out.push(
      "# HELP edge_http_requests_total HTTP requests by route and status.",
      "# TYPE edge_http_requests_total counter",
    );
    for (const [k, v] of this.#requests) out.push(`edge_http_requests_total{${k}} ${v}`);
    out.push(
      "# HELP edge_http_request_ms_sum Total time spent per route (ms).",
      "# TYPE edge_http_request_ms_sum counter",
    );
    for (const [k, v] of this.#latencyMs) out.push(`edge_http_request_ms_sum{route="${label(k)}"} ${v.toFixed(3)}`);
    out.push("# HELP edge_reloads_total Plugin reloads by outcome.", "# TYPE edge_reloads_total counter");
    for (const [k, v] of this.#reloads) out.push(`edge_reloads_total{${k}} ${v}`);
    out.push("# HELP edge_plugin_info The version serving per plugin id.", "# TYPE edge_plugin_info gauge");
    for (const p of plugins) {
      out.push(`edge_plugin_info{id="${label(p.id)}",version="${label(p.version)}",generation="${p.generation}"} 1`);
    }
    out.push("# HELP edge_cdc_next_lsn The LSN the next ingested batch gets.", "# TYPE edge_cdc_next_lsn gauge");
    for (const s of streams) out.push(`edge_cdc_next_lsn{stream="${label(s.name)}"} ${s.next}`);
    out.push(
      "# HELP edge_cdc_acknowledged_lsn Exclusive end of what the sink log has stored and acknowledged.",
      "# TYPE edge_cdc_acknowledged_lsn gauge",
    );
    for (const s of streams) out.push(`edge_cdc_acknowledged_lsn{stream="${label(s.name)}"} ${s.acknowledged}`);
    return `${out.join("\n")}\n`;
  }
}
