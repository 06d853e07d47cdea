// Statements are prepared once per SQL text and reused (db/connect.ts): through Kysely, a query
// run many times is prepared once; the cache stays within its bound, least recently used out
// first; and a statement still iterating is never handed out again (better-sqlite3 would refuse
// to run it: "This statement is busy executing a query").
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { reusingStatements } from '../../db/connect.ts';

interface Table {
  items: { id: number; label: string };
}

const open: SQLite.Database[] = [];
afterEach(() => {
  for (const s of open.splice(0)) if (s.open) s.close();
});

/** An in-memory database with five items, and every SQL text it was asked to prepare. */
function database(): { sqlite: SQLite.Database; prepared: string[] } {
  const sqlite = new SQLite(':memory:');
  open.push(sqlite);
  sqlite.exec("create table items (id integer primary key, label text not null); insert into items (label) values ('a'), ('b'), ('c'), ('d'), ('e')");
  const prepared: string[] = [];
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    prepared.push(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  return { sqlite, prepared };
}

describe('statements reused by SQL text', () => {
  it('prepares a query that Kysely runs again and again, with other values each time, once', async () => {
    const { sqlite, prepared } = database();
    const db = new Kysely<Table>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
    const labels: string[] = [];
    for (let i = 0; i < 100; i++) {
      const row = await db.selectFrom('items').select('label').where('id', '=', (i % 5) + 1).executeTakeFirstOrThrow();
      labels.push(row.label);
      await db.updateTable('items').set({ label: row.label }).where('id', '=', (i % 5) + 1).execute();
    }
    expect(labels.slice(0, 6)).toEqual(['a', 'b', 'c', 'd', 'e', 'a']);
    expect(prepared).toHaveLength(2);
    await db.destroy();
    expect(sqlite.open).toBe(false);
  });

  it('keeps at most its bound, dropping the least recently used first', () => {
    const { sqlite, prepared } = database();
    const statements = reusingStatements(sqlite, 2);
    const [a, b, c] = ['select 1', 'select 2', 'select 3'];
    const first = statements.prepare(a as string);
    statements.prepare(b as string);
    expect(statements.prepare(a as string)).toBe(first); // a is now the most recent
    statements.prepare(c as string); // b goes
    expect(statements.prepare(a as string)).toBe(first);
    statements.prepare(b as string);
    expect(prepared).toEqual([a, b, c, b]);
  });

  it('gives a fresh statement while the cached one is still iterating, and both read every row', () => {
    const { sqlite, prepared } = database();
    const statements = reusingStatements(sqlite);
    const text = 'select label from items order by id';
    const streaming = statements.prepare(text);
    const rows = streaming.iterate([]);
    expect((rows.next().value as { label: string }).label).toBe('a');
    // What reusing it would do: better-sqlite3 refuses.
    expect(() => streaming.all([])).toThrow(/busy/);
    const meanwhile = statements.prepare(text);
    expect(meanwhile).not.toBe(streaming);
    expect(meanwhile.all([])).toEqual(['a', 'b', 'c', 'd', 'e'].map((label) => ({ label })));
    expect([...rows].map((r) => (r as { label: string }).label)).toEqual(['b', 'c', 'd', 'e']);
    // Once the iteration is over, the cached statement is reused again.
    expect(statements.prepare(text)).toBe(streaming);
    expect(prepared).toEqual([text, text]);
  });
});
