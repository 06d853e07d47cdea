// `recap db copy`: moves a Recap database to another one (SQLite to PostgreSQL and back, or to
// another file), then proves the copy. The target is migrated to the source's migration level and
// must hold nothing but what that writes; every table is copied in one transaction on the target,
// in foreign-key order, a page at a time (memory stays flat on any list); PostgreSQL's identity
// sequences are moved past the copied ids. Then each table is counted and hashed on both sides the
// same way (rows in primary-key order, values normalized), and any difference is reported.
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { dialectOfDb } from './connect.ts';
import { appliedMigrations, migrateTo } from './migrate.ts';
import { WEEKLY_AI_RECAP } from './migrations/0001_initial.ts';

/**
 * Every table, parents before children (a row's foreign keys point at tables earlier in the list),
 * with its primary key. test/db/copy.test.ts checks this against the migrated schema.
 */
export const TABLES: ReadonlyArray<{ name: string; key: readonly string[] }> = [
  { name: 'lists', key: ['id'] },
  { name: 'articles', key: ['id'] },
  { name: 'article_topics', key: ['article_id', 'topic'] },
  { name: 'subscribers', key: ['id'] },
  { name: 'subscriber_topics', key: ['subscriber_id', 'topic'] },
  { name: 'subscriber_attributes', key: ['subscriber_id', 'name'] },
  { name: 'list_members', key: ['list_id', 'subscriber_id'] },
  { name: 'segments', key: ['id'] },
  { name: 'editions', key: ['id'] },
  { name: 'edition_articles', key: ['edition_id', 'position'] },
  { name: 'edition_items', key: ['id'] },
  { name: 'link_checks', key: ['edition_id', 'url'] },
  { name: 'variants', key: ['id'] },
  { name: 'deliveries', key: ['id'] },
  { name: 'events', key: ['id'] },
  { name: 'suppressions', key: ['id'] },
  { name: 'leases', key: ['name'] },
  { name: 'bounces', key: ['id'] },
  { name: 'schedule_runs', key: ['list_id', 'week'] },
  { name: 'feeds', key: ['url'] },
  { name: 'message_clicks', key: ['edition_id', 'message_tag', 'article_id'] },
  { name: 'edition_topic_clicks', key: ['edition_id', 'topic'] },
  { name: 'subject_tests', key: ['edition_id'] },
  { name: 'subscription_requests', key: ['id'] },
  { name: 'rate_limits', key: ['key'] },
  { name: 'send_pacing', key: ['name'] },
  { name: 'send_quota_use', key: ['minute'] },
  { name: 'domain_pauses', key: ['domain'] },
];

/** Rows read per query (and held at once). */
export const PAGE_ROWS = 1000;

/** Refused before anything was written: the target stays as it was. */
export class CopyRefusedError extends Error {
  override name = 'CopyRefusedError';
}

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  match: boolean;
}

export interface CopyProgress {
  /** Called after each page with the table's rows copied so far and its total. */
  (table: string, done: number, total: number): void;
}

type AnyDb = Kysely<any>;
type Row = Record<string, unknown>;

interface TableShape {
  name: string;
  key: readonly string[];
  /** In the order the checksum reads them (by name). */
  columns: string[];
  /** Key columns holding text: ordered byte-wise on PostgreSQL, as SQLite orders them. */
  textKeys: Set<string>;
  /** An id the database assigns (identity or autoincrement). */
  generated: string[];
}

/**
 * Tables a later migration dropped, which a database at an older level still has: left alone.
 * (0019 moved clicks' rows into message_clicks; rows in it come with editions, so such a target is
 * not empty anyway.)
 */
const DROPPED = new Set(['clicks']);

async function shapes(db: AnyDb): Promise<Map<string, TableShape>> {
  const tables = (await db.introspection.getTables()).filter((t) => !DROPPED.has(t.name));
  const known = new Map(TABLES.map((t) => [t.name, t.key]));
  const unknown = tables.map((t) => t.name).filter((n) => !known.has(n));
  if (unknown.length > 0) throw new CopyRefusedError(`table ${unknown.join(', ')} is not known to \`recap db copy\` (db/copy.ts TABLES)`);
  return new Map(
    tables.map((t) => {
      const key = known.get(t.name) as readonly string[];
      const textKeys = new Set(t.columns.filter((c) => key.includes(c.name) && /char|text/i.test(c.dataType)).map((c) => c.name));
      const generated = t.columns.filter((c) => c.isAutoIncrementing).map((c) => c.name);
      return [t.name, { name: t.name, key, columns: t.columns.map((c) => c.name).sort(), textKeys, generated }];
    }),
  );
}

/** The tables both sides read, in TABLES' order. */
function inOrder(shapes: Map<string, TableShape>): TableShape[] {
  return TABLES.map((t) => shapes.get(t.name)).filter((s): s is TableShape => s !== undefined);
}

/** Key columns as ORDER BY and the keyset condition use them: text in byte order on PostgreSQL (SQLite's BINARY). */
function keyRefs(db: AnyDb, shape: TableShape) {
  const pg = dialectOfDb(db) === 'postgres';
  return shape.key.map((k) => (pg && shape.textKeys.has(k) ? sql`${sql.ref(k)} collate "C"` : sql.ref(k)));
}

/** The table's rows in primary-key order, a page at a time (keyset pagination: each page one indexed read). */
async function* pages(db: AnyDb, shape: TableShape, pageRows: number = PAGE_ROWS): AsyncGenerator<Row[]> {
  const refs = keyRefs(db, shape);
  let last: unknown[] | undefined;
  for (;;) {
    let query = db.selectFrom(shape.name).selectAll();
    if (last) {
      const after = last;
      query = query.where(sql<boolean>`(${sql.join(refs)}) > (${sql.join(after.map((v) => sql.val(v)))})`);
    }
    for (const ref of refs) query = query.orderBy(ref);
    const rows: Row[] = await query.limit(pageRows).execute();
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < pageRows) return;
    const end = rows[rows.length - 1] as Row;
    last = shape.key.map((k) => end[k]);
  }
}

async function countRows(db: AnyDb, table: string): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A value as the checksum sees it: an instant in its canonical ISO form (a timestamptz read back
 * and the text SQLite keeps hash the same), anything else as it is.
 */
function normalized(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && ISO_INSTANT.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return value;
}

/** sha256 over the table's rows in key order, each a JSON array of its normalized values by column name. */
async function tableChecksum(db: AnyDb, shape: TableShape, pageRows?: number): Promise<{ rows: number; checksum: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const page of pages(db, shape, pageRows)) {
    for (const row of page) hash.update(`${JSON.stringify(shape.columns.map((c) => normalized(row[c] ?? null)))}\n`);
    rows += page.length;
  }
  return { rows, checksum: hash.digest('hex') };
}

/** Counts and checksums of every table on both sides; a table one side lacks, or has other columns in, does not match. */
export async function compareDatabases(source: AnyDb, target: AnyDb, pageRows?: number): Promise<TableCheck[]> {
  const [from, to] = await Promise.all([shapes(source), shapes(target)]);
  const checks: TableCheck[] = [];
  for (const t of TABLES) {
    const a = from.get(t.name);
    const b = to.get(t.name);
    if (!a && !b) continue;
    const sameColumns = a !== undefined && b !== undefined && a.columns.join() === b.columns.join();
    const left = a ? await tableChecksum(source, a, pageRows) : { rows: 0, checksum: 'missing' };
    const right = b ? await tableChecksum(target, b, pageRows) : { rows: 0, checksum: 'missing' };
    checks.push({ table: t.name, sourceRows: left.rows, targetRows: right.rows, sourceChecksum: left.checksum, targetChecksum: right.checksum, match: sameColumns && left.rows === right.rows && left.checksum === right.checksum });
  }
  return checks;
}

/** What `db migrate` writes into a new database; a target holding only this counts as empty. */
const SEEDED = { lists: (row: Row) => row.slug === WEEKLY_AI_RECAP.slug } as Record<string, (row: Row) => boolean>;

/** Non-empty tables of the target beyond what its migrations wrote, as "name (N rows)". */
async function contents(db: AnyDb, tables: TableShape[]): Promise<string[]> {
  const found: string[] = [];
  for (const t of tables) {
    const n = await countRows(db, t.name);
    if (n === 0) continue;
    const seeded = SEEDED[t.name];
    if (seeded && n === 1) {
      const rows = await db.selectFrom(t.name).selectAll().execute();
      if (rows.every(seeded)) continue;
    }
    found.push(`${t.name} (${n} ${n === 1 ? 'row' : 'rows'})`);
  }
  return found;
}

async function bringToSourceLevel(source: AnyDb, target: AnyDb): Promise<string> {
  const level = await appliedMigrations(source);
  const last = level[level.length - 1];
  if (!last) throw new CopyRefusedError('the source has no migrations applied: it is not a Recap database (run `recap db migrate` on it first)');
  const there = await appliedMigrations(target);
  const ahead = there.filter((m) => !level.includes(m));
  if (ahead.length > 0) throw new CopyRefusedError(`the target has migrations the source has not (${ahead.join(', ')}): run \`recap db migrate\` on the source first`);
  await migrateTo(target, last);
  return last;
}

/** Rows per INSERT: within both databases' limits on parameters (SQLite 32766, PostgreSQL 65535). */
function insertRows(columns: number): number {
  return Math.max(1, Math.min(500, Math.floor(30_000 / columns)));
}

/**
 * Copies `source` into `target` (migrated first, to the source's level) and verifies it. Throws
 * CopyRefusedError, having written no row, when the target holds data; any failure while copying
 * rolls the whole copy back.
 */
export async function copyDatabase(source: AnyDb, target: AnyDb, options: { progress?: CopyProgress; pageRows?: number } = {}): Promise<{ migration: string; checks: TableCheck[] }> {
  // Looked at before anything is written to it, migrations included.
  const held = await contents(target, inOrder(await shapes(target)));
  if (held.length > 0) throw new CopyRefusedError(`the target is not empty: ${held.join(', ')}. Copy only into a new database`);
  const migration = await bringToSourceLevel(source, target);
  const from = inOrder(await shapes(source));
  const to = await shapes(target);

  await target.transaction().execute(async (trx) => {
    // What the target's own migrations wrote (the first list) gives way to the source's rows.
    for (const table of Object.keys(SEEDED)) await trx.deleteFrom(table).execute();
    for (const shape of from) {
      const total = await countRows(source, shape.name);
      let done = 0;
      options.progress?.(shape.name, done, total);
      for await (const page of pages(source, shape, options.pageRows)) {
        const size = insertRows(shape.columns.length);
        for (let i = 0; i < page.length; i += size) await trx.insertInto(shape.name).values(page.slice(i, i + size)).execute();
        done += page.length;
        options.progress?.(shape.name, done, total);
      }
    }
    if (dialectOfDb(trx) === 'postgres') {
      // Identity columns were given explicit values: their sequences start after the largest one.
      for (const shape of to.values()) {
        for (const column of shape.generated) {
          await sql`select setval(pg_get_serial_sequence(${shape.name}, ${column}), coalesce(max(${sql.ref(column)}), 0) + 1, false) from ${sql.table(shape.name)}`.execute(trx);
        }
      }
    }
    // SQLite moves an AUTOINCREMENT table's sequence past every id inserted, given or not.
  });

  return { migration, checks: await compareDatabases(source, target, options.pageRows) };
}
