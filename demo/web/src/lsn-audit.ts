/**
 * Checks what reaches the CDC sink: every LSN exactly once, in order. Counts LSNs skipped (gaps) and LSNs
 * seen twice (duplicates) from the [lsnStart, lsnEnd) ranges `onEmit` reports, independently of the host's
 * own bookkeeping.
 */
import type { CdcEmit } from "../../../src/mod.ts";

export class LsnAudit {
  /** The LSN the next emitted batch must start at. */
  expected: bigint;
  batches = 0;
  /** LSNs never delivered (a later batch started past `expected`). */
  gapLsns = 0n;
  /** LSNs delivered more than once (a batch started before `expected`). */
  duplicateLsns = 0n;
  readonly recent: CdcEmit[] = [];

  constructor(
    from = 0n,
    private readonly keep = 12,
  ) {
    this.expected = from;
  }

  record(e: CdcEmit): void {
    this.batches++;
    if (e.lsnStart > this.expected) this.gapLsns += e.lsnStart - this.expected;
    if (e.lsnStart < this.expected) {
      // bigints: no Math.min. The repeated part is [lsnStart, min(lsnEnd, expected)).
      let overlapEnd = this.expected;
      if (e.lsnEnd < overlapEnd) overlapEnd = e.lsnEnd;
      this.duplicateLsns += overlapEnd - e.lsnStart;
    }
    if (e.lsnEnd > this.expected) this.expected = e.lsnEnd;
    this.recent.unshift(e);
    if (this.recent.length > this.keep) this.recent.pop();
  }
}
