// A consistent copy of the live SQLite database through SQLite's online backup API: every page is
// copied in one step, inside one read transaction, so the copy is the database as of one instant,
// while the daemon and `recap serve` go on writing (in WAL mode a reader does not block them).
import { existsSync, linkSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { dialectOf, SqliteOnlyError, sqlitePath } from './connect.ts';

/** What sqlite3_backup_step takes as "all of it" (better-sqlite3 caps the pages per step at this). */
const ALL_PAGES = 0x7fffffff;

export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
}

export async function backupDatabase(databaseUrl: string, destination: string): Promise<BackupResult> {
  if (dialectOf(databaseUrl) === 'postgres') {
    throw new SqliteOnlyError('`recap db backup` copies a SQLite database; for PostgreSQL use pg_dump (e.g. `pg_dump --format=custom --file=recap.dump "$DATABASE_URL"`)');
  }
  const source = sqlitePath(databaseUrl);
  if (source === ':memory:') throw new BackupError('DATABASE_URL is :memory:; there is no file to back up');
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source}`);
  if (!existsSync(dirname(destination))) throw new BackupError(`the folder ${dirname(destination)} does not exist`);
  if (existsSync(destination)) throw new BackupError(`${destination} already exists; a backup never overwrites a file`);
  // Written beside the destination and linked into place when checked: no half-written backup
  // ever has the destination's name.
  const partial = `${destination}.partial-${process.pid}`;
  const db = new SQLite(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(partial, { progress: () => ALL_PAGES });
    const copy = new SQLite(partial, { fileMustExist: true });
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new BackupError(`the copy failed SQLite's integrity check: ${String(check)}`);
      // A self-contained file (no -wal beside it), which is what a restore copies into place.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    linkSync(partial, destination);
    return { file: destination, bytes: statSync(destination).size, pages: totalPages };
  } finally {
    db.close();
    rmSync(partial, { force: true });
  }
}
