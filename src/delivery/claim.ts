// Which deliveries a send claims next: two queries, each reading an index in order and stopping at
// the batch size, so a claim costs the same however many deliveries are queued. (One query for
// "queued, or deferred and due" ordered by id could follow no index in that order: it sorted every
// queued row again for each batch.)
//   1. Deferred deliveries whose next attempt is due, the longest-waiting first, by
//      deliveries_edition_status_next_attempt. They come first so that a retry never waits behind
//      the rest of a long list and misses its deadline (RECAP_RETRY_DEADLINE_HOURS); each is then
//      deferred further or done, so they cannot hold the queue up for long.
//   2. Queued deliveries in id order, by deliveries_edition_status.
// Recovery after a crash does not depend on this order: it goes by status and claimed_at.
import type { Kysely } from 'kysely';
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

export function queuedInOrder(db: Kysely<Database>, editionId: number, limit: number) {
  return db.selectFrom('deliveries').select('id').where('edition_id', '=', editionId).where('status', '=', 'queued').orderBy('id').limit(limit);
}

/** Up to `size` ids to claim at `at`: due deferred deliveries first, then queued ones. */
export async function claimableIds(db: Kysely<Database>, editionId: number, size: number, at: string): Promise<number[]> {
  const deferred = await dueDeferred(db, editionId, at, size).execute();
  const queued = deferred.length < size ? await queuedInOrder(db, editionId, size - deferred.length).execute() : [];
  return [...deferred, ...queued].map((r) => r.id);
}
