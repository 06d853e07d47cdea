// A PostgreSQL database of its own for a test that runs the CLI (which gets no database from the
// test project: test/helpers/database.ts), on the server TEST_DATABASE_URL names (its role needs
// CREATEDB); dropped afterwards. Such tests are skipped without it, saying why.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DATABASE_PREFIX, databaseUrl, dropDatabase } from './database.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const NO_POSTGRES = 'TEST_DATABASE_URL is not set (a postgres:// URL whose role may create databases)';

export interface TempPgDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * `collation`: an ICU locale (e.g. `en-US`) for the database's text, which then sorts as people
 * read it (`_x`, `alpha`, `Ärger`, `b`, `B`, `Zeta`) rather than byte by byte as SQLite does.
 */
export async function tempPgDatabase(options: { collation?: string } = {}, serverUrl = TEST_DATABASE_URL as string): Promise<TempPgDatabase> {
  const name = `${DATABASE_PREFIX}_cli_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  const collation = options.collation ? ` template template0 locale_provider icu icu_locale '${options.collation.replace(/[^\w-]/g, '')}' locale 'C.UTF-8'` : '';
  await admin(`create database ${name}${collation}`);
  return { url: databaseUrl(serverUrl, name), drop: () => dropDatabase(admin, name) };
}
