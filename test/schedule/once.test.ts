// `recap schedule --once` in process: one tick and one feed poll side by side, then the lease is
// let go; what it returns gives the command its exit code.
import { afterEach, expect, it } from 'vitest';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runOnce } from '../../src/schedule/daemon.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo, testLog } from '../helpers/send.ts';
import { refusedPort } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx?.close();
});

it('does what is due, says so, and lets the lease go', async () => {
  ctx = await createTestContext({}, '2026-11-30T09:00:00Z');
  const { log, lines } = testLog(ctx);
  expect(await runOnce(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir)), log, new AbortController().signal)).toBe('ok');
  expect(lines.map((l) => l.slice(25))).toEqual([
    expect.stringMatching(/^INFO  schedule of Weekly AI Recap \(weekly-ai-recap\) in UTC: next 2026-W49 at Mon 2026-12-07 08:00 UTC/),
    expect.stringMatching(/^INFO  scheduler lease taken/),
    'INFO  2026-W48: no RECAP_EDITORS to tell',
    expect.stringMatching(/^INFO  2026-W48: no edition \(.*\); editors told$/),
  ]);
  expect(await ctx.db.selectFrom('leases').selectAll().execute()).toEqual([]);
});

it('fails when a feed fails, and does nothing (standing by) while another daemon holds the schedule', async () => {
  ctx = await createTestContext({ RECAP_FEEDS: `http://127.0.0.1:${await refusedPort()}/feed.xml` }, '2026-11-30T09:00:00Z');
  const io = testIo(ctx, () => outboxTransport(ctx.config.outboxDir));
  const failing = testLog(ctx);
  expect(await runOnce(ctx, io, failing.log, new AbortController().signal)).toBe('failed');
  expect(failing.lines.some((l) => / WARN {2}feed http:\/\/127\.0\.0\.1:\d+\/feed\.xml: failed \(connection refused: /.test(l))).toBe(true);

  await ctx.db.insertInto('leases').values({ name: 'scheduler', owner: 'elsewhere.example:1:0123456789abcdef:beef', expires_at: '2026-11-30T10:00:00.000Z', acquired_at: '2026-11-30T08:00:00.000Z' }).execute();
  const other = testLog(ctx);
  expect(await runOnce(ctx, io, other.log, new AbortController().signal)).toBe('standby');
  expect(other.lines.filter((l) => /standing by/.test(l))).toHaveLength(1);
  expect(other.lines[0]).toMatch(/; 1 feed at "0 \* \* \* \*"$/);
  expect(other.lines.slice(1).some((l) => /feed|2026-W48/.test(l))).toBe(false);
});
