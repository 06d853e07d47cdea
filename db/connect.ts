// Opens the database named by DATABASE_URL: SQLite through better-sqlite3 (a path, `sqlite:` or
// `file:`), or PostgreSQL through a pg pool (`postgres://` or `postgresql://`). Everything above
// this folder sees the same values from either: timestamps as ISO strings, counts as numbers,
// flags as 0 and 1 (see the type parsers below).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  PostgresAdapter,
  PostgresDialect,
  type PrimitiveValueListNode,
  SqliteDialect,
  type SqliteDatabase,
  type SqliteDialectConfig,
  SqliteDriver,
  type ValueNode,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export type Dialect = 'sqlite' | 'postgres';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Which database a DATABASE_URL names. */
export function dialectOf(databaseUrl: string): Dialect {
  return POSTGRES_URL.test(databaseUrl) ? 'postgres' : 'sqlite';
}

/** Which database an open Kysely talks to (migrations and the few dialect-aware queries ask). */
export function dialectOfDb(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Thrown by what only SQLite has (the online backup, the file checks) when DATABASE_URL is PostgreSQL. */
export class SqliteOnlyError extends Error {
  override name = 'SqliteOnlyError';
}

/** `var/recap.db`, `sqlite:var/recap.db`, `file:var/recap.db` or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  if (dialectOf(databaseUrl) === 'postgres') throw new SqliteOnlyError(`DATABASE_URL is a PostgreSQL URL, not a SQLite path`);
  const path = databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new Error(`DATABASE_URL "${databaseUrl}" is neither a SQLite path nor a postgres:// URL`);
  }
  return path;
}

/** DATABASE_URL as messages show it: a SQLite path as it is, a PostgreSQL URL without its password. */
export function databaseLabel(databaseUrl: string): string {
  if (dialectOf(databaseUrl) === 'sqlite') return databaseUrl;
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.href;
}

/** The folder for files kept beside the database (the demo's secret and previews): the SQLite file's, or var/. */
export function filesFolder(databaseUrl: string): string {
  return dialectOf(databaseUrl) === 'postgres' ? 'var' : dirname(databaseUrl);
}

export function openDb(databaseUrl: string): Db {
  return dialectOf(databaseUrl) === 'postgres' ? openPostgres(databaseUrl) : openSqlite(databaseUrl);
}

function openSqlite(databaseUrl: string): Db {
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

// PostgreSQL type ids (pg_type.oid) whose JavaScript values must match what SQLite gives.
const OID = { bool: 16, int8: 20, numeric: 1700, timestamptz: 1184 } as const;

/**
 * The pool's own type parsers (pg's global ones stay untouched): a timestamptz reads as the ISO
 * string the app wrote (`toISOString()`, which sorts and compares as text), count(*) and sum()
 * (int8) and numeric as numbers, and a boolean as 1 or 0, the flags' values in SQLite.
 */
const sameValuesAsSqlite: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, format);
    switch (oid) {
      case OID.timestamptz: {
        const parseDate = pg.types.getTypeParser(OID.timestamptz, 'text');
        return (value: string) => (parseDate(value) as Date).toISOString();
      }
      case OID.int8:
      case OID.numeric:
        return Number;
      case OID.bool:
        return (value: string) => (value === 't' ? 1 : 0);
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function openPostgres(databaseUrl: string): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, types: sameValuesAsSqlite, max: 10 });
  // An idle connection the server closed (a restart, an administrator) is dropped by the pool and the
  // next query opens another; without a listener the 'error' event would end the process.
  pool.on('error', () => {});
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [withoutNuls] });
}

/**
 * PostgreSQL's text cannot hold U+0000, which SQLite stores as it is: a NUL in an imported field
 * would fail the whole statement. Every output shows a control character as a space
 * (src/plain-text.ts), so a NUL in a string parameter is stored as one.
 */
const nulAsSpace = (value: unknown) => (typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', ' ') : value);
class NulAsSpace extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return { ...node, value: nulAsSpace(node.value) };
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...node, values: node.values.map(nulAsSpace) };
  }
}
const nulsAsSpaces = new NulAsSpace();
const withoutNuls: KyselyPlugin = {
  transformQuery: (args) => nulsAsSpaces.transformNode(args.node),
  transformResult: async (args) => args.result,
};

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
