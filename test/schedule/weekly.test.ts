// The weekly schedule with an injected clock (no real waiting): daylight-saving changes, missed
// runs, two schedulers on one database, and the approve and deadline paths.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { importArticles } from '../../src/articles/import.ts';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { cronSlots, dueWeek } from '../../src/schedule/slots.ts';
import { tick } from '../../src/schedule/weekly.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx?.close();
});

const io = (c: TestContext) => testIo(c, () => outboxTransport(c.config.outboxDir), { waitForRetries: false });

/** The editors' emails in the outbox, parsed. */
async function transactional(): Promise<Array<{ to: string; subject: string; text: string }>> {
  const dir = join(ctx.config.outboxDir, 'transactional');
  if (!existsSync(dir)) return [];
  return Promise.all(
    readdirSync(dir).map(async (f) => {
      const mail = await simpleParser(readFileSync(join(dir, f)));
      const to = mail.to && !Array.isArray(mail.to) ? (mail.to.value[0]?.address ?? '') : '';
      return { to, subject: mail.subject ?? '', text: (mail.text ?? '').replace(/\s+/g, ' ') };
    }),
  );
}

async function runs(c: TestContext) {
  return c.db.selectFrom('schedule_runs').selectAll().orderBy('week').execute();
}

describe('weekly runs across daylight-saving changes', () => {
  it.each([
    ['Europe/Berlin', '2026-03-01T00:00:00Z', '2026-04-13T00:00:00Z'],
    ['Europe/Berlin', '2026-10-11T00:00:00Z', '2026-11-16T00:00:00Z'],
    ['America/New_York', '2026-02-22T00:00:00Z', '2026-03-30T00:00:00Z'],
    ['America/New_York', '2026-10-18T00:00:00Z', '2026-11-23T00:00:00Z'],
  ])('in %s from %s, every week runs once, on Monday at 08:00 local', async (zone, from, to) => {
    ctx = await createTestContext({ RECAP_TZ: zone, RECAP_SEND_MODE: 'auto' }, from);
    const slots = cronSlots(ctx.config.cron, zone);
    for (let t = Date.parse(from); t < Date.parse(to); t += 30 * 60_000) {
      ctx.clock.set(new Date(t).toISOString());
      await tick(ctx, io(ctx), slots);
    }
    // The week before the first tick had its slot days earlier, with no daemon running: missed.
    const [missed, ...done] = await runs(ctx);
    expect(missed?.state).toBe('missed');
    const weeks = Math.round((Date.parse(to) - Date.parse(from)) / (7 * 86_400_000));
    expect(done.length).toBeGreaterThanOrEqual(weeks - 1);
    expect(new Set(done.map((r) => r.week)).size).toBe(done.length);
    for (const r of done) {
      const local = DateTime.fromISO(r.created_at, { zone });
      expect(local.weekday, r.created_at).toBe(1);
      expect(local.hour, `${r.week} ran at ${local.toISO()}`).toBe(8);
      expect(r.state).toBe('skipped-thin'); // no articles in those weeks
    }
  });

  it('finds the slot after each week’s end in the list’s zone', () => {
    const slots = cronSlots('0 8 * * 1', 'Europe/Berlin');
    // Before W48's slot, the latest passed slot is W47's, a week ago: beyond the tolerance.
    expect(dueWeek(new Date('2026-11-30T06:59:00Z'), slots, 'Europe/Berlin', 86_400_000)).toMatchObject({ week: '2026-W47', missed: true });
    expect(dueWeek(new Date('2026-11-30T07:00:00Z'), slots, 'Europe/Berlin', 86_400_000)).toMatchObject({ week: '2026-W48', missed: false });
    expect(dueWeek(new Date('2026-12-01T07:00:00Z'), slots, 'Europe/Berlin', 86_400_000)).toMatchObject({ week: '2026-W48', missed: false });
    expect(dueWeek(new Date('2026-12-01T07:01:00Z'), slots, 'Europe/Berlin', 86_400_000)).toMatchObject({ week: '2026-W48', missed: true });
    // Summer time: 08:00 in Berlin is 06:00 UTC.
    expect(dueWeek(new Date('2026-06-01T06:00:00Z'), slots, 'Europe/Berlin', 86_400_000)?.week).toBe('2026-W22');
  });
});

describe('a run missed while the daemon was down', () => {
  it('is made up at start within the tolerance', async () => {
    ctx = await createTestContext({ RECAP_SEND_MODE: 'auto' }, '2026-11-30T20:00:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    await addSubscriber(ctx, 'ada@example.com');
    const done = await tick(ctx, io(ctx), cronSlots(ctx.config.cron, 'UTC'));
    expect(done.join('\n')).toMatch(/2026-W48: sent at once/);
    expect((await runs(ctx)).map((r) => [r.week, r.state])).toEqual([['2026-W48', 'sent']]);
  });

  it('is recorded as missed beyond the tolerance, logged and told to the editors; it goes out only once approved', async () => {
    ctx = await createTestContext({ RECAP_SEND_MODE: 'auto', RECAP_CATCHUP_HOURS: '24', RECAP_EDITORS: 'ed@example.com' }, '2026-12-01T08:01:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    await addSubscriber(ctx, 'ada@example.com');
    const slots = cronSlots(ctx.config.cron, 'UTC');
    const logged: string[] = [];
    const first = await tick(ctx, { ...io(ctx), log: (l) => logged.push(l) }, slots);
    expect(first).toEqual(['2026-W48: run missed (due 2026-11-30 08:00 UTC, more than RECAP_CATCHUP_HOURS=24 h ago); nothing made or sent; editors told']);
    expect(logged).toContain(first[0]);
    expect(await runs(ctx)).toMatchObject([{ week: '2026-W48', state: 'missed', detail: 'due 2026-11-30 08:00 UTC; no schedule ran until 2026-12-01 08:01 UTC, more than RECAP_CATCHUP_HOURS (24 h) later' }]);
    expect(await ctx.db.selectFrom('editions').selectAll().execute()).toEqual([]);
    const [told, ...more] = await transactional();
    expect(more).toEqual([]);
    expect(told).toMatchObject({ to: 'ed@example.com', subject: '[Recap] No edition for 2026-W48' });
    expect(told?.text).toContain('its run was due at 2026-11-30 08:00 UTC');
    expect(told?.text).toContain('recap digest build --week 2026-W48');

    // Later ticks tell nobody again, and a draft built by hand has no deadline that sends it.
    await ensureEdition(ctx.db, await findList(ctx.db, 'weekly-ai-recap'), { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    ctx.clock.advance(3 * 86_400_000);
    expect(await tick(ctx, io(ctx), slots)).toEqual([]);
    expect(await transactional()).toHaveLength(1);
    expect(existsSync(join(ctx.config.outboxDir, '2026-W48'))).toBe(false);

    // An editor's approval sends it.
    await ctx.db.updateTable('editions').set({ status: 'approved', approved_by: 'ed@example.com' }).execute();
    expect((await tick(ctx, io(ctx), slots)).join('\n')).toContain('2026-W48: approved by ed@example.com after its run was missed; 1 submitted');
    expect(readdirSync(join(ctx.config.outboxDir, '2026-W48'))).toHaveLength(1);
    expect((await runs(ctx))[0]?.state).toBe('sent');
  });
});

describe('two schedulers on one database file', () => {
  it('make one edition and one send', async () => {
    ctx = await createTestContext({ RECAP_SEND_MODE: 'auto', RECAP_RATE: '0' }, '2026-11-30T08:00:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    const people = Array.from({ length: 30 }, (_, i) => `two${i}@example.com`);
    for (const p of people) await addSubscriber(ctx, p);
    const second = { ...ctx, db: openDb(ctx.config.databaseUrl) };
    const slots = cronSlots(ctx.config.cron, 'UTC');
    await Promise.all([tick(ctx, io(ctx), slots), tick(second, io(ctx), slots), tick(ctx, io(ctx), slots)]);
    await tick(second, io(ctx), slots);
    await second.db.destroy();
    const editions = await ctx.db.selectFrom('editions').select(['week', 'status']).execute();
    expect(editions).toEqual([{ week: '2026-W48', status: 'sent' }]);
    const files = readdirSync(join(ctx.config.outboxDir, '2026-W48'));
    expect(files).toHaveLength(30);
    const deliveries = await ctx.db.selectFrom('deliveries').select('status').execute();
    expect(deliveries.every((d) => d.status === 'submitted')).toBe(true);
  });
});

describe('approval', () => {
  async function setUp(env: Record<string, string>) {
    ctx = await createTestContext({ RECAP_EDITORS: 'ed@example.com, chief@example.com', RECAP_APPROVAL_DEADLINE_HOURS: '6', ...env }, '2026-11-30T08:00:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    await addSubscriber(ctx, 'reader@example.com');
    return cronSlots(ctx.config.cron, 'UTC');
  }
  const outbox = (week: string) => {
    try {
      return readdirSync(join(ctx.config.outboxDir, week));
    } catch {
      return [];
    }
  };

  it('waits as a draft, tells the editors, and sends once approved', async () => {
    const slots = await setUp({});
    await tick(ctx, io(ctx), slots);
    const edition = await ctx.db.selectFrom('editions').selectAll().executeTakeFirstOrThrow();
    expect(edition.status).toBe('draft');
    expect((await runs(ctx))[0]?.state).toBe('awaiting-approval');
    const told = outbox('transactional');
    expect(told.filter((f) => f.includes('ed@example.com'))).toHaveLength(1);
    expect(told.filter((f) => f.includes('chief@example.com'))).toHaveLength(1);
    ctx.clock.advance(60_000);
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toEqual([]);
    await ctx.db.updateTable('editions').set({ status: 'approved', approved_by: 'ed@example.com' }).execute();
    ctx.clock.advance(60_000);
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toHaveLength(1);
    expect((await runs(ctx))[0]?.state).toBe('sent');
    // Nothing more happens on later ticks.
    ctx.clock.advance(3_600_000);
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toHaveLength(1);
    expect(outbox('transactional')).toHaveLength(2);
  });

  it('waits for the time an editor scheduled', async () => {
    const slots = await setUp({});
    await tick(ctx, io(ctx), slots);
    await ctx.db.updateTable('editions').set({ status: 'approved', send_at: '2026-11-30T12:00:00.000Z' }).execute();
    ctx.clock.set('2026-11-30T11:59:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toEqual([]);
    ctx.clock.set('2026-11-30T12:00:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toHaveLength(1);
  });

  it('gives the editors the whole approval time from when they were told, when the run is made up late', async () => {
    const slots = await setUp({ RECAP_DEADLINE_ACTION: 'send', RECAP_CATCHUP_HOURS: '24' });
    // Twelve hours after the slot, past slot + RECAP_APPROVAL_DEADLINE_HOURS: the deadline is from now.
    ctx.clock.set('2026-11-30T20:00:00Z');
    const done = await tick(ctx, io(ctx), slots);
    expect(done).toEqual(['2026-W48: edition #1 waits for approval until 2026-12-01T02:00:00.000Z; editors told']);
    expect(await runs(ctx)).toMatchObject([{ state: 'awaiting-approval', approval_deadline_at: '2026-12-01T02:00:00.000Z', editors_told_at: '2026-11-30T20:00:00.000Z' }]);
    const review = (await transactional()).find((m) => m.to === 'ed@example.com');
    expect(review?.text).toContain('Deadline: 2026-12-01 02:00 UTC: it goes out anyway');
    ctx.clock.set('2026-12-01T01:59:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toEqual([]);
    ctx.clock.set('2026-12-01T02:00:00Z');
    expect((await tick(ctx, io(ctx), slots)).join('\n')).toContain('not approved by the deadline; sent anyway');
    expect(outbox('2026-W48')).toHaveLength(1);
  });

  it('rounds the deadline up to the minute the review email shows', async () => {
    const slots = await setUp({});
    ctx.clock.set('2026-11-30T08:00:42Z');
    await tick(ctx, io(ctx), slots);
    expect((await runs(ctx))[0]?.approval_deadline_at).toBe('2026-11-30T14:01:00.000Z');
  });

  it('tells the editors of a draft they were never told about (a crash before the review email), with a full deadline', async () => {
    const slots = await setUp({});
    ctx.clock.set('2026-11-30T07:00:00Z');
    await ensureEdition(ctx.db, await findList(ctx.db, 'weekly-ai-recap'), { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    const at = '2026-11-30T08:00:00.000Z';
    await ctx.db.insertInto('schedule_runs').values({ list_id: ctx.listId, week: '2026-W48', state: 'awaiting-approval', detail: 'starting', editors_told_at: null, approval_deadline_at: null, created_at: at, updated_at: at }).execute();
    ctx.clock.set('2026-11-30T16:00:00Z');
    expect(await tick(ctx, io(ctx), slots)).toEqual(['2026-W48: edition #1 waits for approval until 2026-11-30T22:00:00.000Z; editors told']);
    expect(outbox('2026-W48')).toEqual([]);
    expect(outbox('transactional')).toHaveLength(2);
  });

  it('sends anyway at the deadline with RECAP_DEADLINE_ACTION=send', async () => {
    const slots = await setUp({ RECAP_DEADLINE_ACTION: 'send' });
    await tick(ctx, io(ctx), slots);
    ctx.clock.set('2026-11-30T13:59:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toEqual([]);
    ctx.clock.set('2026-11-30T14:00:00Z');
    const done = await tick(ctx, io(ctx), slots);
    expect(done.join('\n')).toContain('not approved by the deadline; sent anyway');
    expect(outbox('2026-W48')).toHaveLength(1);
    const edition = await ctx.db.selectFrom('editions').select(['status', 'approved_by']).executeTakeFirstOrThrow();
    expect(edition).toEqual({ status: 'sent', approved_by: 'the deadline' });
  });

  it('skips at the deadline with RECAP_DEADLINE_ACTION=skip, and tells the editors', async () => {
    const slots = await setUp({ RECAP_DEADLINE_ACTION: 'skip' });
    await tick(ctx, io(ctx), slots);
    ctx.clock.set('2026-11-30T14:00:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toEqual([]);
    expect((await ctx.db.selectFrom('editions').select('status').executeTakeFirstOrThrow()).status).toBe('skipped');
    expect((await runs(ctx))[0]?.state).toBe('skipped-deadline');
    expect(outbox('transactional').filter((f) => f.includes('ed@example.com'))).toHaveLength(2);
  });

  it('sends an edition approved before its slot without asking the editors again', async () => {
    const slots = await setUp({});
    ctx.clock.set('2026-11-30T07:00:00Z');
    await ensureEdition(ctx.db, await findList(ctx.db, 'weekly-ai-recap'), { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    await ctx.db.updateTable('editions').set({ status: 'approved', approved_by: 'ed@example.com' }).execute();
    ctx.clock.set('2026-11-30T08:00:00Z');
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toHaveLength(1);
    expect(outbox('transactional')).toEqual([]);
    expect((await runs(ctx))[0]?.state).toBe('sent');
  });

  it('records a week sent by hand before its slot as sent, telling nobody', async () => {
    const slots = await setUp({});
    ctx.clock.set('2026-11-30T07:00:00Z');
    await runWeeklyRecap(ctx, io(ctx), { week: '2026-W48' });
    ctx.clock.set('2026-11-30T08:00:00Z');
    await tick(ctx, io(ctx), slots);
    ctx.clock.advance(86_400_000);
    await tick(ctx, io(ctx), slots);
    expect(outbox('2026-W48')).toHaveLength(1);
    expect(outbox('transactional')).toEqual([]);
    expect((await runs(ctx))[0]?.state).toBe('sent');
  });

  it('tells the editors about a thin week and sends nothing', async () => {
    ctx = await createTestContext({ RECAP_EDITORS: 'ed@example.com', RECAP_MIN_STORIES: '20' }, '2026-11-30T08:00:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    await addSubscriber(ctx, 'reader@example.com');
    await tick(ctx, io(ctx), cronSlots(ctx.config.cron, 'UTC'));
    expect(await ctx.db.selectFrom('editions').selectAll().execute()).toEqual([]);
    expect((await runs(ctx))[0]).toMatchObject({ state: 'skipped-thin' });
    expect(outbox('transactional')).toHaveLength(1);
    expect(outbox('2026-W48')).toEqual([]);
  });
});

describe('an interrupted send', () => {
  it('is resumed by the next tick', async () => {
    ctx = await createTestContext({ RECAP_SEND_MODE: 'auto', RECAP_SEND_BATCH: '1' }, '2026-11-30T08:00:00Z');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    for (const p of ['a@example.com', 'b@example.com', 'c@example.com']) await addSubscriber(ctx, p);
    const slots = cronSlots(ctx.config.cron, 'UTC');
    const stop = new AbortController();
    await tick(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir), { waitForRetries: false, signal: stop.signal, onProgress: (done) => { if (done >= 1) stop.abort(); } }), slots);
    const half = await ctx.db.selectFrom('deliveries').select('status').execute();
    expect(half.some((d) => d.status === 'queued')).toBe(true);
    ctx.clock.advance(60_000);
    await tick(ctx, io(ctx), slots);
    const all = await ctx.db.selectFrom('deliveries').select('status').execute();
    expect(all.map((d) => d.status)).toEqual(['submitted', 'submitted', 'submitted']);
  });
});
