// Where a test gets its database. The suite runs once per dialect (vitest.config.ts: the projects
// `sqlite` and `postgres`); RECAP_TEST_DIALECT says which this run is. On SQLite a test's database
// is a file in its temp folder; on PostgreSQL it is a database of its own on TEST_DATABASE_URL's
// server, copied from the run's migrated template (test/helpers/postgres-setup.ts), so a fresh
// migrated database costs one CREATE DATABASE instead of the whole migration.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { Dialect } from '../../db/connect.ts';

export const testDialect: Dialect = process.env.RECAP_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = testDialect === 'postgres';

export interface TestDatabase {
  /** DATABASE_URL for this test's database. */
  url: string;
  /** Removes it (the SQLite file goes with its temp folder). */
  drop(): Promise<void>;
}

/** What every database the tests make on the server is named with (TEST_DATABASE_PREFIX: runs sharing a server keep apart). */
export const DATABASE_PREFIX = process.env.TEST_DATABASE_PREFIX ?? 'recap_pg';

/** A database name on the test server: every one starts with the run's prefix, which teardown sweeps. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.href;
}

let admin: pg.Pool | undefined;
let made = 0;

/** One connection per test worker for CREATE and DROP DATABASE; idle, it lets the worker exit. */
function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: serverUrl(), max: 1, allowExitOnIdle: true });
  return admin;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('the postgres test project runs only with TEST_DATABASE_URL set');
  return url;
}

/**
 * A new database for one test in `dir`: migrated (the schema and the first list, as `recap db
 * migrate` leaves it) or empty (for tests that migrate step by step).
 */
export async function freshDatabase(dir: string, options: { migrated: boolean }): Promise<TestDatabase> {
  if (!onPostgres) return { url: join(dir, 'recap.db'), drop: async () => {} };
  const { prefix, template } = inject('postgres');
  const name = `${prefix}_${process.pid}_${++made}_${randomBytes(3).toString('hex')}`;
  const client = adminPool();
  await client.query(`create database ${name} template ${options.migrated ? template : 'template0'}`);
  return {
    url: databaseUrl(serverUrl(), name),
    // FORCE: a connection a test left open (a child process killed mid-send) does not keep it alive.
    drop: async () => void (await client.query(`drop database if exists ${name} with (force)`)),
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's database name prefix and its migrated template (postgres project only). */
    postgres: { prefix: string; template: string };
  }
}
