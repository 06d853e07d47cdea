// Where a test gets its database. The suite runs once per dialect (vitest.config.ts: the projects
// `sqlite` and `postgres`); RECAP_TEST_DIALECT says which this run is. On SQLite a test's database
// is a file in its temp folder; on PostgreSQL it is a database of its own on TEST_DATABASE_URL's
// server, copied from the run's migrated template (test/helpers/postgres-setup.ts) or emptied
// after an earlier test of the same worker, so a fresh migrated database costs milliseconds
// instead of the whole migration.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { Dialect } from '../../db/connect.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';

export const testDialect: Dialect = process.env.RECAP_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = testDialect === 'postgres';

export interface TestDatabase {
  /** DATABASE_URL for this test's database. */
  url: string;
  /** Done with it: dropped, or emptied for the next test (a SQLite file goes with its temp folder). */
  drop(): Promise<void>;
}

/** What every database the tests make on the server is named with (TEST_DATABASE_PREFIX: runs sharing a server keep apart). */
export const DATABASE_PREFIX = process.env.TEST_DATABASE_PREFIX ?? 'recap_pg';

/** A database name on the test server: every one starts with the run's prefix, which teardown sweeps. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // A commit returns before its WAL is flushed to disk: only a crash of the server itself could
  // lose one, which a test database does not mind, and every other session sees it at once as
  // before. The tests commit thousands of times (each statement outside a transaction is one).
  url.searchParams.set('options', '-c synchronous_commit=off');
  return url.href;
}

let made = 0;
const pools = new Map<string, pg.Pool>();

/** A connection of this worker's for CREATE or DROP DATABASE; idle, it lets the worker exit. */
function admin(purpose: 'create' | 'drop'): pg.Pool {
  let pool = pools.get(purpose);
  if (!pool) pools.set(purpose, (pool = new pg.Pool({ connectionString: serverUrl(), max: 1, allowExitOnIdle: true })));
  return pool;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('the postgres test project runs only with TEST_DATABASE_URL set');
  return url;
}

/** A name of this run's (the teardown drops every database whose name starts with its prefix). */
function newName(): string {
  return `${inject('postgres').prefix}_${process.pid}_${++made}_${randomBytes(3).toString('hex')}`;
}

async function createDatabase(migrated: boolean): Promise<string> {
  const { template } = inject('postgres');
  const name = newName();
  // Byte order, as SQLite compares text, whatever the server's default locale (the template has it too).
  await admin('create').query(migrated ? `create database ${name} template ${template}` : `create database ${name} template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`);
  return name;
}

// Migrated databases a test has closed, emptied again (reset) for the next test of this worker:
// emptying takes milliseconds, a copy a tenth of a second and a drop seconds (it waits for a
// checkpoint), and TRUNCATE of every table almost half a second.
const free: string[] = [];

/**
 * Empties a migrated database back to what the template holds, under a new name (a process a test
 * left running cannot reconnect to it and write into the next test's data): every row deleted
 * (children first: a table made later refers only to earlier ones), ids starting at 1 again, the
 * first list inserted as its migration does, and any trigger or function a test added dropped.
 * Returns the new name, or undefined when something still holds it (then it is dropped instead).
 */
async function reset(name: string): Promise<string | undefined> {
  const renamed = newName();
  try {
    await admin('create').query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    await admin('create').query(`alter database ${name} rename to ${renamed}`);
  } catch {
    dropLater(name);
    return undefined;
  }
  const client = new pg.Client({ connectionString: databaseUrl(serverUrl(), renamed) });
  await client.connect();
  try {
    await client.query(`do $$ declare r record; begin
      for r in select tgname, tgrelid::regclass as tbl from pg_trigger where not tgisinternal loop execute format('drop trigger %I on %s', r.tgname, r.tbl); end loop;
      for r in select p.oid::regprocedure as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' loop execute format('drop function %s', r.fn); end loop;
      for r in select c.oid::regclass as tbl from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'kysely\\_%' order by c.oid desc loop
        execute format('delete from %s', r.tbl);
      end loop;
      for r in select table_name from information_schema.columns where table_schema = 'public' and is_identity = 'YES' loop
        perform setval(pg_get_serial_sequence(quote_ident(r.table_name), 'id'), 1, false);
      end loop;
    end $$`);
    await client.query('insert into lists (slug, name, created_at) values ($1, $2, $3)', [WEEKLY_AI_RECAP.slug, WEEKLY_AI_RECAP.name, new Date().toISOString()]);
  } finally {
    await client.end();
  }
  return renamed;
}

/**
 * DROP DATABASE … WITH (FORCE): whatever a test left connected does not keep it. FORCE also ends
 * an autovacuum worker busy in it, which a role without pg_signal_backend may not do (42501): that
 * worker is done within moments, so the drop is tried again for a few seconds.
 */
export async function dropDatabase(query: (statement: string) => Promise<unknown>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await query(`drop database if exists ${name} with (force)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '42501' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Drops a database in the background. */
function dropLater(name: string): void {
  void dropDatabase((statement) => admin('drop').query(statement), name).catch(() => {});
}

/**
 * A new database for one test in `dir`: migrated (the schema and the first list, as `recap db
 * migrate` leaves it) or empty (for tests that migrate step by step).
 */
export async function freshDatabase(dir: string, options: { migrated: boolean }): Promise<TestDatabase> {
  if (!onPostgres) return { url: join(dir, 'recap.db'), drop: async () => {} };
  if (!options.migrated) {
    const name = await createDatabase(false);
    return { url: databaseUrl(serverUrl(), name), drop: async () => dropLater(name) };
  }
  const name = free.pop() ?? (await createDatabase(true));
  return {
    url: databaseUrl(serverUrl(), name),
    drop: async () => {
      const emptied = await reset(name);
      if (emptied) free.push(emptied);
    },
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's database name prefix and its migrated template (postgres project only). */
    postgres: { prefix: string; template: string };
  }
}
