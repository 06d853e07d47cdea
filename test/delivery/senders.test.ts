// What several senders on one edition agree on through the database (issue 13; the processes
// themselves are workers.test.ts): the pace, the relay's quotas, paused domains, and whose batch is
// whose. Each "sender" is its own connection to the test database, as a process would have.
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../db/connect.ts';
import { loadEdition } from '../../src/editions/editions.ts';
import { findList } from '../../src/audience/lists.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { sharedPacer } from '../../src/delivery/pacing.ts';
import { pauseDomain } from '../../src/delivery/domain-pauses.ts';
import { LostClaimError } from '../../src/delivery/send.ts';
import { quotaOutlook } from '../../src/delivery/quota.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { systemClock, systemSleep } from '../../src/context.ts';
import { sendQueued } from '../../src/recap.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { queuedEdition } from '../helpers/deliveries.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function setUp(count: number, env: Record<string, string> = {}, script?: Parameters<typeof startSmtpSink>[0]): Promise<{ ctx: TestContext; sink: SmtpSink; editionId: number; ids: number[] }> {
  const sink = await startSmtpSink(script);
  cleanups.push(() => sink.close());
  const ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_RATE: '0', ...env });
  cleanups.push(() => ctx.close());
  const { editionId, ids } = await queuedEdition(ctx, count);
  await ctx.db.updateTable('editions').set({ status: 'sending' }).where('id', '=', editionId).execute();
  return { ctx, sink, editionId, ids };
}

/** Another sender: its own connection to the same database. */
function otherSender(ctx: TestContext): Db {
  const db = openDb(ctx.config.databaseUrl);
  cleanups.push(() => db.destroy());
  return db;
}

async function sendAs(ctx: TestContext, db: Db, editionId: number) {
  const row = await db.selectFrom('editions').selectAll().where('id', '=', editionId).executeTakeFirstOrThrow();
  const edition = await loadEdition(db, row, await findList(db, WEEKLY_AI_RECAP.slug), ctx.config.timeZone);
  return sendQueued({ ...ctx, db }, testIo(ctx, () => createTransport(ctx.config), { waitForRetries: false }), edition);
}

async function statuses(ctx: TestContext): Promise<Record<string, number>> {
  const rows = await ctx.db.selectFrom('deliveries').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

describe('the pace (RECAP_RATE)', () => {
  it('holds for two senders together: 50 messages at 50/s take a second, not half of one', async () => {
    const { ctx } = await setUp(0);
    const db = otherSender(ctx);
    const rate = 50;
    const paces = [sharedPacer(ctx.db, rate, systemClock, systemSleep), sharedPacer(db, rate, systemClock, systemSleep)];
    const started = Date.now();
    await Promise.all(paces.map(async (pace) => {
      for (let i = 0; i < 25; i++) await pace();
    }));
    // 50 slots 20 ms apart, the first at once: the last is 980 ms on. A slower machine only adds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe("the relay's quotas (RECAP_QUOTA)", () => {
  it('hold across senders and runs; digest status says when the rest can go; nobody is sent twice', async () => {
    const { ctx, sink, editionId } = await setUp(12, { RECAP_QUOTA: '5/1h, 100/1d' });
    const first = await sendAs(ctx, ctx.db, editionId);
    expect(first.outcome.submitted).toBe(5);
    expect(first.outcome.quotaUntil).not.toBeNull();
    expect(await statuses(ctx)).toEqual({ submitted: 5, queued: 7 });
    // Another sender, a minute later: still nothing.
    ctx.clock.advance(60_000);
    const second = await sendAs(ctx, otherSender(ctx), editionId);
    expect(second.outcome.submitted).toBe(0);
    const [hourly, daily] = await quotaOutlook(ctx.db, ctx.config.quotas, ctx.clock.now(), 7);
    expect(hourly).toMatchObject({ label: '5/1h', limit: 5, used: 5 });
    expect(daily).toMatchObject({ label: '100/1d', used: 5, restBy: ctx.clock.now() });
    // 5 leave the hourly window an hour after they were sent; the last 2 of 7 an hour after that.
    expect((hourly?.restBy as Date).getTime() - Date.parse('2026-11-30T08:00:00Z')).toBe(2 * 3_600_000 + 60_000);
    ctx.clock.advance(60 * 60_000);
    expect((await sendAs(ctx, otherSender(ctx), editionId)).outcome.submitted).toBe(5);
    ctx.clock.advance(60 * 60_000);
    const last = await sendAs(ctx, ctx.db, editionId);
    expect(last.outcome.submitted).toBe(2);
    expect(last.edition.row.status).toBe('sent');
    expect([...sink.byRecipient().values()].map((m) => m.length)).toEqual(Array(12).fill(1));
  });
});

describe("the relay's quotas, smaller than the connections", () => {
  it('send every message that got its share, and count no more than were sent', async () => {
    // Paced, so that the connections with a share wait for their slot while the others find the quota used up.
    const { ctx, editionId } = await setUp(8, { RECAP_QUOTA: '3/1h', SMTP_POOL_SIZE: '5', RECAP_RATE: '1000' });
    const r = await sendAs(ctx, ctx.db, editionId);
    expect(r.outcome.submitted).toBe(3);
    const [hourly] = await quotaOutlook(ctx.db, ctx.config.quotas, ctx.clock.now(), 5);
    expect(hourly?.used).toBe(3);
  });
});

describe('a paused domain', () => {
  it("is paused for every sender: another's send defers its rows without trying them", async () => {
    const { ctx, sink, editionId, ids } = await setUp(6);
    const subscribers = await ctx.db.selectFrom('deliveries').select('subscriber_id').where('id', 'in', ids.slice(0, 3)).execute();
    for (const s of subscribers) await ctx.db.updateTable('subscribers').set((eb) => ({ email: eb.fn('replace', ['email', eb.val('@example.com'), eb.val('@outlook.test')]) })).where('id', '=', s.subscriber_id).execute();
    await pauseDomain(ctx.db, { domain: 'outlook.test', until: new Date(ctx.clock.now().getTime() + 3_600_000), reply: '550 5.7.1 blocked' }, ctx.clock.now());
    const r = await sendAs(ctx, otherSender(ctx), editionId);
    expect(r.outcome.submitted).toBe(3);
    expect(r.outcome.deferred).toBe(3);
    expect([...sink.attempts.keys()].filter((a) => a.endsWith('@outlook.test'))).toEqual([]);
    const deferred = await ctx.db.selectFrom('deliveries').select(['reason', 'attempts', 'next_attempt_at']).where('status', '=', 'deferred').execute();
    expect(deferred).toEqual(Array(3).fill({ reason: 'blocked', attempts: 0, next_attempt_at: '2026-11-30T09:00:00.000Z' }));
  });
});

describe("another sender's batch", () => {
  it('is taken over once its lease has expired (what it handed over: uncertain), and left alone while it lives', async () => {
    const { ctx, sink, editionId, ids } = await setUp(8);
    const at = ctx.clock.now().getTime();
    const lease = (name: string, expires: number) => ctx.db.insertInto('leases').values({ name, owner: 'elsewhere:4242:abcdef:01', expires_at: new Date(expires).toISOString(), acquired_at: new Date(at).toISOString() }).execute();
    await lease('send:batch:dead', at - 1);
    await lease('send:batch:live', at + 60_000);
    const claim = (token: string, rows: number[], handedOver: boolean) =>
      ctx.db.updateTable('deliveries').set({ status: 'claimed', claim_token: token, claimed_at: handedOver ? new Date(at - 5000).toISOString() : null }).where('id', 'in', rows).execute();
    await claim('send:batch:dead', ids.slice(0, 2), false);
    await claim('send:batch:dead', ids.slice(2, 3), true);
    await claim('send:batch:live', ids.slice(3, 5), false);

    const r = await sendAs(ctx, ctx.db, editionId);
    expect(r.outcome.recoveredUncertain).toBe(1);
    expect(r.outcome.submitted).toBe(5); // 2 taken over, 3 never claimed
    expect(await statuses(ctx)).toEqual({ submitted: 5, uncertain: 1, claimed: 2 });
    expect(r.edition.row.status).toBe('sending');
    expect(await ctx.db.selectFrom('leases').select('name').execute()).toEqual([{ name: 'send:batch:live' }]);

    ctx.clock.advance(61_000);
    const after = await sendAs(ctx, otherSender(ctx), editionId);
    expect(after.outcome.submitted).toBe(2); // the two it had claimed, never handed over
    expect(after.outcome.recoveredUncertain).toBe(0);
    expect(await statuses(ctx)).toEqual({ submitted: 7, uncertain: 1 });
    expect(after.edition.row.status).toBe('sent');
    expect([...sink.byRecipient().values()].map((m) => m.length)).toEqual(Array(7).fill(1));
  });
});

describe('a sender that stalled past its lease', () => {
  it('finds its batch taken over and completes none of its messages: nobody gets two', async () => {
    let takenOver: Promise<unknown> = Promise.resolve();
    let first = true;
    // The first RCPT of the stalled sender is answered only after another sender, its lease
    // expired meanwhile, has taken the batch over and sent everything.
    const { ctx, sink, editionId } = await setUp(6, { SMTP_POOL_SIZE: '1' }, {
      script: () => {
        if (!first) return 'accept';
        first = false;
        return { acceptAfter: takenOver };
      },
    });
    let release: () => void = () => {};
    takenOver = new Promise<void>((resolve) => (release = resolve));
    const stalled = sendAs(ctx, ctx.db, editionId).then(() => null, (e: unknown) => e);
    // Once it has claimed its batch and sent its first RCPT.
    while (sink.attempts.size === 0) await new Promise((r) => setTimeout(r, 5));
    ctx.clock.advance(61_000);
    const other = await sendAs(ctx, otherSender(ctx), editionId);
    expect(other.outcome.submitted).toBe(6);
    release();
    const error = await stalled;
    expect(error).toBeInstanceOf(LostClaimError);
    expect((error as Error).message).toMatch(/taken over by another sender/);
    expect(await statuses(ctx)).toEqual({ submitted: 6 });
    expect([...sink.byRecipient().values()].map((m) => m.length)).toEqual(Array(6).fill(1));
  });
});
