// One delivery row per (edition, subscriber), created in a single INSERT … SELECT: the audience
// never passes through memory, and re-running adds only subscribers who have no row yet.
import { sql } from 'kysely';
import type { Db } from '../../db/connect.ts';
import { eligibleMembers, type SegmentRules } from '../audience/segments.ts';

export async function enqueueDeliveries(db: Db, editionId: number, listId: number, rules: SegmentRules | undefined, now: Date): Promise<number> {
  const at = now.toISOString();
  const result = await db
    .insertInto('deliveries')
    .columns(['edition_id', 'subscriber_id', 'status', 'attempts', 'queued_at', 'updated_at'])
    .expression(
      eligibleMembers(db, listId, rules).select([
        sql.val(editionId).as('edition_id'),
        's.id',
        sql.val('queued').as('status'),
        sql.val(0).as('attempts'),
        sql.val(at).as('queued_at'),
        sql.val(at).as('updated_at'),
      ]),
    )
    .onConflict((oc) => oc.columns(['edition_id', 'subscriber_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}
