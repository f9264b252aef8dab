/**
 * Back-pressure for a CDC stream: the bound on what it retains (unconfirmed batches and unacknowledged emits), and
 * the line of publishes waiting for room, served in publish order.
 *
 * @module
 */
import { ErrorCode, PluginError } from "../errors.ts";

/** How much a stream may retain (unconfirmed batches plus unacknowledged emits) before `publish` holds back. */
export interface CdcRetain {
  /** Bytes of batches and emits kept. Default 64 MiB. */
  maxBytes?: number;
  /** Published batches not yet confirmed. Default 10,000. */
  maxBatches?: number;
  /**
   * What `publish` does when the stream is full: `"wait"` (default) until the sink catches up, in publish order;
   * `"refuse"` with a retryable `ResourceLimit` error. A single batch is always accepted into an empty stream.
   */
  whenFull?: "wait" | "refuse";
}

/** What is retained now. */
export interface Retained {
  bytes: number;
  batches: number;
  emits: number;
}

/** A publish's place in line. */
export interface Turn {
  wake(): void;
  fail(err: unknown): void;
}

export class Room {
  readonly #maxBytes: number;
  readonly #maxBatches: number;
  /** Refuse instead of waiting when full. */
  readonly refuses: boolean;
  readonly #line: Turn[] = [];

  constructor(retain: CdcRetain | undefined) {
    this.#maxBytes = Math.max(0, retain?.maxBytes ?? 64 * 1024 * 1024);
    this.#maxBatches = Math.max(1, retain?.maxBatches ?? 10_000);
    this.refuses = retain?.whenFull === "refuse";
  }

  /** Whether a batch of `bytes` fits; an empty stream takes any one batch. */
  fits(bytes: number, now: Retained): boolean {
    if (now.batches === 0 && now.emits === 0) return true;
    return now.bytes + bytes <= this.#maxBytes && now.batches < this.#maxBatches;
  }

  /** Whether an earlier publish is waiting in line ahead of `turn`. */
  ahead(turn: Turn | null): boolean {
    return this.#line.length > 0 && this.#line[0] !== turn;
  }

  /** Puts a publish in line (or keeps its place); `ready` resolves when it may try again. */
  wait(turn: Turn | null): { turn: Turn; ready: Promise<void> } {
    let next!: Turn;
    const ready = new Promise<void>((wake, fail) => {
      next = { wake: () => wake(), fail };
    });
    const at = turn ? this.#line.indexOf(turn) : -1;
    if (at >= 0) this.#line[at] = next;
    else this.#line.push(next);
    return { turn: next, ready };
  }

  /** The publish at the head of the line got in: the next one may fit too. */
  admitted(turn: Turn | null): void {
    if (!turn) return;
    this.#line.shift();
    queueMicrotask(() => this.#line[0]?.wake());
  }

  /** Room may have appeared (the sink acknowledged, the log was trimmed). */
  freed(): void {
    this.#line[0]?.wake();
  }

  /** Fails every waiting publish (the stream is gone). */
  close(err: unknown): void {
    for (const turn of this.#line.splice(0)) turn.fail(err);
  }

  full(stream: string, now: Retained, acknowledged: bigint, emittedEnd: bigint, pluginId: string): PluginError {
    return new PluginError(
      ErrorCode.ResourceLimit,
      `cdc stream "${stream}" is full: ${now.batches} batch(es) and ${now.bytes} bytes retained ` +
        `(bound: ${this.#maxBatches} batches, ${this.#maxBytes} bytes) until the sink acknowledges up to LSN ` +
        `${emittedEnd} (it has ${acknowledged}); retry once it catches up`,
      { retryable: true, pluginId },
    );
  }
}
