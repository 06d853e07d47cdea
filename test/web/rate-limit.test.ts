// The rate limits of `recap serve` live in the database: processes sharing it share the counters,
// hits at the same moment are all counted, a window starts again once it ended, and ended windows
// are cleared away. Keys are stored hashed.
import { afterEach, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { rateLimiter, sweepRateLimits } from '../../src/web/rate-limit.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx.close();
});

const WINDOW = 15 * 60_000;

it('counts the hits of two processes together: the limit holds across both', async () => {
  ctx = await createTestContext();
  // The other process's own connection to the same file.
  const other = openDb(ctx.config.databaseUrl);
  try {
    const here = rateLimiter(ctx.db, ctx.clock, 'subscribe-per-ip', 5, WINDOW);
    const there = rateLimiter(other, ctx.clock, 'subscribe-per-ip', 5, WINDOW);
    const decisions = [];
    for (let i = 0; i < 8; i++) decisions.push(await (i % 2 === 0 ? here : there).take('ip:192.0.2.1'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(decisions[5]).toEqual({ allowed: false, retryAfter: 900 });
    // Another key, and the same key under another limit, count on their own.
    expect(await there.take('ip:192.0.2.2')).toEqual({ allowed: true });
    expect(await rateLimiter(other, ctx.clock, 'confirm-per-address', 5, WINDOW).take('ip:192.0.2.1')).toEqual({ allowed: true });
  } finally {
    await other.destroy();
  }
});

it('loses no hit when many arrive at once', async () => {
  ctx = await createTestContext();
  const limiters = [rateLimiter(ctx.db, ctx.clock, 'l', 10, WINDOW), rateLimiter(ctx.db, ctx.clock, 'l', 10, WINDOW)];
  const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (limiters[i % 2] as (typeof limiters)[number]).take('k')));
  expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  expect(await ctx.db.selectFrom('rate_limits').select('hits').execute()).toEqual([{ hits: 40 }]);
});

it('starts a new window once the old one ended, says how long to wait, and keeps no IP in the table', async () => {
  ctx = await createTestContext();
  const limit = rateLimiter(ctx.db, ctx.clock, 'l', 2, WINDOW);
  await limit.take('ip:198.51.100.7');
  ctx.clock.advance(5 * 60_000);
  await limit.take('ip:198.51.100.7');
  ctx.clock.advance(60_000);
  // The window began at the first hit, 6 minutes ago: 9 minutes to go.
  expect(await limit.take('ip:198.51.100.7')).toEqual({ allowed: false, retryAfter: 540 });
  ctx.clock.advance(9 * 60_000);
  expect(await limit.take('ip:198.51.100.7')).toEqual({ allowed: true });
  const rows = await ctx.db.selectFrom('rate_limits').selectAll().execute();
  expect(rows).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{64}$/), hits: 1, window_started_at: ctx.clock.now().toISOString(), window_ends_at: new Date(ctx.clock.now().getTime() + WINDOW).toISOString() }]);
  expect(JSON.stringify(rows)).not.toContain('198.51.100.7');
});

it('clears the windows that ended and keeps the current ones', async () => {
  ctx = await createTestContext();
  const short = rateLimiter(ctx.db, ctx.clock, 'short', 3, 60_000);
  const long = rateLimiter(ctx.db, ctx.clock, 'long', 3, WINDOW);
  for (const k of ['a', 'b', 'c']) await short.take(k);
  await long.take('a');
  ctx.clock.advance(60_000);
  expect(await sweepRateLimits(ctx.db, ctx.clock.now())).toBe(3);
  expect(await ctx.db.selectFrom('rate_limits').select('hits').execute()).toEqual([{ hits: 1 }]);
  expect(await sweepRateLimits(ctx.db, ctx.clock.now())).toBe(0);
});
