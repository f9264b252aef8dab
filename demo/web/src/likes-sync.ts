/**
 * Likes between tabs of this demo (same origin), over a BroadcastChannel. Only CRDT persisted states travel:
 * a tab that changed a row's online replica sends that replica's persisted bytes, and every other tab merges
 * them into its own online replica of the row, through its CRDT plugin. Merging is commutative, associative
 * and idempotent, so the order messages arrive in, and hearing a state twice, do not matter.
 *
 *   {type: "hello", from}            a tab opened (others answer "hello-back", so each knows the other is there)
 *   {type: "state", from, row, kind, bytes}   a replica's persisted state for a row
 *   {type: "want", from, row}        a tab just opened a row: whoever has it answers with "state"
 *   {type: "bye", from}              a tab is closing
 */
export type SyncMessage =
  | { type: "hello" | "hello-back" | "bye"; from: string }
  | { type: "state"; from: string; row: number; kind: string; bytes: Uint8Array }
  | { type: "want"; from: string; row: number };

const CHANNEL = "uni-plugin-runtime-demo/likes";

export class TabSync {
  /** This tab's id: part of its replica ids, so two tabs never write as the same replica. */
  readonly tabId: string = crypto.randomUUID().slice(0, 8);
  /** Other tabs heard from and not gone. */
  readonly peers = new Set<string>();
  onState: (row: number, bytes: Uint8Array, from: string) => void = () => {};
  onWant: (row: number) => void = () => {};
  onPeers: () => void = () => {};
  readonly #channel: BroadcastChannel | null;

  constructor() {
    this.#channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
    if (!this.#channel) return;
    this.#channel.onmessage = (ev: MessageEvent<SyncMessage>) => this.#receive(ev.data);
    this.#post({ type: "hello", from: this.tabId });
    addEventListener("pagehide", () => this.#post({ type: "bye", from: this.tabId }));
  }

  get available(): boolean {
    return this.#channel !== null;
  }

  publish(row: number, kind: string, bytes: Uint8Array): void {
    this.#post({ type: "state", from: this.tabId, row, kind, bytes });
  }

  want(row: number): void {
    this.#post({ type: "want", from: this.tabId, row });
  }

  #post(message: SyncMessage): void {
    this.#channel?.postMessage(message);
  }

  #receive(m: SyncMessage): void {
    if (m.from === this.tabId) return;
    switch (m.type) {
      case "hello":
        this.#post({ type: "hello-back", from: this.tabId });
        this.#seen(m.from);
        break;
      case "hello-back":
        this.#seen(m.from);
        break;
      case "bye":
        this.peers.delete(m.from);
        this.onPeers();
        break;
      case "state":
        this.#seen(m.from);
        this.onState(m.row, m.bytes, m.from);
        break;
      case "want":
        this.#seen(m.from);
        this.onWant(m.row);
        break;
    }
  }

  #seen(tab: string): void {
    if (this.peers.has(tab)) return;
    this.peers.add(tab);
    this.onPeers();
  }
}
