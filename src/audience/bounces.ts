// What a bounce does to an address: a hard bounce suppresses it, a complaint marks the subscriber
// complained (never mailed again), a soft bounce counts and suppresses after a streak of editions,
// and a policy rejection is recorded and changes nothing about the address.
import type { Db } from '../../db/connect.ts';
import type { BounceKind } from '../../db/schema.ts';
import type { BounceReason, Classification } from '../delivery/classify.ts';
import { hashEmail, normalizeEmail } from './email.ts';

export interface BounceInput {
  email: string;
  editionId: number | null;
  kind: BounceKind;
  reason: BounceReason;
  status: string | null;
  diagnostic: string | null;
  source: 'smtp' | 'dsn' | 'arf' | 'webhook';
}

export function bounceKind(c: Classification): BounceKind | null {
  return c.class === 'transient' ? null : c.class;
}

export type BounceEffect = 'suppressed' | 'complained' | 'counted' | 'recorded';

/** Records a bounce and applies what it means; runs in the caller's transaction if given one. */
export async function recordBounce(db: Db, bounce: BounceInput, softLimit: number, now: Date): Promise<BounceEffect> {
  const at = now.toISOString();
  const emailHash = hashEmail(normalizeEmail(bounce.email) ?? bounce.email.trim().toLowerCase());
  const subscriber = await db.selectFrom('subscribers').select(['id', 'status']).where('email_hash', '=', emailHash).executeTakeFirst();
  await db
    .insertInto('bounces')
    .values({
      subscriber_id: subscriber?.id ?? null,
      edition_id: bounce.editionId,
      email_hash: emailHash,
      kind: bounce.kind,
      reason: bounce.reason,
      status_code: bounce.status,
      diagnostic: bounce.diagnostic?.slice(0, 1000) ?? null,
      source: bounce.source,
      created_at: at,
    })
    .execute();

  const suppress = async (why: string) => {
    await db.insertInto('suppressions').values({ email_hash: emailHash, reason: why, created_at: at }).onConflict((oc) => oc.column('email_hash').doNothing()).execute();
  };
  const event = async (type: string) => {
    if (!subscriber) return;
    await db
      .insertInto('events')
      .values({ subscriber_id: subscriber.id, edition_id: bounce.editionId, type, data: JSON.stringify({ reason: bounce.reason, status: bounce.status, source: bounce.source }), created_at: at })
      .execute();
  };

  switch (bounce.kind) {
    case 'policy':
      return 'recorded';
    case 'complaint':
      await suppress('complaint');
      if (subscriber) await db.updateTable('subscribers').set({ status: 'complained', updated_at: at }).where('id', '=', subscriber.id).execute();
      await event('complained');
      return 'complained';
    case 'hard':
      await suppress(`hard bounce: ${bounce.reason}`);
      if (subscriber && subscriber.status === 'active') await db.updateTable('subscribers').set({ status: 'bounced', updated_at: at }).where('id', '=', subscriber.id).execute();
      await event('bounced');
      return 'suppressed';
    case 'soft': {
      await event('soft_bounced');
      if (!subscriber || !(await softStreak(db, subscriber.id, softLimit))) return 'counted';
      await suppress(`soft bounces in ${softLimit} editions in a row`);
      if (subscriber.status === 'active') await db.updateTable('subscribers').set({ status: 'bounced', updated_at: at }).where('id', '=', subscriber.id).execute();
      return 'suppressed';
    }
  }
}

/** True when each of the subscriber's last `limit` editions soft-bounced. */
async function softStreak(db: Db, subscriberId: number, limit: number): Promise<boolean> {
  const recent = await db
    .selectFrom('deliveries')
    .select('edition_id')
    .where('subscriber_id', '=', subscriberId)
    .where('status', 'in', ['submitted', 'failed'])
    .orderBy('edition_id', 'desc')
    .limit(limit)
    .execute();
  if (recent.length < limit) return false;
  const bounced = await db
    .selectFrom('bounces')
    .select('edition_id')
    .distinct()
    .where('subscriber_id', '=', subscriberId)
    .where('kind', '=', 'soft')
    .where('edition_id', 'in', recent.map((r) => r.edition_id))
    .execute();
  return bounced.length === limit;
}
