// Stopping `recap digest send`, run the ways the README says to run it: SIGTERM to the command
// we started reaches the process that sends (no sender left running, holding the edition's lease),
// a wait for a due retry ends at once, and every exit 4 names the command that goes on, which
// then does go on.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { createSegment } from '../../src/audience/segments.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { refusedPort, type SinkAction, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

const WEEK = '2026-W48';
const CHECKOUT = join(import.meta.dirname, '../..');

let ctx: TestContext;
let sink: SmtpSink;
let group: number | undefined;

afterEach(async () => {
  // Whatever a failed test left running in the group it started, and only that.
  if (group && alive(group)) process.kill(-group, 'SIGKILL');
  group = undefined;
  await sink?.close();
  await ctx?.close();
});

/** True while any process of the process group is running. */
function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function setUp(people: string[], script?: (rcpt: string, attempt: number) => SinkAction) {
  sink = await startSmtpSink(script ? { script } : {});
  ctx = await createTestContext();
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (const p of people) await addSubscriber(ctx, p, { topics: p.startsWith('policy') ? ['policy'] : [] });
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', DATABASE_URL: ctx.config.databaseUrl, SMTP_URL: sink.url,
    RECAP_RATE: '10', RECAP_SEND_BATCH: '5', SMTP_POOL_SIZE: '1', ...extra,
  };
}

/** Starts a command in a process group of its own, in the checkout, as an operator would. */
function start(command: string, args: string[], vars: Record<string, string>): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(command, args, {
    cwd: CHECKOUT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...vars },
  });
  group = child.pid;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function until(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function deliveries() {
  return ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['s.email', 'd.status', 'd.attempts']).orderBy('d.id').execute();
}

/** The command an exit-4 message tells the operator to run, as arguments for the CLI. */
function commandIn(text: string): string[] {
  const command = /run `recap ([^`]+)`/.exec(text)?.[1];
  if (!command) throw new Error(`no command in: ${text}`);
  return command.split(' ');
}

it.each([
  ['SIGTERM to `npx recap …`', 'npx', ['recap'], 'SIGTERM', 'process'],
  ['SIGTERM to `npm run recap -- …`', 'npm', ['run', 'recap', '--'], 'SIGTERM', 'process'],
  // A terminal's Ctrl-C reaches every process of the group: the sender gets npm's copy too.
  ['Ctrl-C (SIGINT to the process group) on `npx recap …`', 'npx', ['recap'], 'SIGINT', 'group'],
] as const)('%s stops the sender itself, cleanly, and the named command finishes the edition', async (_, command, prefix, signal, to) => {
  const people = Array.from({ length: 40 }, (_, i) => `t${i}@example.com`);
  await setUp(people);
  const run = start(command, [...prefix, 'digest', 'send', '--week', WEEK], env());
  await until(() => sink.messages.length >= 3, 'the first messages');
  if (to === 'group') process.kill(-(group as number), signal);
  else run.child.kill(signal);
  const code = await run.exit;
  expect(code, run.stderr()).toBe(4);
  expect(run.stderr()).toContain(`${signal}: finishing the messages in flight`);
  // Nothing of it is left running: no sender goes on in the background holding the lease.
  await until(() => !alive(group as number), 'the process group to end', 10_000);
  const sent = sink.messages.length;
  await new Promise((r) => setTimeout(r, 1000));
  expect(sink.messages.length).toBe(sent);
  expect(await ctx.db.selectFrom('leases').selectAll().execute()).toEqual([]);
  const rows = await deliveries();
  expect(rows.filter((r) => r.status === 'claimed' || r.status === 'uncertain')).toEqual([]);
  expect(rows.filter((r) => r.status === 'submitted')).toHaveLength(sent);
  expect(sent).toBeLessThan(40);

  const next = commandIn(run.stderr());
  expect(next).toEqual(['digest', 'send', '--week', WEEK]);
  const rest = await runCli(next, { cwd: ctx.dir, env: env() });
  expect(rest.code, rest.stderr).toBe(0);
  for (const p of people) expect(sink.byRecipient().get(p)?.length, p).toBe(1);
}, 180_000);

it('stops at once on SIGTERM while it waits for a retry that is due in a minute', async () => {
  await setUp(['a@example.com', 'b@example.com'], (rcpt, attempt) => (rcpt === 'b@example.com' && attempt === 1 ? { rcpt: { code: 451, message: '4.7.1 Greylisted, come back in a minute' } } : 'accept'));
  const run = start(process.execPath, [RECAP_BIN, 'digest', 'send', '--week', WEEK], env({ RECAP_RETRY_BASE_SECONDS: '60' }));
  await until(() => /waiting \d+ s for deferred deliveries/.test(run.stderr()), 'the wait for the retry');
  const signalled = Date.now();
  run.child.kill('SIGTERM');
  const code = await run.exit;
  expect(Date.now() - signalled).toBeLessThan(5000);
  expect(code, run.stderr()).toBe(4);
  expect(run.stderr()).toContain(`Stopped before the end; 1 delivery waits. To go on, run \`recap digest send --week ${WEEK}\`.`);
  expect((await deliveries()).map((r) => [r.email, r.status])).toEqual([['a@example.com', 'submitted'], ['b@example.com', 'deferred']]);
}, 120_000);

it('paused by a run of failures, it names `digest resume` (with the segment), which `digest send` also names, and which goes on', async () => {
  const people = ['policy1@example.com', 'policy2@example.com', 'policy3@example.com', 'other@example.com'];
  await setUp(people);
  await createSegment(ctx.db, { name: 'policy-readers', listId: ctx.listId, rules: { topics: ['policy'] } }, ctx.clock.now());
  const down = env({ SMTP_URL: `smtp://127.0.0.1:${await refusedPort()}`, RECAP_MAX_FAILURES_IN_A_ROW: '2' });
  const paused = await runCli(['digest', 'send', '--week', WEEK, '--segment', 'policy-readers'], { cwd: ctx.dir, env: down });
  expect(paused.code, paused.stderr).toBe(4);
  expect(paused.stderr).toMatch(/Paused: 2 deliveries in a row were not submitted \(last: smtp:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED [^)]*\); the SMTP server is down or rejecting us\. Fix that, then run `recap digest resume --week 2026-W48 --segment policy-readers`\./);
  expect(paused.stdout).toContain('Back in the queue: 2 deliveries not sent because the SMTP server could not be reached (no attempt counted).');
  const next = commandIn(paused.stderr);
  const status = await runCli(['digest', 'status', '--week', WEEK], { cwd: ctx.dir, env: env() });
  expect(status.stdout).toMatch(/paused \(2 deliveries in a row were not submitted .*\)\n {2}To go on: `recap digest resume --week 2026-W48` \(with --segment NAME if the paused send had one\)/);

  // Sending again while paused refuses, naming the same command.
  const refused = await runCli(['digest', 'send', '--week', WEEK, '--segment', 'policy-readers'], { cwd: ctx.dir, env: env() });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`run \`recap ${next.join(' ')}\``);

  const resumed = await runCli(next, { cwd: ctx.dir, env: env() });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect([...sink.byRecipient().keys()].sort()).toEqual(['policy1@example.com', 'policy2@example.com', 'policy3@example.com']);
  expect((await deliveries()).map((r) => [r.status, r.attempts])).toEqual([['submitted', 1], ['submitted', 1], ['submitted', 1]]);
}, 120_000);
