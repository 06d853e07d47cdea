// `recap schedule`: node-cron runs the weekly tick at RECAP_CRON and a follow-up tick every minute
// (approvals, deadlines, scheduled sends, retries), and polls the feeds at RECAP_FEED_CRON. One
// daemon per database works at a time (a lease, renewed every minute); a second one stands by and
// takes over when the first dies.
import cron, { type ScheduledTask } from 'node-cron';
import { pollFeeds } from '../articles/feeds.ts';
import type { Context } from '../context.ts';
import { acquireLease, type Lease, LeaseHeldError, SCHEDULER_LEASE } from '../delivery/lease.ts';
import type { SendIo } from '../recap.ts';
import { cronSlots } from './slots.ts';
import { tick } from './weekly.ts';

export interface Daemon {
  stop(): Promise<void>;
}

export async function startDaemon(ctx: Context, io: SendIo): Promise<Daemon> {
  const { config } = ctx;
  const slots = cronSlots(config.cron, config.timeZone);
  let lease: Lease | null = null;
  let busy = false;
  let standingBy = false;
  const stopping = new AbortController();

  // Each step runs alone: a slow send is not started twice by the next minute's tick.
  const guarded = (what: string, work: () => Promise<unknown>) => async () => {
    if (busy || stopping.signal.aborted) return;
    busy = true;
    try {
      if (!(await holdLease())) return;
      await work();
    } catch (e) {
      io.log(`${what} failed: ${(e as Error).stack ?? (e as Error).message}`);
    } finally {
      busy = false;
    }
  };

  const holdLease = async (): Promise<boolean> => {
    if (lease && (await lease.renew())) return true;
    try {
      lease = await acquireLease(ctx.db, SCHEDULER_LEASE.name, ctx.clock, SCHEDULER_LEASE.ttlMs);
      io.log(`scheduler lease taken (${lease.owner}); this daemon now runs the schedule`);
      return true;
    } catch (e) {
      if (!(e instanceof LeaseHeldError)) throw e;
      if (lease || !standingBy) io.log(`another daemon runs the schedule (${e.message}); standing by`);
      standingBy = true;
      lease = null;
      return false;
    }
  };

  // A long send keeps the schedule's lease alive as it goes, so no standby daemon takes over mid-send.
  let renewedAt = 0;
  const onProgress = (done: number, total: number) => {
    io.onProgress?.(done, total);
    if (lease && Date.now() - renewedAt > 30_000) {
      renewedAt = Date.now();
      void lease.renew();
    }
  };
  const weekly = guarded('weekly run', () => tick(ctx, { ...io, signal: stopping.signal, waitForRetries: false, onProgress }, slots));
  const feeds = guarded('feed poll', async () => {
    for (const r of await pollFeeds(ctx.db, config.feeds, ctx.clock.now())) io.log(`feed ${r.url}: ${r.outcome} (${r.detail})`);
  });

  const tasks: ScheduledTask[] = [
    cron.schedule(config.cron, weekly, { timezone: config.timeZone, name: 'recap-weekly' }),
    cron.schedule('* * * * *', weekly, { timezone: config.timeZone, name: 'recap-follow-up' }),
    ...(config.feeds.length > 0 ? [cron.schedule(config.feedCron, feeds, { timezone: config.timeZone, name: 'recap-feeds' })] : []),
  ];
  // At start: resume an interrupted send and make up a missed run, without waiting for the cron.
  await weekly();
  io.log(`schedule: weekly run at "${config.cron}" (${config.timeZone}), mode ${config.sendMode}; ${config.feeds.length} feeds at "${config.feedCron}"`);

  return {
    async stop() {
      stopping.abort();
      for (const t of tasks) await t.destroy();
      while (busy) await new Promise((r) => setTimeout(r, 100));
      if (lease) await lease.release();
    },
  };
}
