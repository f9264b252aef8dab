// The source workload for the Postgres CDC test: many small transactions of inserts, updates and deletes over two
// tables, and one large transaction. Deterministic, so a failure reproduces.
import type pg from "pg";

export const SOURCE_SCHEMA = `
  create table items (id bigint primary key, name text not null, qty int not null);
  create table orders (id bigint primary key, item bigint not null, amount int not null);`;

/** Runs transactions `from..to` (exclusive), one after another on `client`; returns the changes they made. */
export class Workload {
  #nextItem = 1;
  #oldestItem = 1;
  #nextOrder = 1;
  changes = 0;
  transactions = 0;

  constructor(private readonly client: pg.Client) {}

  /** One ordinary transaction: 60 inserts, 25 updates, 10 deletes on items; 20 inserts, 5 updates on orders. */
  async small(t: number): Promise<void> {
    const c = this.client;
    await c.query("begin");
    const first = this.#nextItem;
    await c.query("insert into items select g, 'item ' || g, $3 from generate_series($1::bigint, $2::bigint) g", [
      first,
      first + 59,
      t,
    ]);
    this.#nextItem += 60;
    await c.query("update items set qty = qty + 1 where id between $1 and $2", [
      this.#oldestItem + 10,
      this.#oldestItem + 34,
    ]);
    await c.query("delete from items where id between $1 and $2", [this.#oldestItem, this.#oldestItem + 9]);
    this.#oldestItem += 10;
    const order = this.#nextOrder;
    await c.query("insert into orders select g, $3, (g % 97)::int from generate_series($1::bigint, $2::bigint) g", [
      order,
      order + 19,
      first,
    ]);
    this.#nextOrder += 20;
    await c.query("update orders set amount = amount + $3 where id between $1 and $2", [order, order + 4, t]);
    await c.query("commit");
    this.changes += 60 + 25 + 10 + 20 + 5;
    this.transactions++;
  }

  /** The large transaction: `rows` inserts and `rows / 2` updates of them, in one commit. */
  async large(rows: number): Promise<void> {
    const c = this.client;
    await c.query("begin");
    const first = this.#nextItem;
    await c.query("insert into items select g, 'bulk ' || g, 0 from generate_series($1::bigint, $2::bigint) g", [
      first,
      first + rows - 1,
    ]);
    await c.query("update items set qty = 7 where id between $1 and $2", [first, first + rows / 2 - 1]);
    this.#nextItem += rows;
    await c.query("commit");
    this.changes += rows + rows / 2;
    this.transactions++;
  }
}
