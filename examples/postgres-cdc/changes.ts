/**
 * pgoutput messages → one Arrow change batch per committed transaction.
 *
 * Each row is one change: `seq` (its place in the transaction), `op` (`insert`, `update`, `delete`, `truncate`),
 * `relation` (`schema.table`), `key` (the replica-identity columns as JSON) and `data` (the new row as JSON, null
 * for deletes and truncates). The transaction's commit end LSN and commit time travel beside the batch, as the
 * source position and commit time `LiveCdc.publish` keeps with it.
 *
 * @module
 */
import { makeVector, Table, Utf8, vectorFromArray } from "apache-arrow";
import type { Pgoutput } from "pg-logical-replication";
import { canonicalLsn } from "./lsn.ts";

export interface Change {
  op: "insert" | "update" | "delete" | "truncate";
  relation: string;
  key: string;
  data: string | null;
}

export interface Transaction {
  /** The commit record's end LSN: confirming it upstream releases this transaction and everything before it. */
  commitEndLsn: string;
  /** Microseconds since the Unix epoch. */
  commitMicros: bigint;
  changes: Change[];
}

/** Collects the messages of one transaction at a time; `push` returns the transaction at its commit. */
export class TransactionAssembler {
  #open: Change[] | null = null;

  push(message: Pgoutput.Message): Transaction | null {
    switch (message.tag) {
      case "begin":
        this.#open = [];
        return null;
      case "insert":
        this.#add({
          op: "insert",
          relation: nameOf(message.relation),
          key: keyOf(message.relation, message.new),
          data: json(message.new),
        });
        return null;
      case "update":
        this.#add({
          op: "update",
          relation: nameOf(message.relation),
          key: keyOf(message.relation, message.key ?? message.new),
          data: json(message.new),
        });
        return null;
      case "delete":
        this.#add({
          op: "delete",
          relation: nameOf(message.relation),
          key: keyOf(message.relation, message.key ?? message.old ?? {}),
          data: null,
        });
        return null;
      case "truncate":
        for (const r of message.relations) this.#add({ op: "truncate", relation: nameOf(r), key: "null", data: null });
        return null;
      case "commit": {
        const changes = this.#open ?? [];
        this.#open = null;
        if (!message.commitEndLsn) throw new Error("pgoutput commit message without an end LSN");
        return {
          commitEndLsn: canonicalLsn(message.commitEndLsn),
          commitMicros: BigInt(message.commitTime as bigint),
          changes,
        };
      }
      default:
        return null; // relation, type, origin and message carry no row changes
    }
  }

  #add(change: Change): void {
    if (!this.#open) throw new Error(`pgoutput sent a ${change.op} outside a transaction`);
    this.#open.push(change);
  }
}

/** The Arrow change batch of one transaction. */
export function transactionTable(tx: Transaction): Table {
  const c = tx.changes;
  return new Table({
    seq: makeVector(Int32Array.from(c, (_, i) => i)),
    op: vectorFromArray(
      c.map((x) => x.op),
      new Utf8(),
    ),
    relation: vectorFromArray(
      c.map((x) => x.relation),
      new Utf8(),
    ),
    key: vectorFromArray(
      c.map((x) => x.key),
      new Utf8(),
    ),
    data: vectorFromArray(
      c.map((x) => x.data),
      new Utf8(),
    ),
  });
}

function nameOf(r: Pgoutput.MessageRelation): string {
  return `${r.schema}.${r.name}`;
}

function keyOf(r: Pgoutput.MessageRelation, row: Record<string, unknown>): string {
  return json(Object.fromEntries(r.keyColumns.map((k) => [k, row[k]])));
}

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
