// Which deliveries a send claims next: two queries, each reading an index in order and stopping at
// the batch size, so a claim costs the same however many deliveries are queued. (One query for
// "queued, or deferred and due" ordered by id could follow no index in that order: it sorted every
// queued row again for each batch.)
//   1. Deferred deliveries whose next attempt is due, the longest-waiting first, by
//      deliveries_edition_status_next_attempt. They come first so that a retry never waits behind
//      the rest of a long list and misses its deadline (RECAP_RETRY_DEADLINE_HOURS); each is then
//      deferred further or done, so they cannot hold the queue up for long.
//   2. Queued deliveries in id order, by deliveries_edition_status, but none held back until later
//      (not_before).
// Recovery after a crash does not depend on this order: it goes by status and claimed_at.
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { dialectOfDb } from '../../db/connect.ts';
import type { Database } from '../../db/schema.ts';

export function dueDeferred(db: Kysely<Database>, editionId: number, at: string, limit: number) {
  return db
    .selectFrom('deliveries')
    .select('id')
    .where('edition_id', '=', editionId)
    .where('status', '=', 'deferred')
    .where('next_attempt_at', '<=', at)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit);
}

/** Queued and not held back (not_before: a later wave, or the rest of a subject test). */
export function queuedInOrder(db: Kysely<Database>, editionId: number, at: string, limit: number) {
  return db
    .selectFrom('deliveries')
    .select('id')
    .where('edition_id', '=', editionId)
    .where('status', '=', 'queued')
    .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<=', at)]))
    .orderBy('id')
    .limit(limit);
}

/**
 * Claims up to `size` due rows for the batch `token` at `at`: the due deferred ones first, then
 * queued ones. Two statements, each a write from its start: several senders claim at once, and on
 * SQLite a transaction that read first fails at once ("database is locked") when another wrote
 * meanwhile, where a write waits its turn. On PostgreSQL the rows are chosen FOR UPDATE SKIP LOCKED,
 * so a sender never waits for, nor comes away empty from, rows another is claiming. Each row is
 * re-checked as it is written: a row claimed by another sender meanwhile is not taken.
 */
export async function claimDue(db: Kysely<Database>, editionId: number, size: number, at: string, token: string): Promise<number> {
  const claim = { status: 'claimed' as const, claim_token: token, claimed_at: null, updated_at: at };
  // PostgreSQL may run an IN (subquery) again for each row it joins, and with SKIP LOCKED each run
  // can pick other rows: more than the limit would be claimed. ANY(ARRAY(…)) picks them once.
  const picked = (q: SelectQueryBuilder<Database, 'deliveries', { id: number }>) => (eb: ExpressionBuilder<Database, 'deliveries'>) =>
    dialectOfDb(db) === 'postgres' ? sql<SqlBool>`${eb.ref('id')} = any(array(${q.forUpdate().skipLocked()}))` : eb('id', 'in', q);
  const deferred = await db.updateTable('deliveries').set(claim).where(picked(dueDeferred(db, editionId, at, size))).where('status', '=', 'deferred').executeTakeFirst();
  const n = Number(deferred.numUpdatedRows);
  if (n >= size) return n;
  const queued = await db.updateTable('deliveries').set(claim).where(picked(queuedInOrder(db, editionId, at, size - n))).where('status', '=', 'queued').executeTakeFirst();
  return n + Number(queued.numUpdatedRows);
}
