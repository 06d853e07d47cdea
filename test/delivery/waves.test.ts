// Local send time (RECAP_LOCAL_SEND_TIME): a send in waves as each reader's zone reaches its
// morning, against a real SMTP server on loopback, with a clock the test moves.
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { editionWaves, localInstant } from '../../src/delivery/waves.ts';
import { updateDraft } from '../../src/editions/editions.ts';
import { runWeeklyRecap, type WeeklyReport } from '../../src/recap.ts';
import { runOnce } from '../../src/schedule/daemon.ts';
import { cronSlots } from '../../src/schedule/slots.ts';
import { type ScheduleStatus, scheduleStatus } from '../../src/schedule/status.ts';
import { tick } from '../../src/schedule/weekly.ts';
import { runWorker } from '../../src/worker.ts';
import { article, sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, testConfig, type TestContext } from '../helpers/context.ts';
import { testIo, testLog } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext | undefined;
let sink: SmtpSink | undefined;

afterEach(async () => {
  await sink?.close();
  await ctx?.close();
  sink = undefined;
  ctx = undefined;
});

async function setUp(env: Record<string, string>, now: string): Promise<TestContext> {
  sink = await startSmtpSink();
  ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_RATE: '0', RECAP_LOCAL_SEND_TIME: '08:00', ...env }, now);
  return ctx;
}

async function reader(c: TestContext, email: string, zone: string | null): Promise<number> {
  const id = await addSubscriber(c, email);
  await c.db.updateTable('subscribers').set({ time_zone: zone }).where('id', '=', id).execute();
  return id;
}

/** Each reader's deliveries: when submitted, and the id order they were queued in. */
async function submitted(c: TestContext) {
  return c.db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .innerJoin('editions as e', 'e.id', 'd.edition_id')
    .select(['d.id', 's.email', 's.time_zone', 'd.status', 'd.submitted_at', 'd.not_before', 'e.week'])
    .orderBy('d.id')
    .execute();
}

describe('RECAP_LOCAL_SEND_TIME', () => {
  it('is off unless set, and a time of day HH:MM when set', () => {
    const dir = '/nonexistent'; // only read into the config, never opened
    expect(testConfig(dir).localSendTime).toBeUndefined();
    expect(testConfig(dir, { RECAP_LOCAL_SEND_TIME: '07:45' }).localSendTime).toEqual({ hour: 7, minute: 45 });
    for (const bad of ['8:00', '24:00', '08:60', '8am']) {
      expect(() => testConfig(dir, { RECAP_LOCAL_SEND_TIME: bad }), bad).toThrow('RECAP_LOCAL_SEND_TIME: is not a time of day such as 08:00');
    }
  });
});

describe('localInstant', () => {
  it('is the time of day in the zone, on both sides of a change', () => {
    expect(localInstant({ year: 2026, month: 10, day: 26 }, { hour: 8, minute: 0 }, 'America/New_York').toISOString()).toBe('2026-10-26T12:00:00.000Z');
    expect(localInstant({ year: 2026, month: 11, day: 2 }, { hour: 8, minute: 0 }, 'America/New_York').toISOString()).toBe('2026-11-02T13:00:00.000Z');
    expect(localInstant({ year: 2026, month: 12, day: 7 }, { hour: 8, minute: 0 }, 'Asia/Tokyo').toISOString()).toBe('2026-12-06T23:00:00.000Z');
  });

  it('moves a time in a spring-forward gap to the first instant after it', () => {
    // Berlin, 2027-03-28: 02:00 CET is followed by 03:00 CEST (01:00Z).
    expect(localInstant({ year: 2027, month: 3, day: 28 }, { hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe('2027-03-28T01:00:00.000Z');
    expect(localInstant({ year: 2026, month: 3, day: 8 }, { hour: 2, minute: 15 }, 'America/New_York').toISOString()).toBe('2026-03-08T07:00:00.000Z');
  });

  it('takes the first of the two occurrences of a time in a fall-back overlap', () => {
    // Berlin, 2026-10-25: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(localInstant({ year: 2026, month: 10, day: 25 }, { hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(localInstant({ year: 2026, month: 11, day: 1 }, { hour: 1, minute: 30 }, 'America/New_York').toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('a send in waves of local send time', () => {
  // The list is in Tokyo; the send starts on Monday 30 November at 06:00 there (21:00Z the day before).
  const start = '2026-11-29T21:00:00Z';
  const waves = {
    'Pacific/Auckland': '2026-11-29T21:00:00.000Z', // its 08:00 (19:00Z) had passed: at once
    'Asia/Tokyo': '2026-11-29T23:00:00.000Z',
    'Europe/Berlin': '2026-11-30T07:00:00.000Z',
    'America/New_York': '2026-11-30T13:00:00.000Z',
  } as const;

  async function audience(c: TestContext) {
    await importArticles(c.db, JSON.stringify(sampleArticles()), { now: c.clock.now() });
    // Added in an order that mixes the zones: the queue is numbered wave by wave all the same.
    await reader(c, 'ny-1@example.com', 'America/New_York');
    await reader(c, 'berlin-1@example.com', 'Europe/Berlin');
    await reader(c, 'tokyo-1@example.com', 'Asia/Tokyo');
    await reader(c, 'list-zone@example.com', null);
    await reader(c, 'auckland@example.com', 'Pacific/Auckland');
    await reader(c, 'ny-2@example.com', 'America/New_York');
    await reader(c, 'berlin-2@example.com', 'Europe/Berlin');
  }
  const waveOf = (zone: string | null) => waves[(zone ?? 'Asia/Tokyo') as keyof typeof waves];

  // Waits of 30 s at most, over 16 hours of the test clock: about 2,000 looks at the queue.
  it('sends each zone its copy at 08:00 there, nobody early, waves in id order, the edition sent after the last', { timeout: 180_000 }, async () => {
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo' }, start);
    await audience(c);
    const io = testIo(c, () => createTransport(c.config));
    const report: WeeklyReport = await runWeeklyRecap(c, io, { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);

    const rows = await submitted(c);
    expect(rows).toHaveLength(7);
    for (const r of rows) {
      expect(r.status).toBe('submitted');
      expect(new Date(r.not_before as string).toISOString(), r.email).toBe(waveOf(r.time_zone));
      const at = Date.parse(r.submitted_at as string);
      // Never before its wave; within the 30 s the send sleeps at a time after it.
      expect(at, r.email).toBeGreaterThanOrEqual(Date.parse(waveOf(r.time_zone)));
      expect(at - Date.parse(waveOf(r.time_zone)), r.email).toBeLessThanOrEqual(30_000);
    }
    // Lower ids for earlier waves: a claim reads queued rows in id order.
    const order = rows.map((r) => waveOf(r.time_zone));
    expect(order).toEqual([...order].sort());
    for (const copies of sink!.byRecipient().values()) expect(copies).toHaveLength(1);
    expect(sink!.messages).toHaveLength(7);
    expect(report.edition.row.status).toBe('sent');
    expect(io.logs).toContain('waiting for the 08:00 wave of Europe/Berlin (2 readers) at 2026-11-30T07:00Z');
    expect(io.logs).toContain('waiting for the 08:00 wave of America/New_York (2 readers) at 2026-11-30T13:00Z');
    // Said once a wave, not at every 30 s look.
    expect(io.logs.filter((l) => l.includes('wave of Europe/Berlin'))).toHaveLength(1);
  });

  it('stops at a wave with --no-wait: the edition stays sending and its text cannot be changed; status shows the waves', async () => {
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo' }, start);
    await audience(c);
    const io = testIo(c, () => createTransport(c.config), { waitForRetries: false });
    const first = await runWeeklyRecap(c, io, { week: '2026-W48' });
    if (first.kind !== 'sent') throw new Error(first.kind);
    expect(sink!.messages.map((m) => m.to[0])).toEqual(['auckland@example.com']);
    expect(first.edition.row.status).toBe('sending');
    expect(first.counts).toMatchObject({ submitted: 1, queued: 6 });
    // Frozen before the first wave: no change to the subject or the note once it went.
    await expect(updateDraft(c.db, first.edition, { subject: 'Another subject' }, c.clock.now())).rejects.toThrow(/sending; only a draft can be changed/);

    c.clock.set('2026-11-30T08:00:00Z');
    await runWeeklyRecap(c, io, { week: '2026-W48' });
    expect(await editionWaves(c.db, first.edition.row.id, c.config.timeZone, c.clock.now())).toEqual([
      { at: waves['Pacific/Auckland'], zones: [{ zone: 'Pacific/Auckland', local: '10:00' }], readers: 1, left: 0, state: 'done' },
      { at: waves['Asia/Tokyo'], zones: [{ zone: 'Asia/Tokyo', local: '08:00' }], readers: 2, left: 0, state: 'done' },
      { at: waves['Europe/Berlin'], zones: [{ zone: 'Europe/Berlin', local: '08:00' }], readers: 2, left: 0, state: 'done' },
      { at: waves['America/New_York'], zones: [{ zone: 'America/New_York', local: '08:00' }], readers: 2, left: 2, state: 'to come' },
    ]);
    // The same subject in every copy: nothing is selected or rendered again per wave.
    const subjects = new Set(sink!.messages.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]));
    expect(subjects.size).toBe(1);
  });

  it('a worker sends the waves as they come due and marks the edition sent after the last', async () => {
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo' }, start);
    await audience(c);
    const first = await runWeeklyRecap(c, testIo(c, () => createTransport(c.config), { waitForRetries: false }), { week: '2026-W48' });
    if (first.kind !== 'sent') throw new Error(first.kind);
    const stop = new AbortController();
    const { log } = testLog(c);
    const io = testIo(c, () => createTransport(c.config), {
      signal: stop.signal,
      // A look every ten minutes; once the edition is sent, the worker is stopped.
      sleep: async (ms) => {
        c.clock.advance(ms);
        const e = await c.db.selectFrom('editions').select('status').where('id', '=', first.edition.row.id).executeTakeFirstOrThrow();
        if (e.status === 'sent') stop.abort();
      },
    });
    await runWorker(c, io, log, { once: false, pollMs: 10 * 60_000 });
    for (const r of await submitted(c)) {
      const late = Date.parse(r.submitted_at as string) - Date.parse(waveOf(r.time_zone));
      expect(late, r.email).toBeGreaterThanOrEqual(0);
      expect(late, r.email).toBeLessThan(10 * 60_000);
    }
    expect(sink!.messages).toHaveLength(7);
  });
});

describe('a schedule started mid-way', () => {
  it('(`recap schedule --once`, as after a restart) sends the waves that came due and leaves the rest waiting', async () => {
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo' }, '2026-11-29T21:00:00Z');
    await importArticles(c.db, JSON.stringify(sampleArticles()), { now: c.clock.now() });
    for (const [email, zone] of [['tokyo@example.com', 'Asia/Tokyo'], ['berlin@example.com', 'Europe/Berlin'], ['ny@example.com', 'America/New_York']] as const) await reader(c, email, zone);
    // A send started by hand, stopped before the first wave (the process ended).
    const first = await runWeeklyRecap(c, testIo(c, () => createTransport(c.config), { waitForRetries: false }), { week: '2026-W48' });
    if (first.kind !== 'sent') throw new Error(first.kind);
    expect(sink!.messages).toHaveLength(0);
    // Later, a scheduler starts once Tokyo's and Berlin's mornings have come.
    c.clock.set('2026-11-30T07:10:00Z');
    const { log, lines } = testLog(c);
    expect(await runOnce(c, testIo(c, () => createTransport(c.config)), log, new AbortController().signal)).toBe('ok');
    expect(sink!.messages.map((m) => m.to[0]).sort()).toEqual(['berlin@example.com', 'tokyo@example.com']);
    expect(lines.join('\n')).toContain('2026-W48: resumed the interrupted send; 2 submitted, 0 failed, edition sending; next the 08:00 wave of America/New_York (1 reader) at 2026-11-30T13:00Z');
    c.clock.set('2026-11-30T13:00:00Z');
    expect(await runOnce(c, testIo(c, () => createTransport(c.config)), log, new AbortController().signal)).toBe('ok');
    expect(sink!.messages).toHaveLength(3);
    const edition = await c.db.selectFrom('editions').select('status').where('id', '=', first.edition.row.id).executeTakeFirstOrThrow();
    expect(edition.status).toBe('sent');
  });
});

describe('local send time across daylight-saving changes', () => {
  it('gives every reader one edition a week at 08:00 local, never two in a day, none skipped (EU and US fall-back)', async () => {
    // The schedule (`recap schedule`'s tick, every hour) sends on Mondays at 06:00 in Tokyo, three
    // weeks running: 19 October, 26 October (after Europe's change on the 25th) and 2 November
    // (after the US's change on 1 November).
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo', RECAP_SEND_MODE: 'auto', RECAP_CRON: '0 6 * * 1' }, '2026-10-18T15:00:00Z');
    for (const day of ['2026-10-14', '2026-10-21', '2026-10-28']) {
      const stories = [1, 2, 3].map((i) => article({ collectedAt: `${day}T0${i}:00:00Z`, score: 50 + i }));
      await importArticles(c.db, JSON.stringify(stories), { now: new Date(`${day}T12:00:00Z`) });
    }
    const zones = ['Asia/Tokyo', 'Europe/Berlin', 'America/New_York'];
    for (const zone of zones) await reader(c, `${zone.split('/')[1]?.toLowerCase()}@example.com`, zone);
    const slots = cronSlots(c.config.cron, c.config.timeZone);
    const io = testIo(c, () => createTransport(c.config), { waitForRetries: false });
    let midway: ScheduleStatus | undefined;
    for (let t = Date.parse('2026-10-18T15:00:00Z'); t <= Date.parse('2026-11-03T00:00:00Z'); t += 3_600_000) {
      c.clock.set(new Date(t).toISOString());
      await tick(c, io, slots);
      // Between Berlin's wave and New York's of the first week.
      if (c.clock.now().toISOString() === '2026-10-19T08:00:00.000Z') midway = await scheduleStatus(c);
    }
    const week = midway?.lists[0]?.weeks[0];
    expect(week?.state).toBe('sending');
    expect(week?.waves.map((w) => [w.at, w.zones.map((z) => `${z.local} ${z.zone}`).join(), w.state])).toEqual([
      ['2026-10-18T23:00:00.000Z', '08:00 Asia/Tokyo', 'done'],
      ['2026-10-19T06:00:00.000Z', '08:00 Europe/Berlin', 'done'],
      ['2026-10-19T12:00:00.000Z', '08:00 America/New_York', 'to come'],
    ]);
    expect(week?.description).toContain('waves: 2 of 3 begun, next Mon 2026-10-19 21:00');
    const rows = await submitted(c);
    const weeks = ['2026-W42', '2026-W43', '2026-W44'];
    for (const zone of zones) {
      const mine = rows.filter((r) => r.time_zone === zone);
      expect(mine.map((r) => r.week), zone).toEqual(weeks);
      const local = mine.map((r) => DateTime.fromISO(r.submitted_at as string, { zone }));
      for (const l of local) expect(l.toFormat('ccc HH:mm'), `${zone}: ${l.toISO()}`).toBe('Mon 08:00');
      expect(new Set(local.map((l) => l.toISODate())).size, zone).toBe(3);
    }
    // The offsets changed under them: Berlin 06:00Z then 07:00Z, New York 12:00Z twice, then 13:00Z.
    expect(rows.filter((r) => r.time_zone === 'Europe/Berlin').map((r) => r.submitted_at?.slice(0, 16))).toEqual(['2026-10-19T06:00', '2026-10-26T07:00', '2026-11-02T07:00']);
    expect(rows.filter((r) => r.time_zone === 'America/New_York').map((r) => r.submitted_at?.slice(0, 16))).toEqual(['2026-10-19T12:00', '2026-10-26T12:00', '2026-11-02T13:00']);
    expect(sink!.messages).toHaveLength(9);
    const editions = await c.db.selectFrom('editions').select(['week', 'status']).orderBy('week').execute();
    expect(editions).toEqual(weeks.map((week) => ({ week, status: 'sent' })));
  });

  it('moves a reader to the next day when an earlier edition reached them that local day', async () => {
    // Last week's edition went out late, by hand and all at once: on Monday 30 November at 06:00 in
    // New York. This week's wave would be that same morning at 08:00 there.
    const c = await setUp({ RECAP_TZ: 'Asia/Tokyo' }, '2026-11-30T11:00:00Z');
    await importArticles(c.db, JSON.stringify(sampleArticles()), { now: c.clock.now() });
    const late = [1, 2, 3].map((i) => article({ collectedAt: `2026-11-18T0${i}:00:00Z` }));
    await importArticles(c.db, JSON.stringify(late), { now: c.clock.now() });
    await reader(c, 'ny@example.com', 'America/New_York');
    await reader(c, 'berlin@example.com', 'Europe/Berlin');
    const atOnce = { ...c, config: { ...c.config, localSendTime: undefined } };
    await runWeeklyRecap(atOnce, testIo(c, () => createTransport(c.config)), { week: '2026-W47' });
    // This week's send starts later that day (Tokyo's Monday is nearly over; it is still Monday in New York).
    c.clock.set('2026-11-30T12:00:00Z');
    const io = testIo(c, () => createTransport(c.config), { waitForRetries: false });
    await runWeeklyRecap(c, io, { week: '2026-W48' });
    expect(sink!.messages).toHaveLength(2); // last week's only
    c.clock.set('2026-12-01T13:00:00Z');
    await runWeeklyRecap(c, io, { week: '2026-W48' });
    const rows = (await submitted(c)).filter((r) => r.week === '2026-W48');
    const ny = rows.find((r) => r.email === 'ny@example.com');
    // 08:00 on Monday in New York (13:00Z) would be its second edition that day: Tuesday 08:00.
    expect(new Date(ny?.not_before as string).toISOString()).toBe('2026-12-01T13:00:00.000Z');
    expect(ny?.submitted_at).toBe('2026-12-01T13:00:00.000Z');
    // Berlin's Monday 08:00 had passed when the send started, and its last edition came on Monday too
    // (12:00 there): it waits for Tuesday 08:00.
    const berlin = rows.find((r) => r.email === 'berlin@example.com');
    expect(new Date(berlin?.not_before as string).toISOString()).toBe('2026-12-01T07:00:00.000Z');
    expect(sink!.byRecipient().get('ny@example.com')).toHaveLength(2);
  });
});
