// A PostgreSQL database of its own for a test, on the server TEST_DATABASE_URL names (its role
// needs CREATEDB); dropped afterwards. Tests that need one are skipped, saying why, without it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const NO_POSTGRES = 'TEST_DATABASE_URL is not set (a postgres:// URL whose role may create databases)';

export interface TempPgDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function tempPgDatabase(serverUrl = TEST_DATABASE_URL as string): Promise<TempPgDatabase> {
  const name = `recap_ss_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
