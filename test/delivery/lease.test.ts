// Who holds a lease: one acquisition in one process start. A holder on this host is known to be
// gone when no process has its pid, or when its pid is this process's own from an earlier start
// (a daemon restarted as PID 1 in a container); anything else waits for the lease to expire.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLease, INSTANCE_ID, LeaseHeldError } from '../../src/delivery/lease.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { startDaemon } from '../../src/schedule/daemon.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo, testLog } from '../helpers/send.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx?.close();
});

async function heldBy(owner: string, name = 'scheduler'): Promise<void> {
  const expires = new Date(ctx.clock.now().getTime() + 3 * 60_000).toISOString();
  await ctx.db.insertInto('leases').values({ name, owner, expires_at: expires }).execute();
}

/** A live process on this host that is not this one; `stop` ends it and waits until it is reaped. */
function otherProcess(): { pid: number; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  return {
    pid: child.pid as number,
    stop: () => new Promise((resolve) => {
      child.on('close', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

describe('a lease holder', () => {
  it('is taken over at once when it had this pid on this host in an earlier process start', async () => {
    ctx = await createTestContext();
    await heldBy(`${hostname()}:${process.pid}:0123456789abcdef:beef`);
    const lease = await acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000);
    expect(lease.owner.startsWith(`${hostname()}:${process.pid}:${INSTANCE_ID}:`)).toBe(true);
    await lease.release();
  });

  it('so a daemon restarted with its old pid runs the schedule at once instead of standing by', async () => {
    ctx = await createTestContext({ RECAP_SEND_MODE: 'auto' }, '2026-11-30T08:00:00Z');
    await heldBy(`${hostname()}:${process.pid}:0123456789abcdef:beef`);
    const io = testIo(ctx, () => outboxTransport(ctx.config.outboxDir), { waitForRetries: false });
    const { log, lines } = testLog(ctx);
    const daemon = await startDaemon(ctx, io, log);
    await daemon.stop();
    expect(lines.join('\n')).toMatch(/scheduler lease taken/);
    expect(lines.join('\n')).not.toMatch(/standing by/);
    expect(lines.join('\n')).toMatch(/2026-W48: no edition/);
  });

  it('keeps the lease while its process lives, and loses it at once when that process is gone', async () => {
    ctx = await createTestContext();
    const other = otherProcess();
    try {
      await heldBy(`${hostname()}:${other.pid}:0123456789abcdef:beef`);
      await expect(acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000)).rejects.toThrow(LeaseHeldError);
    } finally {
      await other.stop();
    }
    const lease = await acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000);
    await lease.release();
  });

  it('in this very process start (another acquisition) keeps it', async () => {
    ctx = await createTestContext();
    const first = await acquireLease(ctx.db, 'send:edition:1', ctx.clock, 60_000);
    await expect(acquireLease(ctx.db, 'send:edition:1', ctx.clock, 60_000)).rejects.toThrow(LeaseHeldError);
    await first.release();
  });

  it('on another host keeps it until it expires', async () => {
    ctx = await createTestContext();
    await heldBy(`elsewhere.example:${process.pid}:0123456789abcdef:beef`);
    await expect(acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000)).rejects.toThrow(LeaseHeldError);
    ctx.clock.advance(3 * 60_000 + 1);
    const lease = await acquireLease(ctx.db, 'scheduler', ctx.clock, 60_000);
    await lease.release();
  });
});

describe('two processes taking a free lease at once', () => {
  // On PostgreSQL both may read "no holder" before either writes (SQLite has one writer at a time):
  // the one that loses must get LeaseHeldError, not a unique-key failure, and exactly one holds it.
  it('leave exactly one holder; the other is told the lease is held', async () => {
    ctx = await createTestContext();
    for (let round = 0; round < 10; round++) {
      const name = `send:edition:${round}`;
      const tries = await Promise.allSettled([0, 1, 2].map(() => acquireLease(ctx.db, name, ctx.clock, 60_000)));
      const won = tries.filter((t) => t.status === 'fulfilled');
      const lost = tries.filter((t): t is PromiseRejectedResult => t.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const l of lost) expect(l.reason).toBeInstanceOf(LeaseHeldError);
      const held = await ctx.db.selectFrom('leases').select('owner').where('name', '=', name).execute();
      expect(held).toEqual([{ owner: (won[0] as PromiseFulfilledResult<{ owner: string }>).value.owner }]);
    }
  });
});
