// Subscribers and their membership of a list. Imports and the CLI go through `upsertSubscriber`,
// which never re-subscribes someone who left: consent withdrawn stays withdrawn.
import { z } from 'zod';
import type { Db } from '../../db/connect.ts';
import { FORMATS, SUBSCRIBER_STATUSES, type SubscriberStatus } from '../../db/schema.ts';
import { topicSchema } from '../articles/article.ts';
import { hashEmail, headerSafe, normalizeEmail } from './email.ts';
import { MAX_FIRST_NAME_LENGTH } from './first-name.ts';
import { timeZoneSchema } from './time-zone.ts';

/** Longest name we store; the size budget of an email assumes it. */
export const MAX_NAME_LENGTH = 100;

export interface Consent {
  at: string | null;
  source: string | null;
  ip: string | null;
  userAgent: string | null;
  confirmedAt: string | null;
}

const instant = z.iso
  .datetime({ offset: true, error: 'is not an ISO-8601 date-time' })
  .or(z.iso.date({ error: 'is not a date' }))
  .transform((s) => new Date(s).toISOString());

/** A name as stored: one plain line of at most `max` characters; empty is none. */
function storedName(max: number) {
  return z
    .string()
    .transform((n) => headerSafe(n))
    .pipe(z.string().max(max, `longer than ${max} characters`))
    .nullish()
    .transform((n) => n || null);
}

/** A format by its name, in any case: full or brief. */
export const formatNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(FORMATS, { error: (issue) => `must be full or brief, not "${headerSafe(String(issue.input)).slice(0, 40)}"` }));

export const subscriberInputSchema = z.object({
  email: z.string().transform((raw, ctx) => {
    const email = normalizeEmail(raw);
    if (!email) {
      ctx.addIssue({ code: 'custom', message: `"${headerSafe(raw).slice(0, 80)}" is not a valid email address` });
      return z.NEVER;
    }
    return email;
  }),
  name: storedName(MAX_NAME_LENGTH),
  /** The name to greet by, when it is not what the name would give (src/audience/first-name.ts). */
  firstName: storedName(MAX_FIRST_NAME_LENGTH),
  /** The zone of their morning for RECAP_LOCAL_SEND_TIME; none: the list's. */
  timeZone: timeZoneSchema.nullish(),
  /** Full or brief; left out (or empty): the stored one, for a new subscriber the full digest. */
  format: z
    .string()
    .nullish()
    .transform((f) => f?.trim() || undefined)
    .pipe(formatNameSchema.optional()),
  topics: z.array(topicSchema).max(30).optional().transform((ts) => (ts ? [...new Set(ts)] : undefined)),
  attributes: z.record(z.string().min(1).max(60), z.string().max(500)).optional(),
  status: z.enum(SUBSCRIBER_STATUSES),
  consent: z
    .object({
      at: instant.nullish(),
      source: z.string().max(40).nullish(),
      ip: z.union([z.ipv4(), z.ipv6()]).nullish(),
      userAgent: z.string().max(500).nullish(),
      confirmedAt: instant.nullish(),
    })
    .optional(),
});
export type ValidSubscriber = z.output<typeof subscriberInputSchema>;

export type UpsertResult = 'inserted' | 'updated' | 'unchanged';

/**
 * Inserts or updates a subscriber and makes them a member of the list; an identical re-import
 * writes nothing. Run inside a transaction.
 */
export async function upsertSubscriber(db: Db, listId: number, input: ValidSubscriber, now: Date): Promise<UpsertResult> {
  const at = now.toISOString();
  const consent = input.consent ?? {};
  const existing = await db.selectFrom('subscribers').select(['id', 'status', 'name', 'first_name', 'format', 'time_zone']).where('email', '=', input.email).executeTakeFirst();
  if (!existing) {
    const { id } = await db
      .insertInto('subscribers')
      .values({
        email: input.email,
        email_hash: hashEmail(input.email),
        name: input.name ?? null,
        first_name: input.firstName ?? null,
        time_zone: input.timeZone ?? null,
        ...(input.format ? { format: input.format } : {}),
        status: input.status,
        created_at: consent.at ?? at,
        updated_at: at,
        ...confirmationFields(consent),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // An import from another provider carries its bounces and complaints: keep them suppressed.
    if (input.status === 'bounced' || input.status === 'complained') {
      await db
        .insertInto('suppressions')
        .values({ email_hash: hashEmail(input.email), reason: input.status, created_at: at })
        .onConflict((oc) => oc.column('email_hash').doNothing())
        .execute();
    }
    if (input.topics) await setTopics(db, id, input.topics);
    await setAttributes(db, id, input.attributes ?? {});
    await joinList(db, listId, id, input.status === 'unsubscribed' ? 'unsubscribed' : 'active', at);
    await db
      .insertInto('events')
      .values({ subscriber_id: id, edition_id: null, type: 'subscribed', data: JSON.stringify({ source: consent.source ?? null, listId }), created_at: at })
      .execute();
    return 'inserted';
  }

  const id = existing.id;
  // Only a pending address can be promoted by an import; unsubscribed, bounced and complained stay so.
  const status = existing.status === 'pending' && input.status !== 'pending' ? input.status : existing.status;
  const confirmation = existing.status === 'pending' && status !== 'pending' && consent.confirmedAt ? confirmationFields(consent) : {};
  // A name, first name, format or time zone left out (or empty) keeps the stored one.
  const names = {
    ...(input.name && input.name !== existing.name ? { name: input.name } : {}),
    ...(input.firstName && input.firstName !== existing.first_name ? { first_name: input.firstName } : {}),
    ...(input.timeZone && input.timeZone !== existing.time_zone ? { time_zone: input.timeZone } : {}),
    ...(input.format && input.format !== existing.format ? { format: input.format } : {}),
  };
  let changed = status !== existing.status || Object.keys(confirmation).length > 0 || Object.keys(names).length > 0;
  if (input.topics) {
    const current = await db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', id).orderBy('topic').execute();
    if (current.map((t) => t.topic).join(',') !== [...input.topics].sort().join(',')) {
      await setTopics(db, id, input.topics);
      changed = true;
    }
  }
  if (await setAttributes(db, id, input.attributes ?? {})) changed = true;
  if (await joinList(db, listId, id, 'active', at)) changed = true;
  if (!changed) return 'unchanged';
  await db.updateTable('subscribers').set({ ...names, status, updated_at: at, ...confirmation }).where('id', '=', id).execute();
  return 'updated';
}

/** Adds the membership if there is none (an existing one, even unsubscribed, is left alone). */
async function joinList(db: Db, listId: number, subscriberId: number, status: 'active' | 'unsubscribed', at: string): Promise<boolean> {
  const result = await db
    .insertInto('list_members')
    .values({ list_id: listId, subscriber_id: subscriberId, status, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Sets the given attributes (others are kept); true when any value changed. */
async function setAttributes(db: Db, subscriberId: number, attributes: Record<string, string>): Promise<boolean> {
  const names = Object.keys(attributes);
  if (names.length === 0) return false;
  const current = await db.selectFrom('subscriber_attributes').select(['name', 'value']).where('subscriber_id', '=', subscriberId).where('name', 'in', names).execute();
  const known = new Map(current.map((a) => [a.name, a.value]));
  let changed = false;
  for (const [name, value] of Object.entries(attributes)) {
    if (known.get(name) === value) continue;
    await db
      .insertInto('subscriber_attributes')
      .values({ subscriber_id: subscriberId, name, value })
      .onConflict((oc) => oc.columns(['subscriber_id', 'name']).doUpdateSet({ value }))
      .execute();
    changed = true;
  }
  return changed;
}

function confirmationFields(consent: Partial<Consent>) {
  return {
    consent_at: consent.at ?? null,
    consent_source: consent.source ?? null,
    consent_ip: consent.ip ?? null,
    consent_user_agent: consent.userAgent ?? null,
    confirmed_at: consent.confirmedAt ?? null,
  };
}

export async function setTopics(db: Db, subscriberId: number, topics: string[]): Promise<void> {
  await db.deleteFrom('subscriber_topics').where('subscriber_id', '=', subscriberId).execute();
  if (topics.length > 0) {
    await db.insertInto('subscriber_topics').values(topics.map((topic) => ({ subscriber_id: subscriberId, topic }))).execute();
  }
}

export interface SubscriberSummary {
  id: number;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  confirmed: boolean;
  memberStatus: string | null;
  topics: string[];
  createdAt: string;
}

/** One page of a list's subscribers in id order (`after` is the last id of the previous page). */
export async function subscribersPage(db: Db, listId: number, after: number, limit: number): Promise<SubscriberSummary[]> {
  const rows = await db
    .selectFrom('subscribers as s')
    .innerJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').on('m.list_id', '=', listId))
    .select(['s.id', 's.email', 's.name', 's.status', 's.confirmed_at', 's.created_at', 'm.status as member_status'])
    .where('s.id', '>', after)
    .orderBy('s.id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const topics = await db
    .selectFrom('subscriber_topics')
    .select(['subscriber_id', 'topic'])
    .where('subscriber_id', 'in', rows.map((r) => r.id))
    .orderBy('topic')
    .execute();
  const byId = new Map<number, string[]>();
  for (const t of topics) byId.set(t.subscriber_id, [...(byId.get(t.subscriber_id) ?? []), t.topic]);
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    status: r.status,
    confirmed: r.confirmed_at !== null,
    memberStatus: r.member_status,
    topics: byId.get(r.id) ?? [],
    createdAt: r.created_at,
  }));
}
