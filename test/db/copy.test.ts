// `recap db copy`: every table moves, in foreign-key order, a page at a time, in one transaction
// on a target that must be empty; ids go on after the copied ones; and the check after it (row
// counts and a checksum per table) finds any difference. SQLite to SQLite always; to PostgreSQL
// and back when TEST_DATABASE_URL is set.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, type KyselyPlugin, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../db/connect.ts';
import { compareDatabases, CopyRefusedError, copyDatabase, TABLES } from '../../db/copy.ts';
import { LATEST_MIGRATION, migrateTo, migrateToLatest } from '../../db/migrate.ts';
import { acquireLease } from '../../src/delivery/lease.ts';
import { rateLimiter } from '../../src/web/rate-limit.ts';
import { addSubscriber, suppress } from '../helpers/audience.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestContext, tempDir, type TestContext } from '../helpers/context.ts';
import { queuedEdition } from '../helpers/deliveries.ts';
import { NO_POSTGRES, TEST_DATABASE_URL, tempPgDatabase } from '../helpers/pg.ts';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A source with rows in every kind of table, text keys that sort differently by locale, and a text instant without milliseconds. */
async function source(): Promise<TestContext> {
  const ctx = await createTestContext();
  cleanup.push(() => ctx.close());
  await queuedEdition(ctx, 120);
  await addSubscriber(ctx, 'ada@example.com', { name: 'Ada Lindqvist', topics: ['policy', 'compute'], attributes: { Zeta: '1', alpha: '2', Ärger: '3', _x: '4' } });
  await suppress(ctx, 'gone@example.com');
  await acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000);
  await rateLimiter(ctx.db, ctx.clock, 'subscribe-per-ip', 10, 60_000).take('ip:192.0.2.1');
  await ctx.db.insertInto('feeds').values([{ url: 'https://b.example/feed', etag: null, last_modified: null, last_polled_at: null, last_status: null, last_error: null, failures: 0 }, { url: 'https://B.example/feed', etag: '"x"', last_modified: null, last_polled_at: '2026-11-30T07:00:00.000Z', last_status: '200', last_error: null, failures: 0 }]).execute();
  await ctx.db.updateTable('articles').set({ published_at: '2026-11-24T06:10:00Z' }).where('id', '=', 1).execute();
  return ctx;
}

function sqliteTarget(name = 'copy.db'): { url: string; db: Db } {
  const dir = tempDir('recap-copy-');
  const url = join(dir, name);
  const db = openDb(url);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => db.destroy());
  return { url, db };
}

/** Its text sorts by locale, as on many servers: the copy and the checksums must not depend on it. */
async function pgTarget(): Promise<{ url: string; db: Db }> {
  const pg = await tempPgDatabase({ collation: 'en-US' });
  cleanup.push(() => pg.drop());
  const db = openDb(pg.url);
  cleanup.push(() => db.destroy());
  return { url: pg.url, db };
}

const counts = async (db: Kysely<any>) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t.name, Number((await db.selectFrom(t.name).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)])));

describe('TABLES', () => {
  it('names every table of a migrated database with its primary key, parents before children', async () => {
    const { db } = sqliteTarget();
    await migrateToLatest(db);
    const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
    expect(TABLES.map((t) => t.name).sort()).toEqual(tables);
    const position = new Map(TABLES.map((t, i) => [t.name, i]));
    // The schema as SQLite itself describes it.
    for (const [i, t] of TABLES.entries()) {
      const info = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${t.name})`.execute(db);
      expect(info.rows.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name), t.name).toEqual([...t.key]);
      const fks = await sql<{ table: string }>`select "table" from pragma_foreign_key_list(${t.name})`.execute(db);
      for (const fk of fks.rows) expect(position.get(fk.table), `${t.name} → ${fk.table}`).toBeLessThan(i);
    }
  });
});

describe('copying', () => {
  it('copies a SQLite database into a new file: every row, equal checksums, ids going on after the copied ones', async () => {
    const ctx = await source();
    const target = sqliteTarget();
    const seen: Array<[string, number, number]> = [];
    const result = await copyDatabase(ctx.db, target.db, { progress: (table, done, total) => seen.push([table, done, total]) });
    expect(result.migration).toBe(LATEST_MIGRATION);
    expect(result.checks.filter((c) => !c.match)).toEqual([]);
    expect(result.checks.map((c) => c.table)).toEqual(TABLES.map((t) => t.name));
    expect(await counts(target.db)).toEqual(await counts(ctx.db));
    expect((await counts(target.db)).deliveries).toBe(120);
    expect(seen).toContainEqual(['subscribers', 121, 121]);
    // A row made after the copy takes the next id: none collides with a copied one.
    const max = await ctx.db.selectFrom('subscribers').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow();
    const added = await target.db.insertInto('subscribers').values({ email: 'new@example.com', email_hash: 'h-new', name: null, status: 'active', created_at: 'x', updated_at: 'x', consent_at: null, consent_source: null, consent_ip: null, consent_user_agent: null, confirmed_at: null, paused_at: null, confirm_requested_at: null }).returning('id').executeTakeFirstOrThrow();
    expect(added.id).toBe(Number(max.m) + 1);
  });

  it('reads and writes a page at a time: no query returns more rows than a page', async () => {
    const ctx = await source();
    let largest = 0;
    const watch: KyselyPlugin = { transformQuery: ({ node }) => node, transformResult: async ({ result }) => ((largest = Math.max(largest, result.rows.length)), result) };
    const result = await copyDatabase(ctx.db.withPlugin(watch), sqliteTarget().db, { pageRows: 25 });
    expect(result.checks.every((c) => c.match)).toBe(true);
    expect(largest).toBe(25);
  });

  it('refuses a target that holds data, and writes nothing to it', async () => {
    const ctx = await source();
    const target = sqliteTarget();
    await migrateTo(target.db, '0012_lease_since');
    await target.db.insertInto('feeds').values({ url: 'https://kept.example/feed', etag: null, last_modified: null, last_polled_at: null, last_status: null, last_error: null, failures: 3 }).execute();
    const before = await target.db.introspection.getTables();
    await expect(copyDatabase(ctx.db, target.db)).rejects.toThrow(new CopyRefusedError('the target is not empty: feeds (1 row). Copy only into a new database'));
    // Not even migrated: its tables are those it had.
    expect((await target.db.introspection.getTables()).map((t) => t.name)).toEqual(before.map((t) => t.name));
    expect(await target.db.selectFrom('feeds').select(['url', 'failures']).execute()).toEqual([{ url: 'https://kept.example/feed', failures: 3 }]);
  });

  it('leaves the target as empty as it was when the copy fails halfway', async () => {
    const ctx = await source();
    const target = sqliteTarget();
    await migrateToLatest(target.db);
    const before = await counts(target.db);
    // The disk fills up while the deliveries are written.
    const failing: KyselyPlugin = {
      transformQuery: ({ node }) => {
        if (node.kind === 'InsertQueryNode' && JSON.stringify(node.into).includes('"deliveries"')) throw new Error('disk full');
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    await expect(copyDatabase(ctx.db, target.db.withPlugin(failing))).rejects.toThrow('disk full');
    expect(await counts(target.db)).toEqual(before);
    expect(before.subscribers).toBe(0);
  });

  it('finds a row changed, added or removed on the target after the copy', async () => {
    const ctx = await source();
    const target = sqliteTarget();
    await copyDatabase(ctx.db, target.db);
    await target.db.updateTable('subscribers').set({ name: 'Ada L.' }).where('email', '=', 'ada@example.com').execute();
    await target.db.deleteFrom('suppressions').execute();
    const checks = await compareDatabases(ctx.db, target.db);
    expect(checks.filter((c) => !c.match).map((c) => [c.table, c.sourceRows, c.targetRows])).toEqual([
      ['subscribers', 121, 121],
      ['suppressions', 1, 0],
    ]);
    const subscribers = checks.find((c) => c.table === 'subscribers');
    expect(subscribers?.sourceChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect(subscribers?.sourceChecksum).not.toBe(subscribers?.targetChecksum);
  });
});

describe('`recap db copy` and `recap db verify`', () => {
  it('copies, prints each table, refuses to copy twice, and exits 1 when verify finds a difference', { timeout: 180_000 }, async () => {
    const ctx = await source();
    const target = sqliteTarget('cli.db');
    await target.db.destroy();
    const env = { DATABASE_URL: ctx.config.databaseUrl };
    const cwd = ctx.dir;
    const copied = await runCli(['db', 'copy', '--to', target.url, '--json'], { cwd, env });
    expect(copied.code, copied.stderr).toBe(0);
    const json = JSON.parse(copied.stdout) as { ok: boolean; migration: string; tables: Array<{ table: string; sourceRows: number; match: boolean }> };
    expect(json).toMatchObject({ ok: true, migration: LATEST_MIGRATION });
    expect(json.tables.find((t) => t.table === 'deliveries')).toMatchObject({ sourceRows: 120, match: true });
    // Off a terminal, progress is plain lines.
    expect(copied.stderr).toContain('copying subscribers: 121/121 (100%)');

    const again = await runCli(['db', 'copy', '--to', target.url], { cwd, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/recap: the target is not empty: articles \(14 rows\), article_topics \(\d+ rows\), subscribers \(121 rows\)/);

    const db = openDb(target.url);
    await db.updateTable('articles').set({ title: 'Tampered' }).where('id', '=', 2).execute();
    await db.destroy();
    const verified = await runCli(['db', 'verify', '--to', target.url], { cwd, env });
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^articles\s+14\s+14\s+[0-9a-f]{16}\s+MISMATCH \(target [0-9a-f]{16}\)$/m);
    expect(verified.stdout).toContain(`1 of ${TABLES.length} tables differ: articles`);

    // The other way: --from copies another database into DATABASE_URL's.
    const into = sqliteTarget('into.db');
    await into.db.destroy();
    const pulled = await runCli(['db', 'copy', '--from', ctx.config.databaseUrl], { cwd, env: { DATABASE_URL: into.url } });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/^subscribers\s+121\s+121\s+[0-9a-f]{16}\s+ok$/m);
    expect(pulled.stdout).toMatch(new RegExp(`^all ${TABLES.length} tables match \\(\\d+ rows\\)$`, 'm'));

    const both = await runCli(['db', 'copy', '--to', target.url, '--from', target.url], { cwd, env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give exactly one of --to URL');
    const help = await runCli(['db', 'copy', '--help'], { cwd, env });
    expect(help.stdout).toContain('--to <url>');
    expect(help.stdout).toContain('--from <url>');
  });
});

describe.skipIf(!TEST_DATABASE_URL)(`to PostgreSQL and back${TEST_DATABASE_URL ? '' : ` (skipped: ${NO_POSTGRES})`}`, () => {
  it('copies to PostgreSQL and back to SQLite with the same checksums, and PostgreSQL ids go on after the copied ones', async () => {
    const ctx = await source();
    const pg = await pgTarget();
    const there = await copyDatabase(ctx.db, pg.db);
    expect(there.checks.filter((c) => !c.match)).toEqual([]);
    const back = sqliteTarget('back.db');
    const returned = await copyDatabase(pg.db, back.db);
    expect(returned.checks.filter((c) => !c.match)).toEqual([]);
    expect(returned.checks.map((c) => c.targetChecksum)).toEqual(there.checks.map((c) => c.sourceChecksum));
    expect((await compareDatabases(ctx.db, back.db)).every((c) => c.match)).toBe(true);

    // PostgreSQL's identity sequences start after the copied ids.
    const max = await pg.db.selectFrom('subscribers').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow();
    const added = await pg.db.insertInto('subscribers').values({ email: 'new@example.com', email_hash: 'h-new', name: null, status: 'active', created_at: '2026-12-01T00:00:00.000Z', updated_at: '2026-12-01T00:00:00.000Z', consent_at: null, consent_source: null, consent_ip: null, consent_user_agent: null, confirmed_at: null, paused_at: null, confirm_requested_at: null }).returning('id').executeTakeFirstOrThrow();
    expect(added.id).toBe(Number(max.m) + 1);

    // A row changed on PostgreSQL is found.
    await pg.db.updateTable('feeds').set({ failures: 9 }).where('url', '=', 'https://B.example/feed').execute();
    expect((await compareDatabases(ctx.db, pg.db)).filter((c) => !c.match).map((c) => c.table)).toEqual(['subscribers', 'feeds']);
  });

  it('refuses a PostgreSQL target that holds data', async () => {
    const ctx = await source();
    const pg = await pgTarget();
    await migrateToLatest(pg.db);
    await addSubscriber({ ...ctx, db: pg.db }, 'there@example.com');
    await expect(copyDatabase(ctx.db, pg.db)).rejects.toThrow(/the target is not empty: subscribers \(1 row\), subscriber_topics|the target is not empty: subscribers \(1 row\)/);
  });
});
