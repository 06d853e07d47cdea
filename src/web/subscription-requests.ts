// The queue between a subscription request and its confirmation email. The web handler only
// inserts a row (one statement, the same for every address) and answers; the worker here does the
// work that depends on the address's state: the per-address limit, creating or updating the pending
// subscriber, and mailing the link. A row is deleted only once that is done, so a crash between the
// answer and the email loses nothing: the next drain (at start, on an interval) picks it up.
//
// The subscriber's change and the link's nonce are written in one transaction with the row, so a
// retry mails the same link. A crash after the server took the email but before the row was
// deleted re-sends that one confirmation, at most once per crash.
//
// Several `recap serve` processes drain one queue: a worker claims a row (a compare-and-set on
// `claimed_by`) before it works on it, so each request is mailed by one of them. A claim lasts
// while one email can take; a claim of a process known to be gone (lease.ts) is taken over at once.
import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/connect.ts';
import type { Format, SubscriptionRequestsTable } from '../../db/schema.ts';
import type { Selectable } from 'kysely';
import { greetingName } from '../audience/first-name.ts';
import { confirmationExpiry, requestSubscription, type RequestMeta } from '../audience/subscriptions.ts';
import { signToken } from '../audience/tokens.ts';
import { holderIsDead, THIS_PROCESS } from '../delivery/lease.ts';
import { sendTransactional } from '../delivery/transactional.ts';
import { topicLabel } from '../render/story-view.ts';
import { renderConfirmation } from '../render/transactional.ts';
import type { WebDeps } from './context.ts';

export interface SubscriptionRequest {
  listId: number;
  email: string;
  name: string | null;
  /** Chosen on the form; it waits here until the confirmation email goes. */
  timeZone: string | null;
  format: Format;
  topics: string[];
  meta: RequestMeta;
  at: Date;
}

/** Queues a validated request. Deliberately blind to the address: it reads nothing. */
export async function queueSubscriptionRequest(db: Db, r: SubscriptionRequest): Promise<void> {
  await db
    .insertInto('subscription_requests')
    .values({
      list_id: r.listId,
      email: r.email,
      name: r.name,
      time_zone: r.timeZone,
      format: r.format,
      topics: JSON.stringify(r.topics),
      source: r.meta.source,
      ip: r.meta.ip,
      user_agent: r.meta.userAgent,
      requested_at: r.at.toISOString(),
      subscriber_id: null,
      confirm_nonce: null,
      next_attempt_at: null,
      last_error: null,
      claimed_by: null,
      claimed_until: null,
    })
    .execute();
}

export type DrainDeps = Pick<WebDeps, 'db' | 'config' | 'clock' | 'secret' | 'transport' | 'log' | 'limits'>;

export interface DrainReport {
  /** Confirmation emails the server took. */
  mailed: number;
  /** Requests done without an email: active, suppressed, over the per-address limit, superseded, expired. */
  quiet: number;
  /** Sends that failed; the request stays queued and is tried again later. */
  retrying: number;
}

type Row = Selectable<SubscriptionRequestsTable>;

/** The longest a failed send waits before its next try. */
const MAX_RETRY_WAIT_MS = 3_600_000;

/**
 * How long a claim holds: sending one email waits for about a dozen replies (connect, greeting,
 * EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the final dot), each for at most SMTP_TIMEOUT_SECONDS.
 */
const claimTtlMs = (deps: DrainDeps) => 12 * deps.config.smtpTimeoutSeconds * 1000;

/**
 * Claims `row` for `owner`, unless another live worker holds it. A compare-and-set on the claimer
 * the row was read with: of two workers that read it, one wins.
 */
async function claim(deps: DrainDeps, row: Row, owner: string): Promise<Row | undefined> {
  const now = deps.clock.now();
  const held = row.claimed_by !== null && row.claimed_until !== null && row.claimed_until > now.toISOString() && !holderIsDead(row.claimed_by);
  if (held) return undefined;
  // The row as claimed: what an earlier claimer wrote after it was read is in it.
  return deps.db
    .updateTable('subscription_requests')
    .set({ claimed_by: owner, claimed_until: new Date(now.getTime() + claimTtlMs(deps)).toISOString() })
    .where('id', '=', row.id)
    .where((eb) => (row.claimed_by === null ? eb('claimed_by', 'is', null) : eb('claimed_by', '=', row.claimed_by)))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Works through the due requests in the order they came, each one claimed first, so drains in
 * several processes (or several at once in one) mail each request once.
 */
export async function drainSubscriptionRequests(deps: DrainDeps): Promise<DrainReport> {
  const report: DrainReport = { mailed: 0, quiet: 0, retrying: 0 };
  const owner = `${THIS_PROCESS}:${randomBytes(4).toString('hex')}`;
  let after = 0;
  for (;;) {
    const now = deps.clock.now().toISOString();
    const next = await deps.db
      .selectFrom('subscription_requests')
      .selectAll()
      .where('id', '>', after)
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (!next) return report;
    after = next.id;
    const row = await claim(deps, next, owner);
    if (!row) continue;
    try {
      report[await handle(deps, row)]++;
    } catch (e) {
      // The server refused or could not be reached (or anything else went wrong): the row stays,
      // and waits longer after each failure, so one bad request never holds up the others.
      const attempts = row.attempts + 1;
      const wait = Math.min(deps.config.retryBaseSeconds * 1000 * 2 ** (attempts - 1), MAX_RETRY_WAIT_MS);
      const error = (e as Error).message.slice(0, 500);
      await deps.db
        .updateTable('subscription_requests')
        .set({ attempts, last_error: error, next_attempt_at: new Date(deps.clock.now().getTime() + wait).toISOString(), claimed_by: null, claimed_until: null })
        .where('id', '=', row.id)
        .where('claimed_by', '=', owner)
        .execute();
      deps.log(`subscription request ${row.id} failed (attempt ${attempts}, next try in ${Math.round(wait / 1000)} s): ${error}`);
      report.retrying++;
    }
  }
}

async function handle(deps: DrainDeps, row: Row): Promise<'mailed' | 'quiet'> {
  const { db } = deps;
  const done = async (why: string) => {
    await db.deleteFrom('subscription_requests').where('id', '=', row.id).execute();
    deps.log(`subscription request ${row.id}: ${why}`);
    return 'quiet' as const;
  };
  // Its link would already have expired.
  const expiresAt = confirmationExpiry(row.requested_at, deps.config.confirmTtlHours);
  if (expiresAt <= deps.clock.now()) return done('not mailed before its link would have expired; dropped');

  let target: { subscriberId: number; nonce: string };
  if (row.subscriber_id !== null && row.confirm_nonce !== null) {
    // Prepared by an earlier drain that did not finish: mail the same link, unless it is spent.
    const m = await db.selectFrom('list_members').select('confirm_nonce').where('list_id', '=', row.list_id).where('subscriber_id', '=', row.subscriber_id).executeTakeFirst();
    if (m?.confirm_nonce !== row.confirm_nonce) return done('superseded by a newer request or a confirmation; nothing sent');
    target = { subscriberId: row.subscriber_id, nonce: row.confirm_nonce };
  } else {
    // Per address, quietly: nobody can flood one inbox with confirmation emails.
    if (!(await deps.limits.perAddress.take(`to:${row.email}`)).allowed) return done('over the per-address limit; nothing sent');
    const meta: RequestMeta = { source: row.source as RequestMeta['source'], ip: row.ip, userAgent: row.user_agent };
    const request = { email: row.email, name: row.name, format: row.format, timeZone: row.time_zone, topics: JSON.parse(row.topics) as string[] };
    const outcome = await db.transaction().execute(async (trx) => {
      const o = await requestSubscription(trx, row.list_id, request, meta, new Date(row.requested_at));
      if (o.send) await trx.updateTable('subscription_requests').set({ subscriber_id: o.subscriberId, confirm_nonce: o.nonce }).where('id', '=', row.id).execute();
      else await trx.deleteFrom('subscription_requests').where('id', '=', row.id).execute();
      return o;
    });
    if (!outcome.send) {
      deps.log(`subscription request ${row.id}: nothing to send (${outcome.reason})`);
      return 'quiet';
    }
    target = { subscriberId: outcome.subscriberId, nonce: outcome.nonce };
  }

  const response = await mailConfirmation(deps, row, target, expiresAt);
  await db.deleteFrom('subscription_requests').where('id', '=', row.id).execute();
  deps.log(`subscription request ${row.id}: confirmation for subscriber ${target.subscriberId} submitted: ${response}`);
  return 'mailed';
}

async function mailConfirmation(deps: DrainDeps, row: Row, target: { subscriberId: number; nonce: string }, expiresAt: Date): Promise<string> {
  const list = await deps.db.selectFrom('lists').select('name').where('id', '=', row.list_id).executeTakeFirstOrThrow();
  const token = signToken(deps.secret, { purpose: 'confirm', subscriberId: target.subscriberId, listId: row.list_id, expiresAt, nonce: target.nonce });
  const email = await renderConfirmation({
    listName: list.name,
    // The request carries a name only; a first name is set later, on the preferences page.
    name: greetingName({ firstName: null, name: row.name }),
    confirmUrl: `${deps.config.baseUrl}/confirm/${token}`,
    topics: (JSON.parse(row.topics) as string[]).map(topicLabel),
    validFor: `${deps.config.confirmTtlHours} hours`,
    postalAddress: deps.config.postalAddress,
  });
  const submission = await sendTransactional(deps.transport, deps.config, { email: row.email, name: row.name }, email, deps.clock.now());
  return submission.response;
}

export interface SubscriptionWorker {
  /** Starts a drain in the background soon (after the current answer is on its way); errors are logged. */
  wake(): void;
  /** Drains, after any drain already running; resolves when every row queued before the call was handled. */
  drain(): Promise<DrainReport>;
  /** Resolves when no drain is running or waiting. */
  idle(): Promise<void>;
}

/** One drain at a time; calls made while one runs share the single drain queued behind it. */
export function subscriptionWorker(deps: DrainDeps): SubscriptionWorker {
  let chain: Promise<unknown> = Promise.resolve();
  let waiting: Promise<DrainReport> | undefined;
  const drain = (): Promise<DrainReport> => {
    if (waiting) return waiting;
    const next = chain.then(() => {
      waiting = undefined;
      return drainSubscriptionRequests(deps);
    });
    waiting = next;
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    wake: () => {
      setImmediate(() => drain().catch((e: unknown) => deps.log(`error draining subscription requests: ${(e as Error).stack ?? String(e)}`)));
    },
    drain,
    idle: async () => {
      await chain;
    },
  };
}
