// Subject tests as the send runs them: a seeded sample drawn at enqueue, the rest held back, the
// sample sent over a real SMTP server with each arm's subject (read back with mailparser), clicks
// put in message_clicks as the click redirect records them, the clock moved past the wait, and the
// rest sent the winner, or the first subject when no challenger beat it.
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { importArticles } from '../../src/articles/import.ts';
import { findList } from '../../src/audience/lists.ts';
import { claimDue } from '../../src/delivery/claim.ts';
import { enqueueDeliveries } from '../../src/delivery/enqueue.ts';
import { editionStatus } from '../../src/delivery/control.ts';
import { deliveryCounts } from '../../src/delivery/send.ts';
import { findSubjectTest, HELD, stepSubjectTest } from '../../src/delivery/subject-test.ts';
import { createTransport, outboxTransport } from '../../src/delivery/transport.ts';
import { type Edition, ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { runWorker } from '../../src/worker.ts';
import { scheduleStatus } from '../../src/schedule/status.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { addReaders } from '../helpers/deliveries.ts';
import { seededRandom } from '../../bench/population.ts';
import { testIo, testLog } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let sink: SmtpSink | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
  await ctx.close();
});

const SUBJECTS = ['The week in AI chips', 'Who won the GPU week?', 'Five things about inference'];
const HOUR = 3_600_000;

async function setUp(readers: number, env: Record<string, string> = {}): Promise<Edition> {
  ctx = await createTestContext({ RECAP_TRACK_CLICKS: 'true', RECAP_RATE: '0', RECAP_SEND_BATCH: '50', ...env });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  await addReaders(ctx, readers);
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const planned = await ensureEdition(ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  return planned.edition;
}

async function planTest(edition: Edition, test: { subjects?: string[]; percent?: number; count?: number; waitMinutes?: number; confidence?: number } = {}) {
  const at = ctx.clock.now().toISOString();
  await ctx.db
    .insertInto('subject_tests')
    .values({
      edition_id: edition.row.id, subjects: JSON.stringify(test.subjects ?? SUBJECTS), sample_percent: test.count ? null : (test.percent ?? 20), sample_count: test.count ?? null,
      wait_minutes: test.waitMinutes ?? 240, confidence: test.confidence ?? 0.95, created_at: at, updated_at: at,
    })
    .execute();
}

async function deliveries(editionId: number) {
  return ctx.db.selectFrom('deliveries').select(['id', 'subscriber_id', 'subject_arm', 'not_before', 'status']).where('edition_id', '=', editionId).orderBy('id').execute();
}

/** `clicked` messages of `arm` clicked, as the click redirect records them: a random tag per message. */
async function clickMessages(edition: Edition, arm: number, clicked: number) {
  const at = ctx.clock.now().toISOString();
  const articleId = (edition.stories[0] as { id: number }).id;
  for (let i = 0; i < clicked; i++) {
    await ctx.db.insertInto('message_clicks').values({ edition_id: edition.row.id, message_tag: randomBytes(9).toString('base64url'), article_id: articleId, format: 'full', subject_arm: arm, sent_at: at, clicks: 1 + (i % 3), first_at: at, last_at: at }).execute();
  }
}

async function subjectsByRecipient(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of (sink as SmtpSink).messages) out.set(m.to[0] as string, (await simpleParser(m.raw)).subject as string);
  return out;
}

describe('the sample', () => {
  it('is drawn at random from the seed, balanced over the arms, numbered first; the rest is held', async () => {
    const edition = await setUp(1000);
    await planTest(edition, { percent: 20 });
    expect(await enqueueDeliveries(ctx.db, edition, undefined, ctx.clock.now(), ctx.config, { random: seededRandom(42) })).toBe(1000);
    const rows = await deliveries(edition.row.id);
    const sample = rows.filter((r) => r.subject_arm !== null);
    const rest = rows.filter((r) => r.subject_arm === null);
    expect(sample).toHaveLength(200);
    expect(rest).toHaveLength(800);
    // 200 over 3 arms: 67, 67, 66
    expect([0, 1, 2].map((arm) => sample.filter((r) => r.subject_arm === arm).length)).toEqual([67, 67, 66]);
    // The sample has the lowest ids; the rest waits with not_before = HELD.
    expect(Math.max(...sample.map((r) => r.id))).toBeLessThan(Math.min(...rest.map((r) => r.id)));
    expect(sample.every((r) => r.not_before === null)).toBe(true);
    expect(rest.every((r) => r.not_before === HELD)).toBe(true);
    // Spread over the whole list, not its first fifth.
    const subscriberIds = rows.map((r) => r.subscriber_id).sort((a, b) => a - b);
    const median = subscriberIds[500] as number;
    const low = sample.filter((r) => r.subscriber_id < median).length;
    expect(low).toBeGreaterThan(70);
    expect(low).toBeLessThan(130);
    const test = await findSubjectTest(ctx.db, edition.row.id);
    expect(test).toMatchObject({ state: 'sampling', sampleSize: 200 });

    // Claims take the sample and never the held rest.
    expect(await claimDue(ctx.db, edition.row.id, 1000, ctx.clock.now().toISOString(), 'batch-1')).toBe(200);
    expect(await claimDue(ctx.db, edition.row.id, 1000, ctx.clock.now().toISOString(), 'batch-2')).toBe(0);

    // A second enqueue (a re-run) draws no second sample.
    expect(await enqueueDeliveries(ctx.db, edition, undefined, ctx.clock.now(), ctx.config, { random: seededRandom(7) })).toBe(0);
    const byArm = new Map(sample.map((r) => [r.subscriber_id, r.subject_arm]));

    // The same seed on a fresh database draws the same readers into the same arms; another seed does not.
    const again = async (seed: number) => {
      await ctx.close();
      const e = await setUp(1000);
      await planTest(e, { percent: 20 });
      await enqueueDeliveries(ctx.db, e, undefined, ctx.clock.now(), ctx.config, { random: seededRandom(seed) });
      return new Map((await deliveries(e.row.id)).filter((r) => r.subject_arm !== null).map((r) => [r.subscriber_id, r.subject_arm]));
    };
    expect(await again(42)).toEqual(byArm);
    expect(await again(43)).not.toEqual(byArm);
  });

  it('can be a count, and newcomers join the held rest', async () => {
    const edition = await setUp(100);
    await planTest(edition, { count: 30, subjects: SUBJECTS.slice(0, 2) });
    await enqueueDeliveries(ctx.db, edition, undefined, ctx.clock.now(), ctx.config, { random: seededRandom(1) });
    await addSubscriber(ctx, 'newcomer@example.com');
    expect(await enqueueDeliveries(ctx.db, edition, undefined, ctx.clock.now(), ctx.config, { random: seededRandom(1) })).toBe(1);
    const rows = await deliveries(edition.row.id);
    expect(rows.filter((r) => r.subject_arm === 0)).toHaveLength(15);
    expect(rows.filter((r) => r.subject_arm === 1)).toHaveLength(15);
    expect(rows.filter((r) => r.not_before === HELD)).toHaveLength(71);
    expect(rows.at(-1)).toMatchObject({ subject_arm: null, not_before: HELD });
  });

  it('without click counting at send time, does not run: everyone gets the first subject at once', async () => {
    const edition = await setUp(40);
    await planTest(edition, { percent: 50 });
    await enqueueDeliveries(ctx.db, edition, undefined, ctx.clock.now(), { ...ctx.config, trackClicks: false }, { random: seededRandom(1) });
    const rows = await deliveries(edition.row.id);
    expect(rows.every((r) => r.subject_arm === 0 && r.not_before === null)).toBe(true);
    const test = await findSubjectTest(ctx.db, edition.row.id);
    expect(test).toMatchObject({ state: 'decided', winnerArm: null, decision: { ran: false } });
    expect(test?.decision?.reason).toMatch(/^the test could not run: a subject test needs counted clicks \(RECAP_TRACK_CLICKS=true\).*; the first subject went to everyone$/);
  });
});

describe('a send with a subject test, over SMTP', () => {
  it('sends the sample its subjects, waits, and sends the rest the clear winner', async () => {
    sink = await startSmtpSink({ keep: 'head' });
    const edition = await setUp(400, {});
    ctx.config = { ...ctx.config, smtpUrl: sink.url };
    await planTest(edition, { percent: 75, waitMinutes: 240 });
    let clicked = false;
    const io = testIo(ctx, () => createTransport(ctx.config), {
      random: seededRandom(2026),
      // The wait for the test: readers click meanwhile (B clearly best), and the clock moves on.
      sleep: async (ms) => {
        if (!clicked) {
          clicked = true;
          expect(await findSubjectTest(ctx.db, edition.row.id)).toMatchObject({ state: 'waiting' });
          await clickMessages(edition, 0, 5);
          await clickMessages(edition, 1, 30);
          await clickMessages(edition, 2, 8);
        }
        ctx.clock.advance(ms);
      },
    });
    const started = ctx.clock.now().getTime();
    const report = await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.edition.row.status).toBe('sent');
    expect(report.counts.submitted).toBe(400);
    // The clock went past the 4 h wait, 30 s at a time, and the log says what it waited for.
    expect(ctx.clock.now().getTime() - started).toBeGreaterThanOrEqual(4 * HOUR);
    expect(io.logs.some((l) => /^waiting \d+ s for the subject test of edition 2026-W48/.test(l))).toBe(true);
    expect(io.logs.find((l) => l.startsWith('subject test decided'))).toMatch(/^subject test decided: B: 30\.0 % of 100 delivered clicked against 5\.0 % for A; a two-proportion z-test gives p < 0\.0001 < 0\.025 \(0\.05 shared by 2 comparisons\); the rest gets B$/);

    const subjects = await subjectsByRecipient();
    expect(subjects.size).toBe(400);
    const rows = await ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.id', 'd.subject_arm', 's.email']).where('d.edition_id', '=', edition.row.id).orderBy('d.id').execute();
    const test = await findSubjectTest(ctx.db, edition.row.id);
    expect(test).toMatchObject({ state: 'decided', winnerArm: 1, sampleSize: 300 });
    const sample = rows.slice(0, 300);
    const rest = rows.slice(300);
    // The sample got the three subjects, 100 each, each reader their arm's.
    for (const r of sample) expect(subjects.get(r.email)).toBe(SUBJECTS[r.subject_arm as number]);
    expect(SUBJECTS.map((s) => sample.filter((r) => subjects.get(r.email) === s).length)).toEqual([100, 100, 100]);
    // The rest all got the winner.
    expect(rest.every((r) => subjects.get(r.email) === SUBJECTS[1])).toBe(true);
    // The sample went out before the rest.
    const order = (sink as SmtpSink).messages.map((m) => m.to[0]);
    expect(new Set(order.slice(0, 300))).toEqual(new Set(sample.map((r) => r.email)));

    // `recap schedule status --json` carries the test of the week the schedule sent; its figures are the decision's.
    const at = ctx.clock.now().toISOString();
    await ctx.db.insertInto('schedule_runs').values({ list_id: ctx.listId, week: '2026-W48', state: 'sent', detail: null, editors_told_at: null, approval_deadline_at: null, created_at: at, updated_at: at }).execute();
    // Clicks after the decision (the rest's) do not change the figures it was made on.
    await clickMessages(edition, 1, 3);
    const week = (await scheduleStatus(ctx)).lists[0]?.weeks[0];
    expect(week?.subjectTest?.arms.map((a) => [a.letter, a.delivered, a.clicked])).toEqual([['A', 100, 5], ['B', 100, 30], ['C', 100, 8]]);
    expect(week?.subjectTest?.decided).toMatchObject({ winner: 1, goes: 'B' });
    expect(week?.description).toContain('subject test decided: B went to the rest (B: 30.0 % of 100 delivered clicked');
  });

  it('sends the rest the first subject when the difference is within chance; a restart after the wait decides once', async () => {
    sink = await startSmtpSink({ keep: 'head' });
    const edition = await setUp(300);
    ctx.config = { ...ctx.config, smtpUrl: sink.url };
    await planTest(edition, { percent: 60, waitMinutes: 120, subjects: SUBJECTS.slice(0, 2) });
    // Like `digest send --no-wait` (and the schedule): it stops when the sample is through.
    const io = testIo(ctx, () => createTransport(ctx.config), { random: seededRandom(5), waitForRetries: false });
    const first = await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    if (first.kind !== 'sent') throw new Error(first.kind);
    expect(first.counts).toMatchObject({ submitted: 180, queued: 120 });
    expect(first.edition.row.status).toBe('sending');
    expect(await findSubjectTest(ctx.db, edition.row.id)).toMatchObject({ state: 'waiting', decideAt: new Date(ctx.clock.now().getTime() + 2 * HOUR).toISOString() });
    await clickMessages(edition, 0, 10);
    await clickMessages(edition, 1, 14);

    // Before the wait is over a run sends nothing more.
    ctx.clock.advance(HOUR);
    const early = await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    expect(early.kind === 'sent' && early.outcome.submitted).toBe(0);

    // After it, three senders at once (two restarted ones, a `recap worker`): one decides, the rest goes once.
    ctx.clock.advance(HOUR + 1000);
    const logs: string[] = [];
    const worker = testLog(ctx);
    const [steps] = await Promise.all([
      Promise.all([0, 1].map(() => stepSubjectTest(ctx.db, edition.row.id, ctx.clock.now(), (l) => logs.push(l)))),
      runWorker(ctx, io, worker.log, { once: true, pollMs: 1000 }),
    ]);
    expect(steps.every((s) => s.released)).toBe(true);
    expect([...logs, ...worker.lines].filter((l) => l.includes('subject test decided'))).toHaveLength(1);
    const last = await ctx.db.selectFrom('editions').select('status').where('id', '=', edition.row.id).executeTakeFirstOrThrow();
    expect(last.status).toBe('sent');
    expect(await deliveryCounts(ctx.db, edition.row.id)).toMatchObject({ submitted: 300, queued: 0 });

    const test = await findSubjectTest(ctx.db, edition.row.id);
    expect(test).toMatchObject({ state: 'decided', winnerArm: null });
    expect(test?.decision?.reason).toMatch(/^no subject beat A at 95 % \(A 11\.1 % of 90; B 15\.6 % of 90, p = 0\.38\): the first subject goes$/);
    const subjects = await subjectsByRecipient();
    const rows = await ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.subject_arm', 's.email']).where('d.edition_id', '=', edition.row.id).orderBy('d.id').execute();
    expect(rows.slice(180).every((r) => r.subject_arm === 0 && subjects.get(r.email) === SUBJECTS[0])).toBe(true);
    expect((sink as SmtpSink).messages).toHaveLength(300);

    // A reader who joins after the decision gets the subject that went, at once.
    await addSubscriber(ctx, 'late@example.com');
    const late = await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    expect(late.kind === 'sent' && late.enqueued).toBe(1);
    expect((await subjectsByRecipient()).get('late@example.com')).toBe(SUBJECTS[0]);
  });

  it('a `recap worker` alone leaves the held rest during the wait and decides once it is over', async () => {
    const edition = await setUp(60);
    await planTest(edition, { percent: 50, waitMinutes: 60, subjects: SUBJECTS.slice(0, 2) });
    const io = testIo(ctx, () => outboxTransport(ctx.config.outboxDir), { random: seededRandom(3), waitForRetries: false });
    await runWeeklyRecap(ctx, io, { week: '2026-W48' });
    const during = testLog(ctx);
    // Nothing is due while the rest is held: the worker finds nothing to do and returns.
    expect((await runWorker(ctx, io, during.log, { once: true, pollMs: 1000 })).submitted).toBe(0);
    expect(await deliveryCounts(ctx.db, edition.row.id)).toMatchObject({ submitted: 30, queued: 30 });
    // `digest status` has no time left to tell while the rest waits for the decision.
    expect((await editionStatus(ctx.db, edition, ctx.clock.now(), 20)).secondsLeft).toBeNull();
    ctx.clock.advance(61 * 60_000);
    const after = testLog(ctx);
    expect((await runWorker(ctx, io, after.log, { once: true, pollMs: 1000 })).submitted).toBe(30);
    expect(after.lines.filter((l) => l.includes('edition 2026-W48: subject test decided: no subject beat A'))).toHaveLength(1);
    expect((await ctx.db.selectFrom('editions').select('status').where('id', '=', edition.row.id).executeTakeFirstOrThrow()).status).toBe('sent');
  });
});
