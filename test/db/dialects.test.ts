// One app on two databases: which one a DATABASE_URL names, what the migrations make on each
// (SQLite's schema exactly as existing databases have it; PostgreSQL's own column types), and
// that reads give the same JavaScript values on both (ISO strings, numbers, 0/1 flags).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase } from '../../db/backup.ts';
import { databaseLabel, dialectOf, dialectOfDb, SqliteOnlyError, sqlitePath } from '../../db/connect.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { onPostgres, testDialect } from '../helpers/database.ts';

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('DATABASE_URL', () => {
  it('names SQLite by a path or sqlite:/file: URL, PostgreSQL by postgres:// or postgresql://', () => {
    for (const url of ['var/recap.db', '/data/recap.db', 'sqlite:var/recap.db', 'file:var/recap.db', ':memory:']) expect(dialectOf(url)).toBe('sqlite');
    for (const url of ['postgres://recap@db/recap', 'postgresql://recap:x@db:5432/recap', 'POSTGRES://db/recap']) expect(dialectOf(url)).toBe('postgres');
  });

  it('is shown without its password', () => {
    expect(databaseLabel('postgres://recap:s3cret@db.internal:5432/recap')).toBe('postgres://recap:***@db.internal:5432/recap');
    expect(databaseLabel('var/recap.db')).toBe('var/recap.db');
  });

  it('is refused as a SQLite path when it is another URL, saying what is supported', () => {
    expect(() => sqlitePath('mysql://db/recap')).toThrow(/neither a SQLite path nor a postgres:\/\/ URL/);
    expect(() => sqlitePath('postgres://db/recap')).toThrow(SqliteOnlyError);
  });

  it('on PostgreSQL, `recap db backup` says it is SQLite-only and names pg_dump', async () => {
    await expect(backupDatabase('postgres://recap@127.0.0.1/recap', '/tmp/never-written.db')).rejects.toThrow(/SQLite.*pg_dump/);
  });
});

describe(`the migrated schema (${testDialect})`, () => {
  it('is the one on this run’s database', async () => {
    ctx = await createTestContext();
    expect(dialectOfDb(ctx.db)).toBe(testDialect);
  });

  it.skipIf(onPostgres)('on SQLite is exactly the schema existing databases were made with', async () => {
    ctx = await createTestContext();
    const rows = await sql<{ sql: string }>`select sql from sqlite_master where sql is not null and name not like 'kysely_%' order by type, name`.execute(ctx.db);
    const expected = readFileSync(join(import.meta.dirname, '../fixtures/sqlite-schema.sql'), 'utf8').trim();
    expect(rows.rows.map((r) => `${r.sql};`).join('\n')).toBe(expected);
  });

  it.skipIf(!onPostgres)('on PostgreSQL has identity ids, timestamptz instants, boolean flags and double scores', async () => {
    ctx = await createTestContext();
    const columns = await sql<{ table_name: string; column_name: string; data_type: string; is_identity: string }>`
      select table_name, column_name, data_type, is_identity from information_schema.columns
      where table_schema = 'public' and table_name not like 'kysely_%'`.execute(ctx.db);
    const type = (table: string, column: string) => columns.rows.find((c) => c.table_name === table && c.column_name === column);
    const instants = columns.rows.filter((c) => c.column_name.endsWith('_at'));
    expect(instants.length).toBeGreaterThan(40);
    for (const c of instants) expect(`${c.table_name}.${c.column_name} ${c.data_type}`).toBe(`${c.table_name}.${c.column_name} timestamp with time zone`);
    for (const c of columns.rows.filter((c) => c.column_name === 'id')) expect(`${c.table_name} ${c.is_identity}`).toBe(`${c.table_name} YES`);
    expect(type('editions', 'subject_by_hand')?.data_type).toBe('boolean');
    expect(type('editions', 'preheader_by_hand')?.data_type).toBe('boolean');
    expect(type('articles', 'score')?.data_type).toBe('double precision');
    expect(type('feeds', 'last_modified')?.data_type).toBe('text'); // an HTTP date, kept as the server wrote it
  });
});

describe(`values read back (${testDialect})`, () => {
  it('are what SQLite gives: instants as the ISO strings written, counts and sums as numbers, flags and tests as 1 or 0', async () => {
    ctx = await createTestContext();
    const list = await ctx.db.selectFrom('lists').select('id').executeTakeFirstOrThrow();
    const at = '2026-11-30T08:00:00.000Z';
    await ctx.db
      .insertInto('editions')
      .values({ list_id: list.id, week: '2026-W48', number: 1, status: 'draft', subject: 'S', preheader: 'P', editor_note: null, starts_at: '2026-11-23T00:00:00.000Z', ends_at: at, created_at: at, updated_at: at, subject_by_hand: 1 })
      .execute();
    const row = await ctx.db.selectFrom('editions').select(['id', 'starts_at', 'created_at', 'sent_at', 'subject_by_hand', 'preheader_by_hand']).executeTakeFirstOrThrow();
    expect(row).toEqual({ id: expect.any(Number), starts_at: '2026-11-23T00:00:00.000Z', created_at: at, sent_at: null, subject_by_hand: 1, preheader_by_hand: 0 });
    const aggregates = await ctx.db
      .selectFrom('editions')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('number').as('total'), eb.fn.max('created_at').as('latest'), eb.fn.max('id').as('top')])
      .select((eb) => eb.exists(eb.selectFrom('lists').select('id')).as('any_list'))
      .executeTakeFirstOrThrow();
    expect(aggregates).toEqual({ n: 1, total: 1, latest: at, top: row.id, any_list: 1 });
  });

  it('compare an ISO string parameter with a stored instant as instants', async () => {
    ctx = await createTestContext();
    const at = (iso: string) => ({ name: iso, owner: 'o', expires_at: iso });
    await ctx.db.insertInto('leases').values([at('2026-11-30T07:59:59.999Z'), at('2026-11-30T08:00:00.000Z'), at('2026-11-30T08:00:00.001Z')]).execute();
    const due = await ctx.db.selectFrom('leases').select('expires_at').where('expires_at', '<=', '2026-11-30T08:00:00.000Z').orderBy('expires_at').execute();
    expect(due.map((r) => r.expires_at)).toEqual(['2026-11-30T07:59:59.999Z', '2026-11-30T08:00:00.000Z']);
  });

  it('keep a field with a NUL character (a space on PostgreSQL, whose text cannot hold one; every output shows a control as a space)', async () => {
    ctx = await createTestContext();
    await ctx.db.insertInto('leases').values({ name: 'a\u0000b', owner: 'x\u0000y', expires_at: '2026-11-30T08:00:00.000Z' }).execute();
    const nul = onPostgres ? ' ' : '\u0000';
    expect(await ctx.db.selectFrom('leases').select(['name', 'owner']).where('owner', '=', 'x\u0000y').execute()).toEqual([{ name: `a${nul}b`, owner: `x${nul}y` }]);
  });
});
