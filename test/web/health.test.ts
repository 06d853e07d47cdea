// /healthz, /readyz and /metrics through the app's request function, on a real SQLite file: the
// daemon's lease heartbeat, a database that cannot be reached, the metrics token, and metrics
// counted from the database after a real send to a loopback SMTP server.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { pollFeeds } from '../../src/articles/feeds.ts';
import { loadConfig } from '../../src/config.ts';
import { acquireLease, SCHEDULER_LEASE } from '../../src/delivery/lease.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { tempDir } from '../helpers/context.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import { testIo } from '../helpers/send.ts';
import { refusedPort, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const WEBHOOK_SECRET = 'webhook-secret-0123456789abcdef';

let t: WebTest | undefined;
let sink: SmtpSink | undefined;
const extra: Db[] = [];
const scratch: Array<{ dir: string; database: TestDatabase }> = [];
afterEach(async () => {
  for (const db of extra.splice(0)) await db.destroy().catch(() => undefined);
  for (const { dir, database } of scratch.splice(0)) {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  await t?.close();
  await sink?.close();
  t = sink = undefined;
});

/** A database of its own, not yet migrated. */
async function scratchDb(): Promise<string> {
  const dir = tempDir();
  const database = await freshDatabase(dir, { migrated: false });
  scratch.push({ dir, database });
  return database.url;
}

/** A second connection to the test's database, as another process would hold. */
function otherConnection(path: string): Db {
  const db = openDb(path);
  extra.push(db);
  return db;
}

describe('/healthz and /readyz', () => {
  it('report the database and the schedule daemon’s lease heartbeat as it ages and expires', async () => {
    t = await createWebTest();
    const web = t;
    expect(await (await web.app.request('/healthz')).json()).toEqual({ status: 'ok' });

    const before = await web.app.request('/readyz');
    expect(before.status).toBe(200);
    expect(await before.json()).toMatchObject({ status: 'ready', ready: true, database: 'ok', daemon: { state: 'absent', holder: null, heartbeatAgeSeconds: null } });

    const lease = await acquireLease(web.ctx.db, SCHEDULER_LEASE.name, web.ctx.clock, SCHEDULER_LEASE.ttlMs);
    const daemon = async () => ((await (await web.app.request('/readyz')).json()) as { daemon: unknown }).daemon;
    expect(await daemon()).toEqual({ state: 'running', holder: lease.owner, heartbeatAgeSeconds: 0 });
    web.ctx.clock.advance(70_000);
    expect(await daemon()).toEqual({ state: 'running', holder: lease.owner, heartbeatAgeSeconds: 70 });
    await lease.renew();
    expect(await daemon()).toEqual({ state: 'running', holder: lease.owner, heartbeatAgeSeconds: 0 });
    web.ctx.clock.advance(SCHEDULER_LEASE.ttlMs + 5_000);
    expect(await daemon()).toEqual({ state: 'stale', holder: lease.owner, heartbeatAgeSeconds: 185 });
    // The pages work without a daemon: the web server stays ready, and says how the daemon is.
    expect((await web.app.request('/readyz')).status).toBe(200);
  });

  it('are not ready (503) when the database cannot be reached', async () => {
    const lost = otherConnection(await scratchDb());
    t = await createWebTest({}, undefined, { appDb: () => lost });
    expect((await t.app.request('/readyz')).status).toBe(503); // not migrated yet
    await migrateToLatest(lost);
    expect((await t.app.request('/readyz')).status).toBe(200);
    // The connection goes away under the running app.
    await lost.destroy();
    for (const path of ['/healthz', '/readyz']) {
      const res = await t.app.request(path);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: path === '/readyz' ? 'not ready' : 'error', error: expect.stringMatching(/destroyed/) });
    }
  });

  it('is not ready on a database that needs migrating', async () => {
    const unmigrated = otherConnection(await scratchDb());
    t = await createWebTest({}, undefined, { appDb: () => unmigrated });
    const res = await t.app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, database: 'needs migrating', error: expect.stringContaining('0001_initial') });
    expect((await t.app.request('/healthz')).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('is off by default: 404, like any unknown path', async () => {
    t = await createWebTest();
    expect((await t.app.request('/metrics')).status).toBe(404);
    expect((await t.app.request('/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
  });

  it('takes only a token long enough to resist guessing', () => {
    expect(() => loadConfig({ RECAP_METRICS_TOKEN: 'short' })).toThrow(/RECAP_METRICS_TOKEN: must be at least 24 characters/);
    expect(loadConfig({ RECAP_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });

  it('answers 401 without the token or with a wrong one', async () => {
    t = await createWebTest({ RECAP_METRICS_TOKEN: METRICS_TOKEN });
    for (const headers of [{} as Record<string, string>, { Authorization: `Bearer ${METRICS_TOKEN}x` }, { Authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` }, { Authorization: 'Bearer ' }]) {
      const res = await t.app.request('/metrics', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('recap_');
    }
  });

  it('counts from the database what a real send, a bounce, a complaint and a failing feed left', async () => {
    sink = await startSmtpSink({ reject: (rcpt) => (rcpt === 'gone@example.com' ? { code: 550, message: '5.1.1 <gone@example.com>: Recipient address rejected: User unknown' } : undefined) });
    t = await createWebTest({ RECAP_METRICS_TOKEN: METRICS_TOKEN, RECAP_WEBHOOK_SECRET: WEBHOOK_SECRET, SMTP_URL: sink.url });
    const web = t;
    for (const email of ['ada@example.com', 'ben@example.com', 'cy@example.com', 'gone@example.com']) await addSubscriber(web.ctx, email);
    // The send, the feed poll and the daemon's lease go through a connection of their own, as
    // `recap digest send` or the daemon in another process would: the scrape learns of them only
    // from the database.
    const elsewhere = { ...web.ctx, db: otherConnection(web.ctx.config.databaseUrl) };
    const scrape = async () => {
      const res = await web.app.request('/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parseMetrics(await res.text());
    };
    const empty = await scrape();
    expect(empty.get('recap_deliveries{status="submitted"}')).toBe(0);
    expect([...empty.keys()].filter((k) => /^recap_(last_successful_run|scheduler_heartbeat)/.test(k))).toEqual([]);

    const report = await runWeeklyRecap(elsewhere, testIo(web.ctx, () => createTransport(web.ctx.config)), { week: '2026-W48' });
    expect(report.kind).toBe('sent');
    expect(sink.messages).toHaveLength(3);
    const complaint = await web.app.request('/api/bounces', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${WEBHOOK_SECRET}` },
      body: JSON.stringify({ type: 'complaint', email: 'ben@example.com' }),
    });
    expect(complaint.status).toBe(200);
    const feed = `http://127.0.0.1:${await refusedPort()}/feed.xml`;
    await pollFeeds(elsewhere.db, [feed], web.ctx.clock);
    await pollFeeds(elsewhere.db, [feed], web.ctx.clock);
    const lease = await acquireLease(elsewhere.db, SCHEDULER_LEASE.name, web.ctx.clock, SCHEDULER_LEASE.ttlMs);
    web.ctx.clock.advance(30_000);

    const m = await scrape();
    expect(m.get('recap_deliveries{status="submitted"}')).toBe(3);
    expect(m.get('recap_deliveries{status="failed"}')).toBe(1);
    expect(m.get('recap_deliveries{status="queued"}')).toBe(0);
    expect(m.get('recap_bounces_total{kind="hard"}')).toBe(1);
    expect(m.get('recap_bounces_total{kind="soft"}')).toBe(0);
    expect(m.get('recap_complaints_total')).toBe(1);
    expect(m.get(`recap_feed_failures{url="${feed}"}`)).toBe(2);
    expect(m.get(`recap_lease_holder{name="scheduler",owner="${lease.owner}"}`)).toBe(1);
    expect(m.get(`recap_scheduler_heartbeat_age_seconds{owner="${lease.owner}"}`)).toBe(30);
    // The three went out in the minute before this scrape (30 s ago on the test clock).
    expect(m.get('recap_send_rate_per_second')).toBeCloseTo(3 / 60, 6);
    const sent = await web.ctx.db.selectFrom('editions').select('sent_at').executeTakeFirstOrThrow();
    expect(m.get('recap_last_successful_run_timestamp_seconds{week="2026-W48"}')).toBe(new Date(sent.sent_at as string).getTime() / 1000);

    web.ctx.clock.advance(60_000);
    expect((await scrape()).get('recap_send_rate_per_second')).toBe(0);
  });
});

/** `name{labels} value` lines of the Prometheus text format, by `name{labels}`. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
