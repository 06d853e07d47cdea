// Sends an edition's deliveries so that a crash, a flaky server or a bounce never loses a copy or
// sends one twice, and every delivery ends accounted for.
//
//   queued ──claim──► claimed ──(recipient taken: handed over)──250──► submitted
//                        ├──4xx, or lost before the message was sent──► deferred ──(due)──► claimed …  ──(too late)──► failed
//                        ├──5xx──► failed (and, for a bad address, suppressed)
//                        ├──our relay unreachable, or not handed over (pause, stop)──► back as it was
//                        ├──reply lost after the message was sent──► uncertain
//                        └──(sender died after the hand-over)──► uncertain: reported, not re-sent unless asked
//
// Several senders may work on one edition at once (`recap digest send`, the schedule, `recap
// worker` processes on other machines). Rows are claimed in batches (claim.ts), each under a lease
// of its own (`send:batch:…`, the rows' claim_token) renewed while the batch runs; a batch whose
// lease expired, or whose holder on this host is gone, is recovered by whichever sender looks
// next. A row is marked handed over (committed, and only while its claim is still this batch's)
// the moment its message is about to be completed (after RCPT, before the final dot); outcomes are
// written in short grouped transactions (outcomes.ts), all of a batch's before the next is
// claimed. The pace, the relay's quotas and paused domains are shared through the database
// (pacing.ts, quota.ts, domain-pauses.ts). Messages are composed ahead, in worker threads
// (composers.ts).
import { randomBytes } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { Db } from '../../db/connect.ts';
import type { Database, DeliveryStatus, Format } from '../../db/schema.ts';
import { bounceKind, recordBounce } from '../audience/bounces.ts';
import type { Config } from '../config.ts';
import type { Clock } from '../context.ts';
import { type Edition, editionTopics } from '../editions/editions.ts';
import { parseVariantKey, variantKey } from '../render/arrange.ts';
import { claimDue } from './claim.ts';
import { type Composed, type Composer, inlineComposer, workerComposer } from './composers.ts';
import { type Classification, classifyReply } from './classify.ts';
import { clickUrl } from './clicks.ts';
import { activeDomainPauses, pauseDomain } from './domain-pauses.ts';
import { acquireLease, holderIsDead } from './lease.ts';
import { outcomeWriter } from './outcomes.ts';
import { sharedPacer } from './pacing.ts';
import { quotaGate } from './quota.ts';
import { stepSubjectTest } from './subject-test.ts';
import { SubmitError, type Transport } from './transport.ts';
import { ensureVariant, variantBody, topicsOfSubscribers } from './variants.ts';
import { describeWave, nextWaveAt, waveWaitingAt } from './waves.ts';

export interface SendDeps {
  db: Db;
  config: Config;
  secret: string;
  transport: Transport;
  clock: Clock;
  /** Waits, ending early when `signal` aborts (tests pass one that moves their clock instead). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  log: (line: string) => void;
  /** After each batch; `counts` are the send's own, which go on changing as each delivery ends. */
  onProgress?: (done: number, total: number, counts: Readonly<SendOutcome>) => void;
  /**
   * Aborted to stop (SIGINT, SIGTERM): the messages in flight finish, the rest of the batch goes
   * back to the queue, a wait ends at once, and the send returns.
   */
  signal?: AbortSignal;
  /** Wait for deferred deliveries and later waves to come due (default), or leave them for a later run. */
  waitForRetries?: boolean;
}

export interface VariantUse {
  key: string;
  htmlBytes: number;
  compacted: number[];
  recipients: number;
}

export interface SendOutcome {
  submitted: number;
  deferred: number;
  failed: number;
  skipped: number;
  /** Sent, but the reply after the message never came: may have gone out, so not re-sent (unless RECAP_RESEND_UNCERTAIN). */
  uncertain: number;
  /** Put back in the queue untried because our SMTP relay could not be reached (no attempt counted). */
  requeued: number;
  /** Handed to the server by a sender that died: marked uncertain; or, with RECAP_RESEND_UNCERTAIN, re-queued with every uncertain row of earlier runs. */
  recoveredUncertain: number;
  requeuedUncertain: number;
  variants: VariantUse[];
  /** The first few failures, for the summary. */
  errors: Array<{ email: string; error: string }>;
  /** Domains paused for policy rejections, with the reply that tipped it. */
  pausedDomains: Array<{ domain: string; until: string; reply: string }>;
  /** Set when the run paused the edition itself (a run of failures), with why. */
  pausedBecause: string | null;
  /** Set when RECAP_QUOTA stopped the run: when the quotas let the next message go. */
  quotaUntil: string | null;
  /** The operator stopped the run (a signal) or paused/cancelled the edition meanwhile. */
  interrupted: boolean;
}

/** What a send keeps of a variant: its row and what the summary reports. */
type VariantFacts = { id: number; htmlBytes: number; compacted: number[] };

interface Claimed {
  id: number;
  subscriber_id: number;
  queued_at: string;
  attempts: number;
  subject_arm: number | null;
  email: string;
  format: Format;
  name: string | null;
  first_name: string | null;
  status: string;
  confirmed_at: string | null;
  paused_at: string | null;
  member_status: string | null;
  suppressed: unknown;
}

const LEASE_TTL_MS = 60_000;
/** Messages composed ahead of the connections, within a batch. */
const COMPOSE_AHEAD = 32;
/** How often a running batch looks at the edition's status and renews the lease. */
const CHECK_EVERY_MS = 1000;
/** Below this many due messages a send composes on the main thread: starting threads would take longer. */
export const WORKERS_FROM = 1000;

/** Deliveries that may go now: queued and not held back for a later wave, or deferred and due. */
export async function countDue(db: Db, editionId: number, now: Date): Promise<number> {
  const at = now.toISOString();
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('edition_id', '=', editionId)
    .where((eb) => eb.or([
      eb.and([eb('status', '=', 'queued'), eb.or([eb('not_before', 'is', null), eb('not_before', '<=', at)])]),
      eb.and([eb('status', '=', 'deferred'), eb('next_attempt_at', '<=', at)]),
    ]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function sendEdition(deps: SendDeps, edition: Edition): Promise<SendOutcome> {
  const { db, config, clock } = deps;
  const result: SendOutcome = {
    submitted: 0, deferred: 0, failed: 0, skipped: 0, uncertain: 0, requeued: 0, recoveredUncertain: 0, requeuedUncertain: 0,
    variants: [], errors: [], pausedDomains: [], pausedBecause: null, quotaUntil: null, interrupted: false,
  };
  // 1. Asked to (RECAP_RESEND_UNCERTAIN), the uncertain deliveries of earlier runs go again.
  if (config.resendUncertain) {
    const again = await db
      .updateTable('deliveries')
      .set({ status: 'queued', updated_at: clock.now().toISOString() })
      .where('edition_id', '=', edition.row.id)
      .where('status', '=', 'uncertain')
      .executeTakeFirst();
    result.requeuedUncertain += Number(again.numUpdatedRows);
  }
  // 2. What dead senders had claimed (checked again before every batch).
  await recoverDeadBatches(deps, edition, result);
  if (result.requeuedUncertain > 0) deps.log(`${result.requeuedUncertain} deliveries were sent without a reply recorded (a sender that died, or a reply lost): re-sending them (RECAP_RESEND_UNCERTAIN=true)`);
  const total = await countDue(db, edition.row.id, clock.now());
  const composer = startComposer(deps, edition, total);
  try {
    await runLoop(deps, edition, result, composer, total);
  } finally {
    await composer.close();
  }
  return result;
}

/** The claim token of a batch is the name of its lease. */
const BATCH_LEASE = 'send:batch:';

/**
 * Batches of this edition whose lease has expired, or whose holder on this host is gone: what
 * they had claimed but not handed over goes back in the queue; what they had handed over may or
 * may not have gone out: uncertain (or queued again, with RECAP_RESEND_UNCERTAIN). The lease goes
 * first, so a holder that was only slow finds it gone at its next renewal and stops; its hand-over
 * marks only take rows still claimed by its batch.
 */
async function recoverDeadBatches(deps: SendDeps, edition: Edition, result: SendOutcome): Promise<void> {
  const { db, config, clock } = deps;
  const at = clock.now().toISOString();
  const claims = await db
    .selectFrom('deliveries as d')
    .leftJoin('leases as l', 'l.name', 'd.claim_token')
    .select(['d.claim_token', 'l.owner', 'l.expires_at'])
    .distinct()
    .where('d.edition_id', '=', edition.row.id)
    .where('d.status', '=', 'claimed')
    .execute();
  const dead = claims.filter((c) => !c.owner || (c.expires_at as string) <= at || holderIsDead(c.owner)).map((c) => c.claim_token as string);
  if (dead.length === 0) return;
  await db.deleteFrom('leases').where('name', 'in', dead).execute();
  const claimedBy = (eb: ExpressionBuilder<Database, 'deliveries'>) => eb.and([eb('edition_id', '=', edition.row.id), eb('status', '=', 'claimed'), eb('claim_token', 'in', dead)]);
  await db.updateTable('deliveries').set(unclaimed(at)).where(claimedBy).where('claimed_at', 'is', null).execute();
  const handed = await db.updateTable('deliveries').set({ status: config.resendUncertain ? 'queued' : 'uncertain', claim_token: null, updated_at: at }).where(claimedBy).executeTakeFirst();
  const n = Number(handed.numUpdatedRows);
  if (n === 0) return;
  if (config.resendUncertain) {
    result.requeuedUncertain += n;
  } else {
    result.recoveredUncertain += n;
    deps.log(`${n} deliveries were handed to the server by a sender that died before recording the reply: marked uncertain, not re-sent`);
  }
}

/** A batch's claim was taken over by another sender (this one stalled past its lease): stop. */
export class LostClaimError extends Error {
  override name = 'LostClaimError';
}

async function runLoop(deps: SendDeps, edition: Edition, result: SendOutcome, composer: Composer, total: number): Promise<void> {
  const { db, config, clock } = deps;
  const topics = editionTopics(edition);
  // Per variant only what the accounting needs; the bodies stay in the database until a template is built.
  const variants = new Map<string, Promise<VariantFacts>>();
  const uses = new Map<string, VariantUse>();
  const settings = {
    baseUrl: config.baseUrl,
    postalAddress: config.postalAddress,
    // An editor's item (a negative id) is no article: its link is not counted. The link says which
    // format and subject arm its variant is, and carries the message's tag (spliced per recipient).
    ...(config.trackClicks
      ? { link: (a: { id: number; url: string }, v: { key: string; messageTag: string }) => (a.id > 0 ? clickUrl(config.baseUrl, deps.secret, edition.row.id, a, parseVariantKey(v.key), v.messageTag) : a.url) }
      : {}),
  };
  const policyByDomain = new Map<string, number>();
  const pace = sharedPacer(db, config.rate, clock, (ms) => deps.sleep(ms, deps.signal));
  const quota = quotaGate(db, config.quotas, clock);
  // Counted after every outcome, so the edition pauses at exactly RECAP_MAX_FAILURES_IN_A_ROW and
  // nothing more is handed over once it does.
  let failuresInARow = 0;
  let lastError = '';
  const failedAgain = (error: string) => {
    failuresInARow++;
    lastError = error;
    if (failuresInARow >= config.maxFailuresInARow && !result.pausedBecause) {
      result.pausedBecause = `${failuresInARow} deliveries in a row were not submitted (last: ${lastError}); the SMTP server is down or rejecting us`;
    }
  };
  // Within a batch too, at most once a second: the editor may pause or cancel the edition, and the
  // lease is kept (a batch can take minutes at a low RECAP_RATE).
  let halted = false;
  let lastCheck = clock.now().getTime();
  const checkpoint = async (renew: () => Promise<boolean>) => {
    if (clock.now().getTime() - lastCheck < CHECK_EVERY_MS) return;
    lastCheck = clock.now().getTime();
    const row = await db.selectFrom('editions').select('status').where('id', '=', edition.row.id).executeTakeFirstOrThrow();
    if (row.status === 'paused' || row.status === 'cancelled') halted = true;
    else if (!(await renew())) throw new LostClaimError(`lost the lease of a batch of edition ${edition.row.week}: another sender took it over`);
  };
  const stopping = () => result.pausedBecause !== null || halted || deps.signal?.aborted === true;
  // Over the quota, no new delivery is taken; those that got their share of it still go.
  const takingNoMore = () => stopping() || result.quotaUntil !== null;
  const handOver = handOvers(db, clock);
  let done = 0;
  let waitedFor = '';
  deps.onProgress?.(0, total, result);

  for (;;) {
    if (deps.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    const status = await db.selectFrom('editions').select('status').where('id', '=', edition.row.id).executeTakeFirstOrThrow();
    if (status.status === 'paused' || status.status === 'cancelled') {
      deps.log(`edition ${edition.row.week} is ${status.status}: stopping`);
      result.interrupted = true;
      break;
    }
    await recoverDeadBatches(deps, edition, result);

    const lease = await acquireLease(db, `${BATCH_LEASE}${randomBytes(8).toString('hex')}`, clock, LEASE_TTL_MS);
    const token = lease.name;
    const batch = await claimBatch(db, edition.row.id, config.sendBatchSize, clock.now(), token);
    if (batch.length === 0) {
      await lease.release();
      // A subject test moves on when nothing is due: its sample handed over, its wait over.
      const test = await stepSubjectTest(db, edition.row.id, clock.now(), deps.log);
      if (test.released) continue;
      const retry = await nextRetry(db, edition.row.id);
      const wave = await nextWaveAt(db, edition.row.id, clock.now());
      const at = (t: string | null) => (t ? Date.parse(t) : Infinity);
      const next = Math.min(at(retry), at(wave), at(test.waitUntil));
      if (next === Infinity || deps.waitForRetries === false) break;
      const wait = Math.max(0, next - clock.now().getTime());
      if (wave && at(wave) === next) {
        // Said (and its readers counted) once a wave, not at every look.
        if (wave !== waitedFor) deps.log(`waiting for ${describeWave(await waveWaitingAt(db, edition.row.id, config.timeZone, wave))}`);
        waitedFor = wave;
      } else if (at(test.waitUntil) === next) deps.log(`waiting ${Math.ceil(wait / 1000)} s for the subject test of edition ${edition.row.week} (the rest goes once it is decided)`);
      else deps.log(`waiting ${Math.ceil(wait / 1000)} s for deferred deliveries to come due`);
      // At most 30 s at a time, to look at the edition's status and renew the lease.
      await deps.sleep(Math.min(wait, 30_000), deps.signal);
      continue;
    }
    const followed = await topicsOfSubscribers(db, batch.map((d) => d.subscriber_id), topics);
    const outcomes = outcomeWriter(db, token);
    const pausedUntil = await activeDomainPauses(db, clock.now());

    // Messages are composed a little ahead of the connections (in the workers, while earlier ones
    // are on the wire), so a connection never waits for one and only a few are held at a time.
    const prepared = new Map<number, Promise<{ key: string; variant: VariantFacts; message: Composed }>>();
    let preparedUpTo = 0;
    const prepareAhead = (taken: number) => {
      // Topped up half a window at a time, so the jobs go to the workers in groups (composers.ts).
      if (preparedUpTo - taken >= COMPOSE_AHEAD / 2) return;
      for (; preparedUpTo < Math.min(batch.length, taken + COMPOSE_AHEAD); preparedUpTo++) {
        const d = batch[preparedUpTo] as Claimed;
        if (whySkipped(d)) continue;
        const key = variantKey(followed.get(d.subscriber_id) ?? [], topics, { format: d.format, subjectArm: d.subject_arm });
        if (!variants.has(key)) variants.set(key, ensureVariant(db, edition, key, settings, clock.now()).then((v) => ({ id: v.row.id, htmlBytes: v.row.html_bytes, compacted: v.compacted })));
        const variant = variants.get(key) as Promise<VariantFacts>;
        const message = variant.then(() => composer.compose({ key, deliveryId: d.id, subscriberId: d.subscriber_id, email: d.email, name: d.name, firstName: d.first_name, date: clock.now().getTime() }));
        const ready = Promise.all([variant, message]).then(([v, m]) => ({ key, variant: v, message: m }));
        ready.catch(() => {}); // awaited in handle(), or dropped when the batch stops early
        prepared.set(d.id, ready);
      }
    };
    let taken = 0;

    const handle = async (d: Claimed): Promise<void> => {
      prepareAhead(++taken);
      const now = () => clock.now().toISOString();
      // The audience may have changed since the row was queued.
      const why = whySkipped(d);
      if (why) {
        outcomes.add(d.id, { status: 'skipped', error: why, reason: 'unsubscribed', at: now() });
        result.skipped++;
        return;
      }
      const domain = d.email.slice(d.email.lastIndexOf('@') + 1);
      const pauseEnd = pausedUntil.get(domain);
      if (pauseEnd && pauseEnd > clock.now().getTime()) {
        outcomes.add(d.id, { status: 'deferred', error: `sending to ${domain} is paused after policy rejections`, reason: 'blocked', nextAttemptAt: new Date(pauseEnd).toISOString(), at: now(), attempted: false });
        result.deferred++;
        return;
      }

      const { key, variant, message: composed } = await (prepared.get(d.id) as NonNullable<ReturnType<typeof prepared.get>>);
      prepared.delete(d.id);
      const messageId = composed.messageId;
      const use = uses.get(key) ?? { key, htmlBytes: variant.htmlBytes, compacted: variant.compacted, recipients: 0 };
      uses.set(key, use);
      const message = { envelope: { from: config.from.address, to: [d.email] }, raw: composed.raw };

      await checkpoint(lease.renew);
      // Over the relay's quota: it goes back to the queue with the rest, for a later run.
      const room = await quota.take();
      if (room !== true) {
        result.quotaUntil ??= room.toISOString();
        return;
      }
      await pace();
      // Paused or stopped while waiting for its turn: it goes back to the queue with the rest.
      if (stopping()) return;
      let classification: Classification;
      let reply: string;
      // The hand-over's own failure (the database) stops the send, as it always has.
      let handOverFailure: unknown;
      const markHandedOver = () => handOver(d.id, token).catch((e: unknown) => {
        handOverFailure = e;
        throw e;
      });
      try {
        const submission = await deps.transport.submit(message, { folder: edition.row.week, id: String(d.id).padStart(7, '0'), email: d.email }, markHandedOver);
        outcomes.add(d.id, { status: 'submitted', response: submission.response, variantId: variant.id, messageId, at: now() });
        use.recipients++;
        result.submitted++;
        failuresInARow = 0;
        return;
      } catch (e) {
        if (handOverFailure !== undefined && e === handOverFailure) throw e;
        const err = e instanceof SubmitError ? e : new SubmitError((e as Error).message, undefined);
        if (err.relayUnreachable) {
          // Nothing reached a recipient: the row goes back as it was, with no attempt counted and
          // no step towards expiry, however long the outage lasts.
          await db.updateTable('deliveries').set(unclaimed(now())).where('id', '=', d.id).where('status', '=', 'claimed').where('claim_token', '=', token).execute();
          result.requeued++;
          failedAgain(err.message);
          return;
        }
        if (err.uncertain) {
          // The message was sent; whether the server took it is unknown. Sending it again could
          // give the reader two copies, so it is reported instead (RECAP_RESEND_UNCERTAIN re-sends
          // it on the next run). A run of these is a server in trouble: it counts towards the pause.
          const error = `${err.message}; not re-sent${config.resendUncertain ? ' in this run (the next run re-sends it: RECAP_RESEND_UNCERTAIN=true)' : ' (RECAP_RESEND_UNCERTAIN=true would)'}`;
          outcomes.add(d.id, { status: 'uncertain', error, reason: 'uncertain', variantId: variant.id, messageId, at: now() });
          result.uncertain++;
          if (result.errors.length < 10) result.errors.push({ email: d.email, error });
          failedAgain(err.message);
          return;
        }
        reply = err.message;
        classification = classifyReply(err.responseCode, err.message);
      }

      if (result.errors.length < 10) result.errors.push({ email: d.email, error: reply });
      const base = { error: reply, reason: classification.reason, variantId: variant.id, messageId, at: now() };
      if (classification.class === 'transient') {
        failedAgain(reply);
        const retryAt = retryTime(config, d, clock.now());
        if (retryAt) {
          outcomes.add(d.id, { ...base, status: 'deferred', nextAttemptAt: retryAt });
          result.deferred++;
        } else {
          outcomes.add(d.id, { ...base, status: 'failed', reason: 'expired', error: `gave up after ${d.attempts + 1} attempts: ${reply}` });
          result.failed++;
        }
        return;
      }
      outcomes.add(d.id, { ...base, status: 'failed' });
      result.failed++;
      const kind = bounceKind(classification);
      if (kind) {
        await recordBounce(db, { email: d.email, editionId: edition.row.id, kind, reason: classification.reason, status: classification.status, diagnostic: reply, source: 'smtp' }, config.softBounceLimit, clock.now());
      }
      if (classification.class === 'policy') {
        failedAgain(reply);
        const count = (policyByDomain.get(domain) ?? 0) + 1;
        policyByDomain.set(domain, count);
        if (count === config.domainPauseAfter) {
          const until = clock.now().getTime() + config.domainPauseMinutes * 60_000;
          pausedUntil.set(domain, until);
          await pauseDomain(db, { domain, until: new Date(until), reply }, clock.now());
          result.pausedDomains.push({ domain, until: new Date(until).toISOString(), reply });
          deps.log(
            `warning: ${domain} rejected ${count} messages for policy reasons (last: ${reply}). Paused sending to ${domain} for ${config.domainPauseMinutes} min; ` +
              'the addresses are not suppressed. Check the sending IP’s reputation and SPF, DKIM and DMARC.',
          );
        }
      }
    };

    let handled: number;
    try {
      try {
        handled = await inParallel(batch, Math.max(1, config.smtpPoolSize), handle, takingNoMore);
      } finally {
        // Every outcome of the batch is written before anything else looks at its rows.
        await outcomes.flush();
        await quota.giveBack();
      }
      // What a pause or a stop kept from being handed over goes back as it was.
      await db.updateTable('deliveries').set(unclaimed(clock.now().toISOString())).where('claim_token', '=', token).where('status', '=', 'claimed').where('claimed_at', 'is', null).execute();
    } finally {
      await lease.release();
    }
    done += handled;
    deps.onProgress?.(done, Math.max(total, done), result);

    if (halted) continue; // the loop's own check says what happened
    if (result.quotaUntil) {
      deps.log(`the relay's quota (RECAP_QUOTA) is used up: the rest of edition ${edition.row.week} can go from ${result.quotaUntil}`);
      if (deps.waitForRetries === false) break;
      // Waited out like a retry: at most 30 s at a time, to look at the edition and the signal.
      await deps.sleep(Math.min(Math.max(0, Date.parse(result.quotaUntil) - clock.now().getTime()), 30_000), deps.signal);
      result.quotaUntil = null;
    }
    if (result.pausedBecause) {
      await db.updateTable('editions').set({ status: 'paused', paused_reason: result.pausedBecause, updated_at: clock.now().toISOString() }).where('id', '=', edition.row.id).execute();
      deps.log(`paused edition ${edition.row.week}: ${result.pausedBecause}`);
      break;
    }
  }
  result.variants = [...uses.values()];
}

/** Composes in worker threads when the send is large enough to make up for starting them. */
function startComposer(deps: SendDeps, edition: Edition, due: number): Composer {
  const { config } = deps;
  const context = { config, secret: deps.secret, editionId: edition.row.id, listId: edition.list.id, listSlug: edition.list.slug, listName: edition.list.name };
  const bodies = (key: string) => variantBody(deps.db, edition.row.id, key);
  return config.workers > 0 && due >= WORKERS_FROM ? workerComposer(context, bodies, config.workers) : inlineComposer(context, bodies);
}

/** Why a claimed delivery is not sent after all (the audience may have changed since it was queued), or null. */
function whySkipped(d: Claimed): string | null {
  return d.status !== 'active' ? `subscriber is ${d.status}`
    : d.confirmed_at === null ? 'subscriber has not confirmed'
    : d.paused_at !== null ? 'subscriber has paused the recap'
    : d.member_status !== 'active' ? 'not an active member of the list'
    : Number(d.suppressed) ? 'address is suppressed'
    : null;
}

/** Claims due rows (deferred and due, then queued; see claim.ts) for the batch `token`, in one transaction. */
async function claimBatch(db: Db, editionId: number, size: number, now: Date, token: string): Promise<Claimed[]> {
  await claimDue(db, editionId, size, now.toISOString(), token);
  const batch = await db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .innerJoin('editions as e', 'e.id', 'd.edition_id')
    .leftJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').onRef('m.list_id', '=', 'e.list_id'))
    .select((eb) => [
      'd.id', 'd.subscriber_id', 'd.queued_at', 'd.attempts', 'd.subject_arm', 's.email', 's.format', 's.name', 's.first_name', 's.status', 's.confirmed_at', 's.paused_at', 'm.status as member_status',
      eb.exists(eb.selectFrom('suppressions as x').select('x.id').whereRef('x.email_hash', '=', 's.email_hash')).as('suppressed'),
    ])
    .where('d.claim_token', '=', token)
    .where('d.status', '=', 'claimed')
    .orderBy('d.id')
    .execute();
  return batch;
}

/**
 * Puts a claimed row that never reached a recipient back as it was: queued, or deferred (and due)
 * when it had been tried before. Its attempts, error and next attempt time stay untouched.
 */
function unclaimed(at: string) {
  return (eb: ExpressionBuilder<Database, 'deliveries'>) => ({
    status: eb.case().when('next_attempt_at', 'is', null).then('queued' as DeliveryStatus).else('deferred' as DeliveryStatus).end(),
    claim_token: null,
    claimed_at: null,
    updated_at: at,
  });
}

/**
 * Marks the moment a claimed row's message is about to be completed (the transport calls it after
 * the server took the recipient, before the final dot). A crash before it leaves the row safe to
 * queue again; after it, the row is uncertain. Committed before the message is completed, never
 * held back: that is what lets outcomes wait to be written in groups. The marks asked for in one
 * turn of the event loop (several connections' 354s read together) share one commit. A row whose
 * claim another sender has taken over is not marked: the whole group fails with LostClaimError
 * (the rows it did mark are unmarked again), and none of its messages is completed.
 */
function handOvers(db: Db, clock: Clock): (id: number, token: string) => Promise<void> {
  let group: number[] = [];
  let groupToken = '';
  let committed: Promise<void> | undefined;
  return (id, token) => {
    group.push(id);
    groupToken = token; // one batch at a time: every mark of a turn is the same batch's
    committed ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const ids = group;
      const mine = (eb: ExpressionBuilder<Database, 'deliveries'>) => eb.and([eb('id', 'in', ids), eb('status', '=', 'claimed'), eb('claim_token', '=', groupToken)]);
      group = [];
      committed = undefined;
      const marked = await db.updateTable('deliveries').set({ claimed_at: clock.now().toISOString() }).where(mine).executeTakeFirst();
      if (Number(marked.numUpdatedRows) !== ids.length) {
        await db.updateTable('deliveries').set({ claimed_at: null }).where(mine).execute();
        throw new LostClaimError(`${ids.length - Number(marked.numUpdatedRows)} of ${ids.length} deliveries about to be handed over were taken over by another sender: this one stops`);
      }
    });
    return committed;
  };
}

/** The next attempt of a deferred delivery: exponential backoff with jitter, or null once it is too late. */
export function retryTime(config: Pick<Config, 'maxAttempts' | 'retryBaseSeconds' | 'retryDeadlineHours'>, d: { attempts: number; queued_at: string }, now: Date, random = Math.random): string | null {
  const attempt = d.attempts + 1; // this one
  if (attempt >= config.maxAttempts) return null;
  const backoff = config.retryBaseSeconds * 1000 * 2 ** (attempt - 1);
  const delay = Math.min(backoff * (0.75 + random() * 0.5), 6 * 3_600_000);
  const at = now.getTime() + delay;
  if (at > Date.parse(d.queued_at) + config.retryDeadlineHours * 3_600_000) return null;
  return new Date(at).toISOString();
}

async function nextRetry(db: Db, editionId: number): Promise<string | null> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('next'))
    .where('edition_id', '=', editionId)
    .where('status', '=', 'deferred')
    .executeTakeFirst();
  return (row?.next as string | null | undefined) ?? null;
}

/** Works through `items`, `width` at a time, taking no new one once `stop()` says so; returns how many it took. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>, stop: () => boolean): Promise<number> {
  let i = 0;
  const worker = async () => {
    while (i < items.length && !stop()) await work(items[i++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return i;
}

export async function deliveryCounts(db: Db, editionId: number): Promise<Record<DeliveryStatus, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('edition_id', '=', editionId)
    .groupBy('status')
    .execute();
  const counts: Record<DeliveryStatus, number> = { queued: 0, claimed: 0, submitted: 0, deferred: 0, failed: 0, skipped: 0, uncertain: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}
