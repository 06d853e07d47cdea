// Opens the database named by DATABASE_URL. Today that is SQLite through better-sqlite3; the
// PostgreSQL dialect joins here later, and everything above this file stays the same.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, Kysely, SqliteDialect, type SqliteDatabase, SqliteDriver, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/** `var/recap.db`, `sqlite:var/recap.db`, `file:var/recap.db` or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new Error(`DATABASE_URL "${databaseUrl}" is not a SQLite path; only SQLite is supported so far`);
  }
  return path;
}

export function openDb(databaseUrl: string): Db {
  const path = sqlitePath(databaseUrl);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers (the web pages, `digest status`) work while a send writes; the busy timeout
  // makes a second writer wait instead of failing at once.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  return new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: reusingStatements(sqlite) }) });
}

/**
 * Transactions that begin with BEGIN IMMEDIATE: they take the write lock first, waiting for it
 * (busy timeout) behind another process's writer. A plain BEGIN reads first, and when another
 * process writes before it does, its write fails at once ("database is locked"): the timeout
 * never applies to a transaction whose snapshot went stale.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): SqliteDriver {
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
    })(this.#config);
  }
}

/**
 * The database as Kysely's SqliteDialect uses it (it prepares every query it runs, then calls
 * `reader`, `all`, `run` or `iterate`), with each statement prepared once per SQL text and reused:
 * a send runs the same few statements hundreds of thousands of times, and preparing one costs more
 * than running it. At most `max` are kept, the least recently used dropped first. A statement still
 * iterating (a stream not yet ended) cannot run again meanwhile, so that caller gets a fresh one.
 */
export function reusingStatements(sqlite: SQLite.Database, max = 200): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached?.busy) return sqlite.prepare(sql);
      const statement = cached ?? sqlite.prepare(sql);
      // A Map iterates in insertion order: re-inserting makes this the most recently used.
      cache.delete(sql);
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}
