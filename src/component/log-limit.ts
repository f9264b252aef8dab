/**
 * Caps on what a guest may push through `host-log`: a size cap per message
 * and a rate cap (messages and bytes per second, token buckets). What goes
 * over is dropped — cheaply, before any decoding — and counted, so a plugin
 * that logs in a loop cannot block the host's event loop.
 *
 * @module
 */

/** Limits for one instance's `host-log` import. */
export interface LogLimits {
  /** Longest message kept, in UTF-8 bytes; longer ones are truncated to this. Default 16 KiB. */
  maxMessageBytes?: number;
  /** Messages per second, sustained (the burst is one second's worth). Default 1000. */
  messagesPerSecond?: number;
  /** Message bytes per second, sustained (the burst is one second's worth). Default 1 MiB. */
  bytesPerSecond?: number;
}

/** What an instance's `host-log` import has passed on and held back. */
export interface LogStats {
  /** Messages handed to the log sink (truncated ones included). */
  delivered: number;
  /** Messages dropped by the rate cap. */
  dropped: number;
  /** Bytes of the dropped messages. */
  droppedBytes: number;
  /** Messages cut to `maxMessageBytes` before delivery. */
  truncated: number;
}

export const DEFAULT_LOG_LIMITS: Readonly<Required<LogLimits>> = {
  maxMessageBytes: 16 * 1024,
  messagesPerSecond: 1000,
  bytesPerSecond: 1024 * 1024,
};

function positive(value: number | undefined, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : fallback;
}

export class LogLimiter {
  readonly stats: LogStats = { delivered: 0, dropped: 0, droppedBytes: 0, truncated: 0 };
  readonly maxMessageBytes: number;
  private readonly messageRate: number;
  private readonly byteRate: number;
  private messageTokens: number;
  private byteTokens: number;
  private last: number;
  private readonly now: () => number;

  /** `now` is a millisecond clock (tests pass their own). */
  constructor(limits: LogLimits = {}, now: () => number = () => performance.now()) {
    this.now = now;
    this.maxMessageBytes = Math.floor(positive(limits.maxMessageBytes, DEFAULT_LOG_LIMITS.maxMessageBytes));
    this.messageRate = positive(limits.messagesPerSecond, DEFAULT_LOG_LIMITS.messagesPerSecond);
    this.byteRate = positive(limits.bytesPerSecond, DEFAULT_LOG_LIMITS.bytesPerSecond);
    this.messageTokens = this.messageRate;
    this.byteTokens = this.byteRate;
    this.last = this.now();
  }

  /**
   * How many of a `len`-byte message's bytes may go to the sink now (the
   * size cap applies first), or -1 when the rate cap drops it (counted).
   */
  admit(len: number): number {
    const t = this.now();
    const elapsed = (t - this.last) / 1000;
    this.last = t;
    if (elapsed > 0) {
      this.messageTokens = Math.min(this.messageRate, this.messageTokens + elapsed * this.messageRate);
      this.byteTokens = Math.min(this.byteRate, this.byteTokens + elapsed * this.byteRate);
    }
    const kept = Math.min(len, this.maxMessageBytes);
    if (this.messageTokens < 1 || this.byteTokens < kept) {
      this.stats.dropped++;
      this.stats.droppedBytes += len;
      return -1;
    }
    this.messageTokens -= 1;
    this.byteTokens -= kept;
    this.stats.delivered++;
    if (kept < len) this.stats.truncated++;
    return kept;
  }
}
