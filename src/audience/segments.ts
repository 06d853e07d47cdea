// Segments: saved rules that pick subscribers of a list. The rules compile to SQL (EXISTS
// subqueries, no SQLite-only functions), so a segment of a million subscribers never leaves the
// database; the edition's audience is a segment's members who may receive mail.
import { type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/connect.ts';
import { type Database, type MemberStatus, SUBSCRIBER_STATUSES, type SegmentRow } from '../../db/schema.ts';
import { topicSchema } from '../articles/article.ts';
import { NotFoundError } from './lists.ts';

const day = z.iso.date({ error: 'is not a date such as 2026-01-31' });

export const segmentRulesSchema = z.object({
  /** Follows at least one of these topics. */
  topics: z.array(topicSchema).min(1).optional(),
  /** Subscriber status is one of these. */
  status: z.array(z.enum(SUBSCRIBER_STATUSES)).min(1).optional(),
  /** Every attribute equals the given value (attributes come from CSV columns). */
  attributes: z.record(z.string().min(1), z.string()).optional(),
  /** Signed up on or after / before this date (UTC). */
  signedUpFrom: day.optional(),
  signedUpBefore: day.optional(),
});
export type SegmentRules = z.output<typeof segmentRulesSchema>;

type SubscriberQuery = SelectQueryBuilder<Database & { s: Database['subscribers'] }, 's', object>;
type Eb = ExpressionBuilder<Database & { s: Database['subscribers'] }, 's'>;

/** Subscribers of the list matching the rules, as `s`; with `memberStatus`, only such memberships. */
export function segmentMembers(db: Db, listId: number, rules: SegmentRules = {}, memberStatus?: MemberStatus): SubscriberQuery {
  let q = db.selectFrom('subscribers as s').where((eb: Eb) => {
    let member = eb.selectFrom('list_members as m').select('m.subscriber_id').whereRef('m.subscriber_id', '=', 's.id').where('m.list_id', '=', listId);
    if (memberStatus) member = member.where('m.status', '=', memberStatus);
    return eb.exists(member);
  });
  if (rules.topics) {
    const topics = rules.topics;
    q = q.where((eb: Eb) =>
      eb.exists(eb.selectFrom('subscriber_topics as t').select('t.subscriber_id').whereRef('t.subscriber_id', '=', 's.id').where('t.topic', 'in', topics)),
    );
  }
  if (rules.status) q = q.where('s.status', 'in', rules.status);
  for (const [name, value] of Object.entries(rules.attributes ?? {})) {
    q = q.where((eb: Eb) =>
      eb.exists(
        eb
          .selectFrom('subscriber_attributes as a')
          .select('a.subscriber_id')
          .whereRef('a.subscriber_id', '=', 's.id')
          .where('a.name', '=', name)
          .where('a.value', '=', value),
      ),
    );
  }
  if (rules.signedUpFrom) q = q.where('s.created_at', '>=', new Date(rules.signedUpFrom).toISOString());
  if (rules.signedUpBefore) q = q.where('s.created_at', '<', new Date(rules.signedUpBefore).toISOString());
  return q;
}

/**
 * Who receives an edition: active, confirmed, unpaused subscribers whose membership of the list is
 * active and whose address is not suppressed.
 */
export function eligibleMembers(db: Db, listId: number, rules: SegmentRules = {}): SubscriberQuery {
  return segmentMembers(db, listId, rules, 'active')
    .where('s.status', '=', 'active')
    .where('s.confirmed_at', 'is not', null)
    .where('s.paused_at', 'is', null)
    .where((eb: Eb) =>
      eb.not(eb.exists(eb.selectFrom('suppressions as x').select('x.id').whereRef('x.email_hash', '=', 's.email_hash'))),
    );
}

export async function createSegment(db: Db, input: { name: string; listId: number; rules: SegmentRules }, now: Date): Promise<SegmentRow> {
  const existing = await db.selectFrom('segments').select('id').where('name', '=', input.name).executeTakeFirst();
  if (existing) throw new Error(`a segment named "${input.name}" already exists`);
  return db
    .insertInto('segments')
    .values({ name: input.name, list_id: input.listId, rules: JSON.stringify(input.rules), created_at: now.toISOString() })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findSegment(db: Db, name: string): Promise<SegmentRow & { parsedRules: SegmentRules }> {
  const segment = await db.selectFrom('segments').selectAll().where('name', '=', name).executeTakeFirst();
  if (!segment) {
    const known = await db.selectFrom('segments').select('name').orderBy('name').execute();
    throw new NotFoundError(`no segment "${name}"${known.length ? `; segments: ${known.map((s) => s.name).join(', ')}` : ''}`);
  }
  return { ...segment, parsedRules: segmentRulesSchema.parse(JSON.parse(segment.rules)) };
}

export async function listSegments(db: Db): Promise<SegmentRow[]> {
  return db.selectFrom('segments').selectAll().orderBy('name').execute();
}

export async function countQuery(query: SubscriberQuery): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface AudienceBreakdown {
  members: number;
  eligible: number;
  /** Why the others receive nothing: "pending", "unsubscribed", "unconfirmed", "left the list", "suppressed". */
  excluded: Record<string, number>;
}

/** Members of the list (or a segment) and why those who receive nothing are left out. */
export async function audienceBreakdown(db: Db, listId: number, rules: SegmentRules = {}): Promise<AudienceBreakdown> {
  const rows = await segmentMembers(db, listId, rules)
    .innerJoin('list_members as lm', (j) => j.onRef('lm.subscriber_id', '=', 's.id').on('lm.list_id', '=', listId))
    .select((eb) => [
      's.status',
      'lm.status as member_status',
      sql<number>`case when s.confirmed_at is null then 1 else 0 end`.as('unconfirmed'),
      sql<number>`case when s.paused_at is null then 0 else 1 end`.as('paused'),
      sql<number>`case when ${eb.exists(eb.selectFrom('suppressions as x').select('x.id').whereRef('x.email_hash', '=', 's.email_hash'))} then 1 else 0 end`.as('suppressed'),
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(['s.status', 'lm.status', 'unconfirmed', 'paused', 'suppressed'])
    .execute();
  const result: AudienceBreakdown = { members: 0, eligible: 0, excluded: {} };
  for (const r of rows) {
    const n = Number(r.n);
    result.members += n;
    const reason =
      r.status !== 'active' ? r.status
      : Number(r.unconfirmed) ? 'unconfirmed'
      : Number(r.paused) ? 'paused'
      : r.member_status !== 'active' ? 'left the list'
      : Number(r.suppressed) ? 'suppressed'
      : null;
    if (reason) result.excluded[reason] = (result.excluded[reason] ?? 0) + n;
    else result.eligible += n;
  }
  return result;
}
