// Global setup of the postgres test project: one migrated template database per run, which every
// test context copies (test/helpers/database.ts); at the end every database of this run is dropped.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDb } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { DATABASE_PREFIX, databaseUrl, dropDatabase } from './database.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = process.env.TEST_DATABASE_URL as string;
  // recap_pg_ (or TEST_DATABASE_PREFIX): the names the tests may create on a server they share.
  const prefix = `${DATABASE_PREFIX}_${randomBytes(4).toString('hex')}`;
  const template = `${prefix}_template`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  // Byte order, as SQLite compares text, whatever the server's default locale.
  await admin.query(`create database ${template} template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`);
  const db = openDb(databaseUrl(server, template));
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  project.provide('postgres', { prefix, template });
  return async () => {
    const left = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${prefix}\\_%`]);
    for (const { datname } of left.rows) await dropDatabase((statement) => admin.query(statement), datname);
    await admin.end();
  };
}
