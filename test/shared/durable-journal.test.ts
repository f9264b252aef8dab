// The CRDT journal's records: group commit packs every op of a commit into one record (src/durable/records.ts);
// they read back in order, and a damaged one is caught — by the store's checksum, or by the record's own structure
// — so the state it belongs to is quarantined with the reason instead of coming back silently short.
import fc from "fast-check";
import { describe, expect, it } from "#test";
import { readJournalRecord, writeJournalRecord, type CrdtJournalEntry } from "../../src/durable/records.ts";
import { ErrorCode, PluginError, PluginHost } from "../../src/mod.ts";
import { MemoryStorage, memoryStore } from "../../src/store/mod.ts";
import { plugin } from "./reload-util.ts";

const KEY = ["uni", "host", "journal", "x", 0, 0n];

describe("durable host: CRDT journal records", () => {
  it("a packed record reads back every entry, in order (seeded property)", () => {
    const entry = fc.record({
      op: fc.constantFrom("apply" as const, "merge" as const),
      bytes: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 50 }), (entries: CrdtJournalEntry[]) => {
        const back = readJournalRecord(KEY, writeJournalRecord(entries));
        expect(back.map((e) => [e.op, [...e.bytes]])).to.deep.equal(entries.map((e) => [e.op, [...e.bytes]]));
      }),
      { seed: 1301, numRuns: 200 },
    );
  });

  it("a record cut inside an entry, or with a bad tag, is Corrupt (a cut between entries is the store CRC's to catch)", () => {
    const record = writeJournalRecord([
      { op: "apply", bytes: Uint8Array.of(1, 2, 3) },
      { op: "merge", bytes: Uint8Array.of(4, 5) },
    ]);
    for (let cut = 2; cut < record.length; cut++) {
      let err: unknown;
      try {
        readJournalRecord(KEY, record.subarray(0, cut));
      } catch (e) {
        err = e;
      }
      // Cut exactly between two entries, the bytes are a whole record of fewer entries: the CRC-32 of the store's
      // envelope, over the whole value, is what catches that (the next case); any other cut is Corrupt here.
      if (cut === 1 + 5 + 3) expect(err).to.equal(undefined);
      else expect((err as PluginError)?.code, `cut at ${cut}`).to.equal(ErrorCode.Corrupt);
    }
    const badTag = record.slice();
    badTag[0] = 9;
    expect(() => readJournalRecord(KEY, badTag)).to.throw(PluginError);
  });

  it("a flipped bit in a journal record quarantines that state with the reason; the others restore", async () => {
    const storage = new MemoryStorage();
    const a = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    await a.load(await plugin("crdt-v1"));
    const damaged = await a.createCrdt("damaged", "g-counter");
    const intact = await a.createCrdt("intact", "g-counter");
    await Promise.all([damaged.apply(["r", 5]), intact.apply(["r", 7])]);
    await a.flush();
    a.dispose();
    // Flip a bit in the damaged state's journal record, underneath the store (its CRC-32 no longer matches).
    const journal = storage.records.values().find((r) => r.key.includes("journal") && r.key.includes("damaged"));
    expect(journal, "the op is in a journal record").not.to.equal(undefined);
    const value = (journal as { value: Uint8Array }).value;
    value[value.length - 6] ^= 0x04;

    const b = new PluginHost({ onLog: () => {}, store: memoryStore({ storage }) });
    const report = await b.restored;
    expect(report.quarantined.map((q) => q.key.join("/"))).to.deep.equal(["uni/host/res/crdt/damaged"]);
    expect(report.quarantined[0]?.reason).to.match(/damaged|checksum|CRC|Corrupt/i);
    expect(b.crdt("damaged")).to.equal(undefined);
    expect(await b.crdt("intact")?.value()).to.equal(7);
    b.dispose();
  });
});
