// A database migrated only up to some migration, for a test of a later one: its data is written
// as that version's code would have, then the later migrations run on it.
import { rmSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { openDb } from '../../db/connect.ts';
import { migrateTo } from '../../db/migrate.ts';
import { tempDir } from './context.ts';
import { freshDatabase } from './database.ts';

export interface OlderDatabase {
  /** Kysely<any>: the schema types are today's, the database is not. */
  db: Kysely<any>;
  /** Closes and drops it. */
  close(): Promise<void>;
}

export async function databaseAt(migration: string): Promise<OlderDatabase> {
  const dir = tempDir('recap-migrate-');
  const database = await freshDatabase(dir, { migrated: false });
  const db = openDb(database.url) as unknown as Kysely<any>;
  await migrateTo(db, migration);
  return {
    db,
    close: async () => {
      await db.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
