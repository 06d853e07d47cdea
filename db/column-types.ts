// Column types the migrations write per database. SQLite keeps the DDL its existing databases were
// made with (text timestamps, integer flags, autoincrement ids); PostgreSQL gets its own types for
// the same columns, and db/connect.ts reads them back as the values SQLite gives (ISO strings, 0/1).
import { type ColumnDefinitionBuilder, type Kysely, type RawBuilder, sql } from 'kysely';
import { dialectOfDb } from './connect.ts';

export function columnTypes(db: Kysely<any>) {
  const pg = dialectOfDb(db) === 'postgres';
  return {
    /** An instant: ISO-8601 UTC text (`toISOString()`) in SQLite, timestamptz in PostgreSQL. */
    timestamp: pg ? 'timestamptz' : 'text',
    /** A double (SQLite's real is 8 bytes; PostgreSQL's real is 4). */
    double: pg ? 'double precision' : 'real',
    /** A yes/no flag, read as 1 or 0 on both. */
    flag: pg ? 'boolean' : 'integer',
    /** A flag's default: SQLite's 0/1, PostgreSQL's false/true. */
    flagDefault: (on: boolean) => (pg ? on : on ? 1 : 0),
    /** An id the database assigns: autoincrement in SQLite, an identity column in PostgreSQL. */
    id: (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()),
  } as const;
}

/**
 * A parameter in the select list of an INSERT … SELECT. PostgreSQL types such a parameter as text
 * once the SELECT has a FROM or ORDER BY, and then refuses it for an integer or timestamptz column,
 * so there it is cast to the column's type; SQLite takes the parameter as it is.
 */
export function selectedValue<T extends string | number>(db: Kysely<any>, value: T, type: 'integer' | 'text' | 'timestamp'): RawBuilder<T> {
  if (dialectOfDb(db) === 'sqlite') return sql.val(value);
  return sql<T>`cast(${value} as ${sql.raw(type === 'timestamp' ? 'timestamptz' : type)})`;
}
