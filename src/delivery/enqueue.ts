// One delivery row per (edition, subscriber), created in a single INSERT … SELECT: the audience
// never passes through memory, and re-running adds only subscribers who have no row yet.
//
// Rows are numbered grouped by the variant each reader gets (the edition's topics they follow),
// so a send, which claims in id order, works through one variant after another and needs only a
// few message templates at a time, however many variants the audience needs. With local send time
// (waves.ts) each row also gets the instant its reader's wave may go, and the waves come first in
// the numbering: a claim never reads past rows held back for a later wave.
import { sql } from 'kysely';
import { selectedValue } from '../../db/column-types.ts';
import type { Db } from '../../db/connect.ts';
import { eligibleMembers, type SegmentRules } from '../audience/segments.ts';
import type { Config } from '../config.ts';
import { type Edition, editionTopics } from '../editions/editions.ts';
import { notBeforeExpression } from './waves.ts';

/** Topics beyond this many do not take part in the grouping (a 64-bit integer holds the set). */
const GROUPED_TOPICS = 62;

export async function enqueueDeliveries(db: Db, edition: Edition, rules: SegmentRules | undefined, now: Date, config: Pick<Config, 'localSendTime' | 'timeZone'>): Promise<number> {
  const at = now.toISOString();
  const notBefore = await notBeforeExpression(db, edition, config, now);
  const grouped = [...editionTopics(edition)].sort().slice(0, GROUPED_TOPICS);
  // The set of the edition's topics a reader follows, as bits of an integer: plain SQL, any dialect.
  const variantBits = grouped.length
    ? sql<number>`(select coalesce(sum(case t.topic ${sql.join(grouped.map((t, i) => sql`when ${t} then ${2 ** i}`), sql` `)} else 0 end), 0) from subscriber_topics t where t.subscriber_id = s.id)`
    : sql<number>`0`;
  const result = await db
    .insertInto('deliveries')
    .columns(['edition_id', 'subscriber_id', 'status', 'attempts', 'queued_at', 'updated_at', ...(notBefore ? (['not_before'] as const) : [])])
    .expression(
      eligibleMembers(db, edition.list.id, rules)
        .select([
          selectedValue(db, edition.row.id, 'integer').as('edition_id'),
          's.id',
          selectedValue(db, 'queued', 'text').as('status'),
          selectedValue(db, 0, 'integer').as('attempts'),
          selectedValue(db, at, 'timestamp').as('queued_at'),
          selectedValue(db, at, 'timestamp').as('updated_at'),
          ...(notBefore ? [notBefore.as('not_before')] : []),
        ])
        .$if(notBefore !== undefined, (q) => q.orderBy(notBefore as NonNullable<typeof notBefore>))
        .orderBy(variantBits)
        .orderBy('s.id'),
    )
    .onConflict((oc) => oc.columns(['edition_id', 'subscriber_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}
