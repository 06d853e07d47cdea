// A flaky, refusing, stalling or dropping SMTP server on loopback: afterwards every eligible
// subscriber has exactly one copy, or a terminal state with its reason.
import { afterEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { countQuery, eligibleMembers } from '../../src/audience/segments.ts';
import { LeaseHeldError, acquireLease } from '../../src/delivery/lease.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { controlEdition } from '../../src/delivery/control.ts';
import { runWeeklyRecap, type SendIo, type WeeklyReport } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { systemSleep } from '../../src/context.ts';
import { type SinkAction, type SmtpSink, refusedPort, startSilentServer, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let sink: SmtpSink;

async function setUp(script: (rcpt: string, attempt: number) => SinkAction, env: Record<string, string> = {}, people = ['a@example.com', 'b@example.org', 'c@example.net']) {
  sink = await startSmtpSink({ script });
  ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_RATE: '0', RECAP_SEND_BATCH: '2', SMTP_POOL_SIZE: '1', SMTP_TIMEOUT_SECONDS: '1', ...env });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (const p of people) await addSubscriber(ctx, p);
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0)) await clean();
  await sink?.close();
  await ctx?.close();
});

function send(extra: Partial<SendIo> = {}): Promise<WeeklyReport> {
  return runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config), extra), { week: '2026-W48' });
}

async function rows() {
  return ctx.db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select(['s.email', 'd.status', 'd.attempts', 'd.reason', 'd.error', 'd.message_id', 'd.next_attempt_at', 'd.claimed_at'])
    .orderBy('d.id')
    .execute();
}

function copies(email: string): number {
  return sink.byRecipient().get(email)?.length ?? 0;
}

describe('temporary failures', () => {
  it.each([
    ['421 at RCPT', { rcpt: { code: 421, message: '4.7.0 Try again later, closing connection' } }],
    ['451 at RCPT', { rcpt: { code: 451, message: '4.3.0 Temporary lookup failure' } }],
    ['452 at RCPT', { rcpt: { code: 452, message: '4.2.2 Mailbox over quota, try later' } }],
    ['451 after DATA', { data: { code: 451, message: '4.3.0 Local error in processing' } }],
    ['a server that never answers RCPT', 'stall-at-rcpt'],
  ] as Array<[string, SinkAction]>)('defers on %s, retries with backoff, and delivers exactly once', async (_, failure) => {
    await setUp((rcpt, attempt) => (rcpt === 'b@example.org' && attempt === 1 ? failure : 'accept'));
    const started = ctx.clock.now().getTime();
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    for (const who of ['a@example.com', 'b@example.org', 'c@example.net']) expect(copies(who), who).toBe(1);
    const b = (await rows()).find((r) => r.email === 'b@example.org');
    expect(b).toMatchObject({ status: 'submitted', attempts: 2 });
    // It waited for the backoff (60 s ± 25 %) on the test clock, not on the wall clock.
    expect(ctx.clock.now().getTime() - started).toBeGreaterThanOrEqual(45_000);
    expect(report.edition.row.status).toBe('sent');
    expect(report.counts).toMatchObject({ submitted: 3, deferred: 0, failed: 0 });
  });

  it('gives up after RECAP_MAX_ATTEMPTS and fails the delivery as expired, with the last reply', async () => {
    await setUp((rcpt) => (rcpt === 'b@example.org' ? { rcpt: { code: 451, message: '4.4.1 Connection timed out upstream' } } : 'accept'), { RECAP_MAX_ATTEMPTS: '3' });
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    const b = (await rows()).find((r) => r.email === 'b@example.org');
    expect(b).toMatchObject({ status: 'failed', attempts: 3, reason: 'expired' });
    expect(b?.error).toMatch(/gave up after 3 attempts: .*4\.4\.1/);
    expect(sink.attempts.get('b@example.org')).toBe(3);
    expect(copies('a@example.com')).toBe(1);
    // A temporary failure says nothing about the address.
    expect(await ctx.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
  });

  it('leaves deferred deliveries for a later run with --no-wait, and that run delivers them', async () => {
    await setUp((rcpt, attempt) => (rcpt === 'b@example.org' && attempt === 1 ? { rcpt: { code: 450, message: '4.2.0 Greylisted' } } : 'accept'));
    const first = await send({ waitForRetries: false });
    if (first.kind !== 'sent') throw new Error(first.kind);
    expect(first.counts).toMatchObject({ submitted: 2, deferred: 1 });
    expect(first.edition.row.status).toBe('sending');
    ctx.clock.advance(2 * 3_600_000);
    const second = await send({ waitForRetries: false });
    if (second.kind !== 'sent') throw new Error(second.kind);
    expect(second.counts).toMatchObject({ submitted: 3, deferred: 0 });
    expect(second.edition.row.status).toBe('sent');
    expect(copies('b@example.org')).toBe(1);
  });
});

describe('the hand-over', () => {
  it('is recorded only once the server has taken the recipient: a refusal at RCPT leaves it unmarked', async () => {
    await setUp((rcpt) => (rcpt === 'b@example.org' ? { rcpt: { code: 451, message: '4.7.1 Greylisted, try again' } } : 'accept'));
    await send({ waitForRetries: false });
    const all = await rows();
    expect(all.map((r) => [r.email, r.status, r.claimed_at !== null])).toEqual([
      ['a@example.com', 'submitted', true], ['b@example.org', 'deferred', false], ['c@example.net', 'submitted', true],
    ]);
  });
});

describe('a reply lost after the message was sent', () => {
  it.each([
    ['the server cuts the connection after the final dot', 'cut-after-dot'],
    ['the connection drops in the middle of DATA', 'drop'],
    ['the server never answers the final dot', 'stall'],
  ] as Array<[string, SinkAction]>)('%s: uncertain, reported, and never sent again', async (_, lost) => {
    await setUp((rcpt) => (rcpt === 'b@example.org' ? lost : 'accept'));
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    const b = (await rows()).find((r) => r.email === 'b@example.org');
    expect(b).toMatchObject({ status: 'uncertain', attempts: 1, reason: 'uncertain', next_attempt_at: null });
    expect(b?.error).toMatch(/after the message was sent: it may have been delivered; not re-sent \(RECAP_RESEND_UNCERTAIN=true would\)/);
    expect(b?.message_id).toMatch(/@recap\.test>$/);
    expect(report.outcome).toMatchObject({ submitted: 2, uncertain: 1, deferred: 0 });
    expect(report.counts).toMatchObject({ submitted: 2, uncertain: 1, deferred: 0, queued: 0, claimed: 0 });
    expect(report.edition.row.status).toBe('sent');
    await send();
    expect(sink.attempts.get('b@example.org')).toBe(1);
    expect(copies('a@example.com')).toBe(1);
    expect(copies('c@example.net')).toBe(1);
  });

  it('is sent again by the next run with RECAP_RESEND_UNCERTAIN=true, with the same Message-ID', async () => {
    await setUp((rcpt, attempt) => (rcpt === 'b@example.org' && attempt === 1 ? 'cut-after-dot' : 'accept'));
    await send();
    const before = (await rows()).find((r) => r.email === 'b@example.org');
    expect(before?.status).toBe('uncertain');
    ctx.config = { ...ctx.config, resendUncertain: true };
    const again = await send();
    if (again.kind !== 'sent') throw new Error(again.kind);
    expect(again.outcome.requeuedUncertain).toBe(1);
    const after = (await rows()).find((r) => r.email === 'b@example.org');
    expect(after).toMatchObject({ status: 'submitted', attempts: 2, message_id: before?.message_id });
    expect(copies('b@example.org')).toBe(1);
  });

  it('a run of them pauses the edition at RECAP_MAX_FAILURES_IN_A_ROW', async () => {
    const people = Array.from({ length: 6 }, (_, i) => `v${i}@example.com`);
    await setUp(() => 'cut-after-dot', { RECAP_MAX_FAILURES_IN_A_ROW: '3', RECAP_SEND_BATCH: '6' }, people);
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.edition.row.status).toBe('paused');
    expect(report.outcome.pausedBecause).toMatch(/^3 deliveries in a row were not submitted \(last: .*after the message was sent/);
    expect(report.counts).toMatchObject({ uncertain: 3, queued: 3, claimed: 0 });
  });
});

describe('permanent failures', () => {
  it('fails and suppresses a bad mailbox (550 5.1.1), without retrying it', async () => {
    await setUp((rcpt) => (rcpt === 'b@example.org' ? { rcpt: { code: 550, message: '5.1.1 <b@example.org>: Recipient address rejected: User unknown in local recipient table' } } : 'accept'));
    await send();
    const b = (await rows()).find((r) => r.email === 'b@example.org');
    expect(b).toMatchObject({ status: 'failed', attempts: 1, reason: 'userunknown' });
    expect(sink.attempts.get('b@example.org')).toBe(1);
    const suppressed = await ctx.db.selectFrom('suppressions').select(['email_hash', 'reason']).execute();
    expect(suppressed).toEqual([{ email_hash: hashEmail('b@example.org'), reason: 'hard bounce: userunknown' }]);
    const subscriber = await ctx.db.selectFrom('subscribers').select('status').where('email', '=', 'b@example.org').executeTakeFirstOrThrow();
    expect(subscriber.status).toBe('bounced');
    expect(await countQuery(eligibleMembers(ctx.db, ctx.listId))).toBe(2);
  });

  it('never suppresses on a full mailbox (5.2.2) or a policy rejection (5.7.1)', async () => {
    await setUp((rcpt) =>
      rcpt === 'b@example.org' ? { rcpt: { code: 552, message: '5.2.2 <b@example.org>: Mailbox full' } }
      : rcpt === 'c@example.net' ? { data: { code: 550, message: '5.7.1 Message rejected as spam by Content Filtering' } }
      : 'accept');
    await send();
    const all = await rows();
    expect(all.find((r) => r.email === 'b@example.org')).toMatchObject({ status: 'failed', reason: 'mailboxfull' });
    expect(all.find((r) => r.email === 'c@example.net')).toMatchObject({ status: 'failed', reason: 'spamdetected' });
    expect(await ctx.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
    const bounces = await ctx.db.selectFrom('bounces').select(['kind', 'reason']).orderBy('id').execute();
    expect(bounces).toEqual([{ kind: 'soft', reason: 'mailboxfull' }, { kind: 'policy', reason: 'spamdetected' }]);
  });

  it('pauses one receiving domain after repeated policy rejections, warns, and keeps sending elsewhere', async () => {
    const people = [...Array.from({ length: 6 }, (_, i) => `reader${i}@outlook.test`), 'x@example.com', 'y@example.org'];
    await setUp(
      (rcpt) => (rcpt.endsWith('@outlook.test') ? { rcpt: { code: 550, message: '5.7.1 Unfortunately, messages from [203.0.113.5] weren\'t sent. Part of their network is on our block list (S3150).' } } : 'accept'),
      { RECAP_DOMAIN_PAUSE_AFTER: '3', RECAP_MAX_FAILURES_IN_A_ROW: '100' },
      people,
    );
    const io = testIo(ctx, () => createTransport(ctx.config), { waitForRetries: false });
    const report = await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.outcome.pausedDomains.map((d) => d.domain)).toEqual(['outlook.test']);
    expect(io.logs.join('\n')).toMatch(/outlook\.test rejected 3 messages for policy reasons.*not suppressed/);
    const all = await rows();
    expect(all.filter((r) => r.email.endsWith('@outlook.test') && r.status === 'failed')).toHaveLength(3);
    expect(all.filter((r) => r.email.endsWith('@outlook.test') && r.status === 'deferred')).toHaveLength(3);
    expect(sink.attempts.get('reader5@outlook.test')).toBeUndefined();
    expect(copies('x@example.com')).toBe(1);
    expect(copies('y@example.org')).toBe(1);
    expect(await ctx.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
  });
});

describe('a server that is down or rejects everything', () => {
  it('pauses at exactly RECAP_MAX_FAILURES_IN_A_ROW, mid-batch, says why, and resumes once the server is back', async () => {
    let down = true;
    const people = Array.from({ length: 12 }, (_, i) => `p${i}@example.com`);
    await setUp(() => (down ? { rcpt: { code: 421, message: '4.3.2 Service shutting down' } } : 'accept'), { RECAP_MAX_FAILURES_IN_A_ROW: '3', RECAP_SEND_BATCH: '5' }, people);
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.outcome.pausedBecause).toMatch(/^3 deliveries in a row were not submitted \(last: .*4\.3\.2 Service shutting down\); the SMTP server is down or rejecting us$/);
    expect(report.edition.row.status).toBe('paused');
    // Three tries reached the server, in id order; the other two of the batch went back untouched.
    expect([...sink.attempts.values()].reduce((a, b) => a + b, 0)).toBe(3);
    const all = await rows();
    expect(all.slice(0, 3).map((r) => [r.status, r.attempts])).toEqual([['deferred', 1], ['deferred', 1], ['deferred', 1]]);
    expect(all.slice(3).map((r) => [r.status, r.attempts, r.error])).toEqual(people.slice(3).map(() => ['queued', 0, null]));
    // Sending again refuses until the operator resumes.
    await expect(send()).rejects.toThrow(/is paused .*recap digest resume --week 2026-W48/);
    down = false;
    await controlEdition(ctx.db, report.edition, 'resume', ctx.clock.now());
    const resumed = await send();
    if (resumed.kind !== 'sent') throw new Error(resumed.kind);
    expect(resumed.edition.row.status).toBe('sent');
    for (const p of people) expect(copies(p), p).toBe(1);
  });

  it('pauses at RECAP_MAX_FAILURES_IN_A_ROW with parallel connections too (only what was in flight comes on top)', async () => {
    const people = Array.from({ length: 20 }, (_, i) => `w${i}@example.com`);
    await setUp(() => ({ rcpt: { code: 451, message: '4.3.0 Try again later' } }), { RECAP_MAX_FAILURES_IN_A_ROW: '4', RECAP_SEND_BATCH: '20', SMTP_POOL_SIZE: '3' }, people);
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.edition.row.status).toBe('paused');
    const tried = [...sink.attempts.values()].reduce((a, b) => a + b, 0);
    expect(tried).toBeGreaterThanOrEqual(4);
    expect(tried).toBeLessThanOrEqual(4 + 2);
    expect(report.counts.queued).toBe(20 - tried);
    expect(report.counts.claimed).toBe(0);
  });
});

describe('our own relay unreachable', () => {
  // Not the recipients' fault: nobody is charged an attempt or moves towards expiry, however many
  // times the operator resumes during the outage.
  const relays: Array<[string, () => Promise<string>, RegExp]> = [
    ['nothing listening (connection refused)', async () => `smtp://127.0.0.1:${await refusedPort()}`, /ECONNREFUSED/],
    ['a server that never greets', async () => {
      const silent = await startSilentServer();
      cleanups.push(silent.close);
      return silent.url;
    }, /Greeting never received/],
    // .invalid never resolves (RFC 2606).
    ['a relay name that does not resolve', async () => 'smtp://no-such-relay.invalid:2525', /ENOTFOUND|EAI_AGAIN|getaddrinfo/],
    ['TLS that fails (smtps:// to a server that speaks plain SMTP)', async () => `smtps://127.0.0.1:${sink.port}`, /SSL|TLS/i],
    ['a server that refuses our login', async () => {
      const relay = await startSmtpSink({ login: () => false });
      cleanups.push(relay.close);
      return `smtp://recap:wrong@127.0.0.1:${relay.port}`;
    }, /Invalid login: 535/],
  ];

  it.each(relays)('%s: pauses after exactly N tries, charges no attempt, and never expires anyone', async (_, relayUrl, error) => {
    const people = Array.from({ length: 8 }, (_, i) => `u${i}@example.com`);
    await setUp(() => 'accept', { RECAP_MAX_FAILURES_IN_A_ROW: '3', RECAP_SEND_BATCH: '5', RECAP_RETRY_DEADLINE_HOURS: '24' }, people);
    ctx.config = { ...ctx.config, smtpUrl: await relayUrl() };
    for (let run = 0; run < 3; run++) {
      const report = await send();
      if (report.kind !== 'sent') throw new Error(report.kind);
      expect(report.outcome.requeued, `run ${run}`).toBe(3);
      expect(report.outcome.pausedBecause).toMatch(error);
      expect(report.outcome.pausedBecause).toMatch(/^3 deliveries in a row were not submitted \(last: smtp:\/\/[\w.-]+:\d+: /);
      expect(report.edition.row.status).toBe('paused');
      const all = await rows();
      expect(all.map((r) => [r.status, r.attempts, r.error, r.next_attempt_at])).toEqual(people.map(() => ['queued', 0, null, null]));
      // A day and a half of outage, resumed every twelve hours.
      ctx.clock.advance(12 * 3_600_000);
      await controlEdition(ctx.db, report.edition, 'resume', ctx.clock.now());
    }
    // The relay is back: everyone gets one copy, on their first counted attempt.
    ctx.config = { ...ctx.config, smtpUrl: sink.url };
    const back = await send();
    if (back.kind !== 'sent') throw new Error(back.kind);
    expect(back.edition.row.status).toBe('sent');
    expect((await rows()).map((r) => [r.status, r.attempts])).toEqual(people.map(() => ['submitted', 1]));
    for (const p of people) expect(copies(p), p).toBe(1);
  });

  it('a deferred delivery that meets the outage on its retry keeps its attempts and stays deferred', async () => {
    await setUp((rcpt, attempt) => (rcpt === 'b@example.org' && attempt === 1 ? { rcpt: { code: 450, message: '4.2.0 Greylisted' } } : 'accept'), { RECAP_MAX_FAILURES_IN_A_ROW: '2' });
    const first = await send({ waitForRetries: false });
    if (first.kind !== 'sent') throw new Error(first.kind);
    const before = (await rows()).find((r) => r.email === 'b@example.org');
    expect(before).toMatchObject({ status: 'deferred', attempts: 1 });
    ctx.clock.advance(3_600_000);
    ctx.config = { ...ctx.config, smtpUrl: `smtp://127.0.0.1:${await refusedPort()}` };
    const second = await send({ waitForRetries: false });
    if (second.kind !== 'sent') throw new Error(second.kind);
    // Tried twice back to back, both times put back as it was; then the edition pauses.
    expect(second.outcome.requeued).toBe(2);
    expect(second.edition.row.status).toBe('paused');
    expect((await rows()).find((r) => r.email === 'b@example.org')).toEqual(before);
  });

  it('a 4xx for one recipient still charges that recipient an attempt', async () => {
    await setUp((rcpt) => (rcpt === 'b@example.org' ? { rcpt: { code: 451, message: '4.7.1 Greylisted, try again' } } : 'accept'));
    const report = await send({ waitForRetries: false });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.outcome.requeued).toBe(0);
    expect((await rows()).map((r) => [r.email, r.status, r.attempts])).toEqual([
      ['a@example.com', 'submitted', 1], ['b@example.org', 'deferred', 1], ['c@example.net', 'submitted', 1],
    ]);
  });
});

describe('control', () => {
  it('finishes the batch in flight and stops on a signal; the next run goes on and nobody gets two', async () => {
    const people = Array.from({ length: 9 }, (_, i) => `s${i}@example.com`);
    await setUp(() => 'accept', {}, people);
    const stop = new AbortController();
    const first = await send({ signal: stop.signal, onProgress: (done) => { if (done >= 2) stop.abort(); } });
    if (first.kind !== 'sent') throw new Error(first.kind);
    expect(first.outcome.interrupted).toBe(true);
    expect(first.counts.submitted).toBe(2);
    expect(first.counts.queued).toBe(7);
    expect(first.counts.claimed).toBe(0);
    const second = await send();
    if (second.kind !== 'sent') throw new Error(second.kind);
    for (const p of people) expect(copies(p), p).toBe(1);
  });

  it('stops when the operator pauses the edition mid-send', async () => {
    const people = Array.from({ length: 8 }, (_, i) => `q${i}@example.com`);
    await setUp(() => 'accept', {}, people);
    let paused = false;
    const report = await send({
      onProgress: (done) => {
        if (done >= 2 && !paused) {
          paused = true;
          void ctx.db.updateTable('editions').set({ status: 'paused', paused_reason: 'paused by the operator' }).execute();
        }
      },
    });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.outcome.interrupted).toBe(true);
    expect(report.edition.row.status).toBe('paused');
    expect(report.counts.submitted).toBeLessThan(8);
  });

  it('stops waiting for a due retry the moment it is told to stop', async () => {
    await setUp((rcpt, attempt) => (rcpt === 'b@example.org' && attempt === 1 ? { rcpt: { code: 450, message: '4.2.0 Greylisted' } } : 'accept'));
    const stop = new AbortController();
    // Real waiting this time: the retry is due in about 60 s, on a clock that does not move.
    let stoppedAt = 0;
    const log = (line: string) => {
      if (line.startsWith('waiting') && !stoppedAt) setTimeout(() => ((stoppedAt = Date.now()), stop.abort()), 200);
    };
    const report = await send({ sleep: systemSleep, signal: stop.signal, log });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(Date.now() - stoppedAt).toBeLessThan(1000);
    expect(report.outcome.interrupted).toBe(true);
    expect(report.counts).toMatchObject({ submitted: 2, deferred: 1, claimed: 0 });
  }, 15_000);

  it('lets only one sender work on an edition at a time', async () => {
    await setUp(() => 'accept');
    const first = await acquireLease(ctx.db, 'send:edition:1', ctx.clock, 60_000);
    await expect(acquireLease(ctx.db, 'send:edition:1', ctx.clock, 60_000)).rejects.toThrow(LeaseHeldError);
    ctx.clock.advance(61_000);
    const second = await acquireLease(ctx.db, 'send:edition:1', ctx.clock, 60_000);
    expect(await first.renew()).toBe(false);
    await second.release();
  });

  it('paces submissions to RECAP_RATE', async () => {
    const people = Array.from({ length: 10 }, (_, i) => `r${i}@example.com`);
    await setUp(() => 'accept', { RECAP_RATE: '5' }, people);
    const started = ctx.clock.now().getTime();
    await send();
    // Ten messages at five a second: the first goes at once, the tenth 1.8 s later.
    expect(ctx.clock.now().getTime() - started).toBeGreaterThanOrEqual(1800);
    expect(sink.messages).toHaveLength(10);
  });
});
