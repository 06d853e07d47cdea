// `recap health [--daemon]` as a container's HEALTHCHECK runs it: exit 0 when ready, 1 when not
// (never 2, which Docker reserves), and it creates no database where there is none.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { acquireLease, SCHEDULER_LEASE } from '../../src/delivery/lease.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

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
