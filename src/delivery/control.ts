// The operator's hand on a sending edition: pause, resume, cancel, and where it stands.
import type { Db } from '../../db/connect.ts';
import type { BounceKind, DeliveryStatus, EditionStatus } from '../../db/schema.ts';
import { countDue, deliveryCounts } from './send.ts';
import type { Edition } from '../editions/editions.ts';

export class TransitionError extends Error {
  override name = 'TransitionError';
}

const ALLOWED: Record<'pause' | 'resume' | 'cancel', EditionStatus[]> = {
  pause: ['draft', 'approved', 'sending'],
  resume: ['paused'],
  cancel: ['draft', 'approved', 'sending', 'paused'],
};

/** Moves the edition; a running sender notices at its next batch and stops. */
export async function controlEdition(db: Db, edition: Edition, action: 'pause' | 'resume' | 'cancel', now: Date, reason?: string): Promise<EditionStatus> {
  if (!ALLOWED[action].includes(edition.row.status)) {
    throw new TransitionError(`edition ${edition.row.week} is ${edition.row.status}; it cannot be ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'cancelled'}`);
  }
  const at = now.toISOString();
  const status: EditionStatus = action === 'pause' ? 'paused' : action === 'resume' ? 'sending' : 'cancelled';
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('editions')
      .set({ status, paused_reason: action === 'pause' ? (reason ?? 'paused by the operator') : null, updated_at: at })
      .where('id', '=', edition.row.id)
      .execute();
    if (action === 'cancel') {
      // What was never tried is accounted for as skipped; what went out stays as it was.
      await trx
        .updateTable('deliveries')
        .set({ status: 'skipped', error: 'edition cancelled', reason: 'cancelled', next_attempt_at: null, updated_at: at })
        .where('edition_id', '=', edition.row.id)
        .where('status', 'in', ['queued', 'deferred'])
        .execute();
    }
  });
  return status;
}

export interface EditionStatusReport {
  status: EditionStatus;
  pausedReason: string | null;
  counts: Record<DeliveryStatus, number>;
  bounces: Record<BounceKind, number>;
  /** Submissions in the last minute, per second. */
  recentRate: number;
  /** Seconds until the due deliveries are through at the recent (or configured) rate; null when idle. */
  secondsLeft: number | null;
  nextRetryAt: string | null;
}

export async function editionStatus(db: Db, edition: Edition, now: Date, configuredRate: number): Promise<EditionStatusReport> {
  const { counts, bounces } = await editionStats(db, edition);
  const minuteAgo = new Date(now.getTime() - 60_000).toISOString();
  const recent = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('edition_id', '=', edition.row.id)
    .where('status', '=', 'submitted')
    .where('submitted_at', '>=', minuteAgo)
    .executeTakeFirstOrThrow();
  const recentRate = Number(recent.n) / 60;
  const next = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('next'))
    .where('edition_id', '=', edition.row.id)
    .where('status', '=', 'deferred')
    .executeTakeFirst();
  // Rows held back (a later wave, the rest of a subject test) are not due.
  const due = (await countDue(db, edition.row.id, now)) + counts.claimed;
  const rate = recentRate > 0 ? recentRate : configuredRate;
  const row = await db.selectFrom('editions').select(['status', 'paused_reason']).where('id', '=', edition.row.id).executeTakeFirstOrThrow();
  return {
    status: row.status,
    pausedReason: row.paused_reason,
    counts,
    bounces,
    recentRate,
    secondsLeft: due > 0 && rate > 0 ? Math.ceil(due / rate) : null,
    nextRetryAt: (next?.next as string | null | undefined) ?? null,
  };
}

export interface EditionStats {
  counts: Record<DeliveryStatus, number>;
  bounces: Record<BounceKind, number>;
  /** Hard and soft bounces. */
  bounced: number;
  complained: number;
  /** Unsubscribed after this edition reached them (any way: one-click, page, preferences). */
  unsubscribedSince: number;
}

export async function editionStats(db: Db, edition: Pick<Edition, 'row'>): Promise<EditionStats> {
  const counts = await deliveryCounts(db, edition.row.id);
  const rows = await db
    .selectFrom('bounces')
    .select((eb) => ['kind', eb.fn.countAll<number>().as('n')])
    .where('edition_id', '=', edition.row.id)
    .groupBy('kind')
    .execute();
  const bounces: Record<BounceKind, number> = { hard: 0, soft: 0, policy: 0, complaint: 0 };
  for (const r of rows) bounces[r.kind] = Number(r.n);
  // Readers who left after this edition reached them (one-click, page or preferences).
  const left = await db
    .selectFrom('events as e')
    .innerJoin('deliveries as d', (j) => j.onRef('d.subscriber_id', '=', 'e.subscriber_id').on('d.edition_id', '=', edition.row.id))
    .select((eb) => eb.fn.count<number>('e.subscriber_id').distinct().as('n'))
    .where('e.type', '=', 'unsubscribed')
    .where('d.submitted_at', 'is not', null)
    .whereRef('e.created_at', '>=', 'd.submitted_at')
    .executeTakeFirst();
  return { counts, bounces, bounced: bounces.hard + bounces.soft, complained: bounces.complaint, unsubscribedSince: Number(left?.n ?? 0) };
}
