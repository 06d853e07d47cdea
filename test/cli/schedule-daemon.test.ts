// `recap schedule` as an operator runs it, on a clock that starts at a fixed instant
// (RECAP_CLOCK_START): its log lines (JSON and text), a send's progress, SIGTERM mid-send saying
// what stays queued, feeds that fail in their own ways without holding up the send, and
// `schedule status`, `schedule next` and `schedule --once`.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { refusedPort, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

const PEOPLE = 100;
let ctx: TestContext | undefined;
let sink: SmtpSink | undefined;
let feeds: Server | undefined;
let daemon: ChildProcess | undefined;

afterEach(async () => {
  if (daemon?.exitCode === null) daemon.kill('SIGKILL');
  feeds?.closeAllConnections();
  await new Promise<void>((r) => (feeds ? feeds.close(() => r()) : r()));
  await sink?.close();
  await ctx?.close();
});

/** A feed server on loopback: one feed answers 500, one never answers. */
async function startFeeds(): Promise<string> {
  feeds = createServer((req, res) => {
    if (req.url === '/hang.xml') return;
    res.writeHead(500).end('oops');
  });
  await new Promise<void>((r) => feeds?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(feeds.address() as AddressInfo).port}`;
}

interface Line { time: string; level: string; msg: string; [field: string]: unknown }

async function until(condition: () => boolean, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('logs JSON lines, progress and feed failures while sending, says on SIGTERM what stays queued, and --once resumes it', async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext();
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (let i = 0; i < PEOPLE; i++) await addSubscriber(ctx, `p${i}@example.com`);
  const base = await startFeeds();
  const refused = `http://127.0.0.1:${await refusedPort()}/feed.xml`;
  const env = {
    RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', DATABASE_URL: ctx.config.databaseUrl, SMTP_URL: sink.url,
    // The sample week's run was due at 08:00: an hour later it is made up at start, at once (auto).
    RECAP_CLOCK_START: '2026-11-30T09:00:00Z', RECAP_SEND_MODE: 'auto',
    RECAP_RATE: '4', RECAP_SEND_BATCH: '5', SMTP_POOL_SIZE: '1',
    RECAP_FEEDS: `${refused} ${base}/hang.xml ${base}/broken.xml`, RECAP_FEED_TIMEOUT_SECONDS: '6',
  };

  // 1. The daemon, with JSON lines.
  const child = spawn(process.execPath, [RECAP_BIN, 'schedule'], {
    cwd: ctx.dir, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, RECAP_LOG_FORMAT: 'json' },
  });
  daemon = child;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = (): Line[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const progress = () => lines().filter((l) => l.msg.startsWith('sending: '));

  await until(() => progress().some((l) => (l.progress as { submitted: number }).submitted >= 5), 'progress with messages submitted');
  // Meanwhile, from another process: who holds the schedule, and since when.
  const status = await runCli(['schedule', 'status', '--json'], { cwd: ctx.dir, env });
  expect(status.code, status.stderr).toBe(0);
  const shown = JSON.parse(status.stdout);
  expect(shown.lease).toMatchObject({ owner: expect.stringContaining(`:${child.pid}:`), since: expect.stringMatching(/^2026-11-30T09:00:0/), current: true });
  expect(shown.lists[0]).toMatchObject({ slug: 'weekly-ai-recap', next: { week: '2026-W49', at: '2026-12-07T08:00:00.000Z' } });
  expect(shown.lists[0].weeks[0]).toMatchObject({ week: '2026-W48', state: 'sending' });

  await until(() => lines().some((l) => l.msg.includes('/hang.xml')), 'the hanging feed to time out');
  child.kill('SIGTERM');
  expect(await exited, stderr).toBe(0);

  const all = lines();
  for (const l of all) {
    expect(l.time).toMatch(/^2026-11-30T09:0\d:\d\d\.\d{3}Z$/);
    expect(['info', 'warn']).toContain(l.level);
  }
  expect(stderr).toBe('');
  const msgs = all.map((l) => l.msg);
  // At start: the list, the zone, the next due week and when, the mode and the deadline.
  expect(msgs[0]).toBe('schedule of Weekly AI Recap (weekly-ai-recap) in UTC: next 2026-W49 at Mon 2026-12-07 08:00 UTC (RECAP_CRON "0 8 * * 1"); mode auto, no approval asked; 3 feeds at "0 * * * *"');
  expect(all[0]).toMatchObject({ list: 'weekly-ai-recap', timeZone: 'UTC', nextWeek: '2026-W49', nextRunAt: '2026-12-07T08:00:00.000Z', mode: 'auto' });
  // Feeds, polled at start, each failing for its own reason, each line at its own time.
  const feedLines = all.filter((l) => l.msg.startsWith('feed '));
  expect(feedLines.map((l) => [l.level, l.msg])).toEqual([
    ['warn', expect.stringMatching(/^feed http:\/\/127\.0\.0\.1:\d+\/feed\.xml: failed \(connection refused: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/)],
    ['warn', `feed ${base}/hang.xml: failed (timed out after 6 s)`],
    ['warn', `feed ${base}/broken.xml: failed (HTTP 500 Internal Server Error)`],
  ]);
  expect(Date.parse(feedLines[1]?.time as string) - Date.parse(feedLines[0]?.time as string)).toBeGreaterThanOrEqual(5900);
  // The hanging feed held up nothing: the send went on while it hung.
  const hang = all.indexOf(feedLines[1] as Line);
  const sentMeanwhile = all.slice(0, hang).filter((l) => l.msg.startsWith('sending: ')).map((l) => (l.progress as { submitted: number }).submitted);
  expect(Math.max(...sentMeanwhile)).toBeGreaterThan(4);
  // Progress: submitted, deferred, failed, the rate and the time left.
  const last = progress().at(-1) as Line;
  expect(last.msg).toMatch(/^sending: \d+\/100 \(\d+%\): \d+ submitted, 0 deferred, 0 failed; \d+\.\d\/s, about \d+ s left$/);
  expect(last.progress).toMatchObject({ total: PEOPLE, deferred: 0, failed: 0, ratePerSecond: expect.any(Number), etaSeconds: expect.any(Number) });
  // SIGTERM mid-send: what stays queued, and that the next start resumes it.
  const sent = sink.messages.length;
  expect(sent).toBeLessThan(PEOPLE);
  expect(msgs).toContain('SIGTERM: finishing the work in hand, then stopping');
  expect(msgs).toContain(`2026-W48: stopped mid-send; ${sent} submitted, ${PEOPLE - sent} stay queued; the next start of \`recap schedule\` resumes them`);
  expect(msgs.at(-1)).toBe('stopped');

  // 2. `--once`, in plain text: it resumes the send and polls the feeds; stopped by SIGTERM it
  //    exits 4; run again it finishes the send, and exits 1 for the feed that fails.
  const stopped = spawn(process.execPath, [RECAP_BIN, 'schedule', '--once'], {
    cwd: ctx.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, RECAP_FEEDS: '' },
  });
  daemon = stopped;
  let onceOut = '';
  stopped.stdout?.on('data', (d: Buffer) => (onceOut += d.toString()));
  const stoppedExit = new Promise<number | null>((r) => stopped.on('exit', (code) => r(code)));
  await until(() => sink?.messages.length !== undefined && sink.messages.length >= sent + 3, 'the resumed send');
  stopped.kill('SIGTERM');
  expect(await stoppedExit, onceOut).toBe(4);
  expect(onceOut).toMatch(/ INFO {2}2026-W48: stopped mid-send; \d+ submitted, \d+ stay queued; the next start of `recap schedule` resumes them\n/);

  const once = await runCli(['schedule', '--once'], { cwd: ctx.dir, env: { ...env, RECAP_RATE: '0', RECAP_FEEDS: `${base}/broken.xml` } });
  expect(once.code, once.stderr).toBe(1);
  const text = [...onceOut.split('\n'), ...once.stdout.split('\n')].filter(Boolean);
  for (const l of text) expect(l).toMatch(/^2026-11-30T09:0\d:\d\d\.\d{3}Z (INFO |WARN ) \S/);
  expect(text.some((l) => l.endsWith(`WARN  feed ${base}/broken.xml: failed (HTTP 500 Internal Server Error)`))).toBe(true);
  expect(text.some((l) => / INFO {2}2026-W48: resumed the interrupted send; 100 submitted, 0 failed, edition sent$/.test(l))).toBe(true);
  for (let i = 0; i < PEOPLE; i++) expect(sink.byRecipient().get(`p${i}@example.com`)?.length).toBe(1);

  // 3. What the week did, the lease let go.
  const after = await runCli(['schedule', 'status'], { cwd: ctx.dir, env });
  expect(after.stdout).toContain('Schedule: no daemon holds it (none running, or stopped cleanly)');
  expect(after.stdout).toMatch(/Last run: 2026-W48, taken up Mon 2026-11-30 09:0\d UTC: sent \(resumed the interrupted send\); 100 submitted, 0 failed\n/);
  expect(after.stdout).toContain('Next run: 2026-W49 at Mon 2026-12-07 08:00 UTC');
  expect(after.stdout).toMatch(/ {4}2026-W48 {2}#1 {2}sent \(resumed the interrupted send\); 100 submitted, 0 failed\n/);
}, 240_000);

it('`schedule next` gives the next due times in the list zone, across a change of summer time; --help names the commands', async () => {
  // Monday 22 March 2027, 07:00 in Berlin: the week that just ended is still due at 08:00; the
  // clocks go forward on the 28th, so the next run is at 08:00 summer time (06:00 UTC).
  const env = { RECAP_TZ: 'Europe/Berlin', RECAP_CLOCK_START: '2027-03-22T06:00:00Z' };
  ctx = await createTestContext();
  const next = await runCli(['schedule', 'next', '--count', '3', '--json'], { cwd: ctx.dir, env });
  expect(next.code, next.stderr).toBe(0);
  expect(JSON.parse(next.stdout).map((r: { week: string; at: string; local: string }) => [r.week, r.at, r.local.slice(0, 20)])).toEqual([
    ['2027-W11', '2027-03-22T07:00:00.000Z', 'Mon 2027-03-22 08:00'],
    ['2027-W12', '2027-03-29T06:00:00.000Z', 'Mon 2027-03-29 08:00'],
    ['2027-W13', '2027-04-05T06:00:00.000Z', 'Mon 2027-04-05 08:00'],
  ]);
  const help = await runCli(['schedule', '--help'], { cwd: ctx.dir, env });
  for (const word of ['--once', 'status', 'next', 'RECAP_LOG_FORMAT']) expect(help.stdout).toContain(word);
  const bad = await runCli(['schedule', 'next', '--count', 'many'], { cwd: ctx.dir, env });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("option '--count <n>' argument 'many' is invalid");
}, 120_000);
