// `recap health [--daemon]` as a container's HEALTHCHECK runs it: exit 0 when ready, 1 when not
// (never 2, which Docker reserves), and it creates no database where there is none. And `recap
// serve` as a process answers /readyz and, with its token only, /metrics.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { acquireLease, SCHEDULER_LEASE } from '../../src/delivery/lease.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const health = async (databaseUrl: string, cwd: string, args: string[] = []) => {
  const r = await runCli(['health', ...args], { cwd, env: { DATABASE_URL: databaseUrl } });
  return { code: r.code, report: JSON.parse(r.stdout) as { status: string; database: string; error?: string; daemon?: { state: string } } };
};

it('answers 0 for a reachable, migrated database, and 1 for a missing or broken one', { timeout: 120_000 }, async () => {
  const c = (ctx = await createTestContext());
  expect(await health(c.config.databaseUrl, c.dir)).toMatchObject({ code: 0, report: { status: 'ready', database: 'ok', daemon: { state: 'absent' } } });

  const missing = join(c.dir, 'nothing-here.db');
  expect(await health(missing, c.dir)).toMatchObject({ code: 1, report: { status: 'not ready', database: 'unreachable', error: expect.stringContaining('no database') } });
  expect(existsSync(missing)).toBe(false);

  const garbage = join(c.dir, 'garbage.db');
  writeFileSync(garbage, 'this is not a database, and it is long enough to have a header of a hundred bytes or so........');
  expect(await health(garbage, c.dir)).toMatchObject({ code: 1, report: { database: 'unreachable', error: expect.stringMatching(/not a database/) } });
});

it('with --daemon, is ready only while a schedule daemon renews its lease', { timeout: 120_000 }, async () => {
  const c = (ctx = await createTestContext({}, new Date().toISOString()));
  expect(await health(c.config.databaseUrl, c.dir, ['--daemon'])).toMatchObject({ code: 1, report: { database: 'ok', daemon: { state: 'absent' } } });
  const systemClock = { now: () => new Date() };
  await acquireLease(c.db, SCHEDULER_LEASE.name, systemClock, SCHEDULER_LEASE.ttlMs);
  expect(await health(c.config.databaseUrl, c.dir, ['--daemon'])).toMatchObject({ code: 0, report: { status: 'ready', daemon: { state: 'running' } } });
});

it('recap serve answers /readyz, and /metrics only with RECAP_METRICS_TOKEN', { timeout: 120_000 }, async () => {
  const c = (ctx = await createTestContext());
  const token = 'metrics-token-0123456789abcdef';
  const child = spawn(process.execPath, [RECAP_BIN, 'serve', '--port', '0'], {
    cwd: c.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', RECAP_SECRET: TEST_SECRET, DATABASE_URL: c.config.databaseUrl, OUTBOX_DIR: c.config.outboxDir, RECAP_METRICS_TOKEN: token },
  });
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`recap serve exited ${code}`)));
    });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', daemon: { state: 'absent' } });
    expect((await fetch(`${origin}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${origin}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('recap_deliveries{status="submitted"} 0');
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null && child.kill('SIGTERM')) await exited;
  }
});
