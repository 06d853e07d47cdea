// A subscriber's own actions, whatever page or endpoint they come through: ask to subscribe,
// confirm, unsubscribe, change preferences, pause, download their data, be erased. Every change is
// recorded as an event, and no answer reveals whether an address was already known.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../db/connect.ts';
import type { Format } from '../../db/schema.ts';
import { topicSchema } from '../articles/article.ts';
import { hashEmail, headerSafe, normalizeEmail } from './email.ts';
import { MAX_FIRST_NAME_LENGTH } from './first-name.ts';
import { formatNameSchema, MAX_NAME_LENGTH, setTopics } from './subscribers.ts';
import { timeZoneSchema } from './time-zone.ts';

/** What a person may type as a name: no markup, no links (names end up in emails we send). */
function typedName(max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((n) => !/[<>]/.test(n), 'must not contain < or >')
    .refine((n) => !/[\u0000-\u001f\u007f-\u009f]/.test(n), 'must not contain control characters')
    .refine((n) => !/(https?:|www\.|:\/\/)/i.test(n), 'must not contain a link')
    .transform((n) => headerSafe(n) || null);
}
export const personNameSchema = typedName(MAX_NAME_LENGTH);
/** The name to greet by; empty: taken from the name. */
export const firstNameSchema = typedName(MAX_FIRST_NAME_LENGTH);

/** The digest's shape a reader chooses: full or brief (any case); empty is the full one. */
export const formatSchema = z
  .string()
  .transform((f) => f.trim() || 'full')
  .pipe(formatNameSchema);

export const emailFieldSchema = z
  .string()
  .max(254, 'must be at most 254 characters')
  .transform((raw, ctx) => {
    const email = normalizeEmail(raw);
    if (!email) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid email address' });
      return z.NEVER;
    }
    return email;
  });

/** The subscribe form and its JSON twin, checked against the topics the list has. */
export function subscribeSchema(knownTopics: ReadonlySet<string>) {
  return z.object({
    email: emailFieldSchema,
    name: personNameSchema.optional().default(''),
    /** The zone of their morning (the form offers the browser's); none: the list's. */
    timeZone: timeZoneSchema.nullish().transform((z) => z ?? null),
    format: formatSchema.optional().default('full'),
    topics: z
      .array(topicSchema.refine((t) => knownTopics.has(t), 'is not a topic of this list'))
      .max(knownTopics.size)
      .default([])
      .transform((ts) => [...new Set(ts)]),
  });
}

export interface RequestMeta {
  source: 'form' | 'api' | 'preferences';
  ip: string | null;
  userAgent: string | null;
}

export type SubscribeOutcome =
  /** Send a confirmation link bound to `nonce`. */
  | { send: true; subscriberId: number; nonce: string }
  /** Nothing to send: already subscribed, or an address we must not mail. */
  | { send: false; reason: 'active' | 'suppressed' };

async function isSuppressed(db: Db, email: string, ignoreErased: boolean): Promise<boolean> {
  let q = db.selectFrom('suppressions').select('id').where('email_hash', '=', hashEmail(email));
  if (ignoreErased) q = q.where('reason', '!=', 'erased');
  return (await q.executeTakeFirst()) !== undefined;
}

/**
 * Records a request to join a list, made at `at` (pending until confirmed). An active member is
 * left alone; a bounced, complained or suppressed address is never mailed; one that left may come
 * back, but only through a new confirmation. Every request stores a new nonce on the membership, so
 * a confirmation link answers only the latest request. Run inside a transaction.
 */
export async function requestSubscription(
  trx: Db,
  listId: number,
  request: { email: string; name: string | null; format: Format; timeZone: string | null; topics: string[] },
  meta: RequestMeta,
  at: Date,
): Promise<SubscribeOutcome> {
  const when = at.toISOString();
  // An erased address may subscribe again with new consent; bounces and complaints may not.
  if (await isSuppressed(trx, request.email, true)) return { send: false, reason: 'suppressed' };
  const existing = await trx
    .selectFrom('subscribers as s')
    .leftJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').on('m.list_id', '=', listId))
    .select(['s.id', 's.status', 'm.status as member_status'])
    .where('s.email', '=', request.email)
    .executeTakeFirst();
  const consent = { consent_at: when, consent_source: meta.source, consent_ip: meta.ip, consent_user_agent: meta.userAgent, confirm_requested_at: when };
  const nonce = randomBytes(12).toString('base64url');
  let id: number;
  if (!existing) {
    const row = await trx
      .insertInto('subscribers')
      .values({ email: request.email, email_hash: hashEmail(request.email), name: request.name, format: request.format, time_zone: request.timeZone, status: 'pending', created_at: when, updated_at: when, confirmed_at: null, paused_at: null, ...consent })
      .returning('id')
      .executeTakeFirstOrThrow();
    id = row.id;
  } else {
    id = existing.id;
    if (existing.status === 'bounced' || existing.status === 'complained') return { send: false, reason: 'suppressed' };
    if (existing.status === 'active' && existing.member_status === 'active') return { send: false, reason: 'active' };
    // Pending or left: the new request replaces the old one; status changes only on confirmation.
    const zone = request.timeZone ? { time_zone: request.timeZone } : {};
    await trx.updateTable('subscribers').set({ ...consent, ...(request.name ? { name: request.name } : {}), format: request.format, ...zone, updated_at: when }).where('id', '=', id).execute();
  }
  // A new address is held back by its pending status; an existing one joins only on confirmation.
  await trx
    .insertInto('list_members')
    .values({ list_id: listId, subscriber_id: id, status: existing ? 'unsubscribed' : 'active', created_at: when, updated_at: when, confirm_nonce: nonce })
    .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doUpdateSet({ confirm_nonce: nonce, updated_at: when }))
    .execute();
  await setTopics(trx, id, request.topics);
  await recordEvent(trx, id, 'subscribe_requested', { source: meta.source, ip: meta.ip, userAgent: meta.userAgent, topics: request.topics, format: request.format, listId }, when);
  return { send: true, subscriberId: id, nonce };
}

/** When the confirmation link of a request made at `requestedAt` stops working. */
export function confirmationExpiry(requestedAt: string, ttlHours: number): Date {
  return new Date(Date.parse(requestedAt) + ttlHours * 3_600_000);
}

export type ConfirmOutcome = 'confirmed' | 'already-active' | 'stale';

/** The membership a confirmation link is for, as it stands. */
interface ConfirmTarget {
  subscriberId: number;
  listId: number;
  nonce?: string;
}

/**
 * What confirming would do: 'confirmed' when the link answers the latest request of a member of
 * its list; 'already-active' for a spent link of an active member; 'stale' for anything else (an
 * older request, a list the subscriber is not a member of, a suppressed address).
 */
export async function confirmationState(db: Db, target: ConfirmTarget): Promise<{ outcome: ConfirmOutcome; email?: string }> {
  const m = await db
    .selectFrom('list_members as m')
    .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .select(['s.email', 's.status', 'm.status as member_status', 'm.confirm_nonce'])
    .where('m.subscriber_id', '=', target.subscriberId)
    .where('m.list_id', '=', target.listId)
    .executeTakeFirst();
  if (!m) return { outcome: 'stale' };
  if (m.confirm_nonce === null) return { outcome: m.status === 'active' && m.member_status === 'active' ? 'already-active' : 'stale' };
  if (target.nonce !== m.confirm_nonce) return { outcome: 'stale' };
  if (m.status === 'bounced' || m.status === 'complained' || (await isSuppressed(db, m.email, true))) return { outcome: 'stale' };
  return { outcome: 'confirmed', email: m.email };
}

/** Confirms the request the link's nonce names, activating the subscriber and the membership. */
export async function confirmSubscription(db: Db, target: ConfirmTarget, meta: RequestMeta, now: Date): Promise<ConfirmOutcome> {
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const { outcome, email } = await confirmationState(trx, target);
    if (outcome !== 'confirmed' || email === undefined) return outcome;
    await trx
      .updateTable('subscribers')
      .set({ status: 'active', confirmed_at: at, confirm_requested_at: null, paused_at: null, updated_at: at })
      .where('id', '=', target.subscriberId)
      .execute();
    await trx
      .updateTable('list_members')
      .set({ status: 'active', confirm_nonce: null, updated_at: at })
      .where('list_id', '=', target.listId)
      .where('subscriber_id', '=', target.subscriberId)
      .execute();
    // New consent lifts an erasure's suppression (never a bounce's or a complaint's).
    await trx.deleteFrom('suppressions').where('email_hash', '=', hashEmail(email)).where('reason', '=', 'erased').execute();
    await recordEvent(trx, target.subscriberId, 'confirmed', { source: meta.source, ip: meta.ip, userAgent: meta.userAgent, listId: target.listId }, at);
    return 'confirmed';
  });
}

/**
 * Ends the subscriber's membership of the list (and spends its pending confirmation link). A list
 * that does not exist, or that the subscriber is not a member of, is 'unknown' and nothing changes.
 * The subscriber's own status becomes 'unsubscribed' only when no active membership is left: they
 * receive nothing from us. Idempotent: a second call changes nothing and records nothing.
 */
export async function unsubscribe(db: Db, listId: number, subscriberId: number, via: string, now: Date): Promise<'unsubscribed' | 'already' | 'unknown'> {
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const m = await trx
      .selectFrom('list_members as m')
      .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .select(['s.status', 'm.status as member_status'])
      .where('m.subscriber_id', '=', subscriberId)
      .where('m.list_id', '=', listId)
      .executeTakeFirst();
    if (!m) return 'unknown';
    if (m.member_status === 'unsubscribed') return 'already';
    await trx.updateTable('list_members').set({ status: 'unsubscribed', confirm_nonce: null, updated_at: at }).where('list_id', '=', listId).where('subscriber_id', '=', subscriberId).execute();
    const remaining = await trx.selectFrom('list_members').select('list_id').where('subscriber_id', '=', subscriberId).where('status', '=', 'active').executeTakeFirst();
    if (!remaining && (m.status === 'active' || m.status === 'pending')) {
      await trx.updateTable('subscribers').set({ status: 'unsubscribed', confirm_requested_at: null, updated_at: at }).where('id', '=', subscriberId).execute();
    }
    await recordEvent(trx, subscriberId, 'unsubscribed', { via, listId }, at);
    return 'unsubscribed';
  });
}

export async function updatePreferences(
  db: Db,
  subscriberId: number,
  changes: { name: string | null; firstName: string | null; format: Format; topics: string[]; timeZone: string | null },
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('subscribers').set({ name: changes.name, first_name: changes.firstName, format: changes.format, updated_at: at }).where('id', '=', subscriberId).execute();
    await trx.updateTable('subscribers').set({ time_zone: changes.timeZone }).where('id', '=', subscriberId).execute();
    await setTopics(trx, subscriberId, changes.topics);
    await recordEvent(trx, subscriberId, 'preferences_changed', { topics: changes.topics, format: changes.format }, at);
  });
}

export async function setPaused(db: Db, subscriberId: number, paused: boolean, now: Date): Promise<void> {
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('subscribers').set({ paused_at: paused ? at : null, updated_at: at }).where('id', '=', subscriberId).execute();
    await recordEvent(trx, subscriberId, paused ? 'paused' : 'resumed', null, at);
  });
}

export interface SubscriberView {
  id: number;
  email: string;
  name: string | null;
  firstName: string | null;
  /** Their zone for local send time; null: the list's. */
  timeZone: string | null;
  format: Format;
  status: string;
  memberStatus: string;
  paused: boolean;
  topics: string[];
}

/** A member of the list as their pages show them; undefined for anyone else (or erased). */
export async function subscriberView(db: Db, listId: number, subscriberId: number): Promise<SubscriberView | undefined> {
  const s = await db
    .selectFrom('subscribers as s')
    .innerJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').on('m.list_id', '=', listId))
    .select(['s.id', 's.email', 's.name', 's.first_name', 's.format', 's.time_zone', 's.status', 's.paused_at', 'm.status as member_status'])
    .where('s.id', '=', subscriberId)
    .executeTakeFirst();
  if (!s || s.email.endsWith('@erased.invalid')) return undefined;
  const topics = await db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', s.id).orderBy('topic').execute();
  return { id: s.id, email: s.email, name: s.name, firstName: s.first_name, format: s.format, timeZone: s.time_zone, status: s.status, memberStatus: s.member_status, paused: s.paused_at !== null, topics: topics.map((t) => t.topic) };
}

/** Everything we hold about a subscriber (GDPR Art. 15 and 20), as one JSON document. */
export async function exportSubscriber(db: Db, subscriberId: number) {
  const s = await db.selectFrom('subscribers').selectAll().where('id', '=', subscriberId).executeTakeFirstOrThrow();
  const [topics, attributes, lists, events, deliveries] = await Promise.all([
    db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', s.id).orderBy('topic').execute(),
    db.selectFrom('subscriber_attributes').select(['name', 'value']).where('subscriber_id', '=', s.id).orderBy('name').execute(),
    db.selectFrom('list_members as m').innerJoin('lists as l', 'l.id', 'm.list_id').select(['l.name', 'm.status', 'm.created_at']).where('m.subscriber_id', '=', s.id).execute(),
    db.selectFrom('events').select(['type', 'data', 'created_at']).where('subscriber_id', '=', s.id).orderBy('id').execute(),
    db
      .selectFrom('deliveries as d')
      .innerJoin('editions as e', 'e.id', 'd.edition_id')
      .select(['e.week', 'e.subject', 'd.status', 'd.submitted_at'])
      .where('d.subscriber_id', '=', s.id)
      .orderBy('d.id')
      .execute(),
  ]);
  return {
    profile: { email: s.email, name: s.name, firstName: s.first_name, format: s.format, timeZone: s.time_zone, status: s.status, paused: s.paused_at !== null, signedUpAt: s.created_at, topics: topics.map((t) => t.topic), attributes: Object.fromEntries(attributes.map((a) => [a.name, a.value])) },
    consent: { at: s.consent_at, source: s.consent_source, ip: s.consent_ip, userAgent: s.consent_user_agent, confirmedAt: s.confirmed_at },
    lists: lists.map((l) => ({ list: l.name, status: l.status, since: l.created_at })),
    events: events.map((e) => ({ type: e.type, at: e.created_at, ...(e.data ? { details: JSON.parse(e.data) as unknown } : {}) })),
    deliveries: deliveries.map((d) => ({ edition: d.week, subject: d.subject, status: d.status, submittedAt: d.submitted_at })),
  };
}

/**
 * Erases a subscriber's personal data (GDPR Art. 17). The row stays, emptied, so past deliveries
 * still add up; only the address's hash is kept, as a suppression, so we never mail it again unless
 * the person subscribes and confirms anew.
 */
export async function eraseSubscriber(db: Db, subscriberId: number, now: Date): Promise<void> {
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    const s = await trx.selectFrom('subscribers').select(['id', 'email', 'email_hash']).where('id', '=', subscriberId).executeTakeFirstOrThrow();
    await trx
      .insertInto('suppressions')
      .values({ email_hash: s.email_hash, reason: 'erased', created_at: at })
      .onConflict((oc) => oc.column('email_hash').doNothing())
      .execute();
    const placeholder = `erased-${s.id}@erased.invalid`;
    await trx
      .updateTable('subscribers')
      .set({
        email: placeholder,
        email_hash: hashEmail(placeholder),
        name: null,
        first_name: null,
        time_zone: null,
        status: 'unsubscribed',
        consent_at: null,
        consent_source: null,
        consent_ip: null,
        consent_user_agent: null,
        confirmed_at: null,
        paused_at: null,
        confirm_requested_at: null,
        updated_at: at,
      })
      .where('id', '=', s.id)
      .execute();
    await trx.deleteFrom('subscriber_topics').where('subscriber_id', '=', s.id).execute();
    await trx.deleteFrom('subscriber_attributes').where('subscriber_id', '=', s.id).execute();
    await trx.updateTable('list_members').set({ status: 'unsubscribed', confirm_nonce: null, updated_at: at }).where('subscriber_id', '=', s.id).execute();
    await trx.deleteFrom('subscription_requests').where((eb) => eb.or([eb('email', '=', s.email), eb('subscriber_id', '=', s.id)])).execute();
    await trx.updateTable('deliveries').set({ message_id: null, smtp_response: null, error: null }).where('subscriber_id', '=', s.id).execute();
    await trx.deleteFrom('events').where('subscriber_id', '=', s.id).execute();
    await recordEvent(trx, s.id, 'erased', null, at);
  });
}

async function recordEvent(db: Db, subscriberId: number, type: string, data: unknown, at: string): Promise<void> {
  await db
    .insertInto('events')
    .values({ subscriber_id: subscriberId, edition_id: null, type, data: data === null ? null : JSON.stringify(data), created_at: at })
    .execute();
}

/** Topics a subscriber can choose: those the list's stored articles carry, most used first. */
export async function knownTopics(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('article_topics')
    .select((eb) => ['topic', eb.fn.countAll<number>().as('n')])
    .groupBy('topic')
    .orderBy('n', 'desc')
    .orderBy('topic')
    .execute();
  return rows.map((r) => r.topic);
}
