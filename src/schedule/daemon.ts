// `recap schedule`: node-cron runs the weekly tick at RECAP_CRON and a follow-up tick every minute
// (approvals, deadlines, scheduled sends, retries), and polls the feeds at RECAP_FEED_CRON. The
// two jobs run apart: a slow feed never delays the week's send, nor a long send the feeds. One
// daemon per database works at a time (a lease, renewed every minute); a second one stands by and
// takes over when the first dies. `recap schedule --once` runs both jobs once and returns.
import cron, { type ScheduledTask } from 'node-cron';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { pollFeeds } from '../articles/feeds.ts';
import { findList } from '../audience/lists.ts';
import type { Context } from '../context.ts';
import { acquireLease, type Lease, LeaseHeldError, SCHEDULER_LEASE } from '../delivery/lease.ts';
import type { Log } from '../log.ts';
import type { SendIo } from '../recap.ts';
import { sendProgressLog } from './send-progress.ts';
import { cronSlots, localTime, nextRuns } from './slots.ts';
import { tick } from './weekly.ts';

export interface Daemon {
  stop(): Promise<void>;
}

/** How a job's run went: done, failed (logged why), or not run because another daemon holds the lease. */
export type Outcome = 'ok' | 'failed' | 'standby';

/** What the schedule runs, each job on its own: a run of it is skipped while the last one works. */
interface Jobs {
  weekly(): Promise<Outcome>;
  feeds(): Promise<Outcome>;
  /** Stops the work in hand (a send puts the rest back in the queue), waits for it, frees the lease. */
  stop(): Promise<void>;
}

function scheduleJobs(ctx: Context, io: Omit<SendIo, 'log'>, log: Log): Jobs {
  const { config } = ctx;
  const slots = cronSlots(config.cron, config.timeZone);
  const stopping = new AbortController();
  const running = new Set<Promise<Outcome>>();
  let lease: Lease | null = null;
  let standingBy = false;

  // One look at the lease at a time, whichever job asks: the jobs share it.
  let leasing: Promise<boolean> | null = null;
  const holdLease = () => (leasing ??= takeOrRenew().finally(() => (leasing = null)));
  const takeOrRenew = async (): Promise<boolean> => {
    if (lease && (await lease.renew())) return true;
    try {
      lease = await acquireLease(ctx.db, SCHEDULER_LEASE.name, ctx.clock, SCHEDULER_LEASE.ttlMs);
      log.info({ lease: lease.owner }, `scheduler lease taken (${lease.owner}); this daemon now runs the schedule`);
      standingBy = false;
      return true;
    } catch (e) {
      if (!(e instanceof LeaseHeldError)) throw e;
      if (lease || !standingBy) log.info(`another daemon runs the schedule (${e.message}); standing by`);
      standingBy = true;
      lease = null;
      return false;
    }
  };

  const guarded = (what: string, work: () => Promise<boolean>) => {
    let busy = false;
    return async (): Promise<Outcome> => {
      if (busy || stopping.signal.aborted) return 'ok';
      busy = true;
      const run = (async (): Promise<Outcome> => {
        try {
          if (!(await holdLease())) return 'standby';
          return (await work()) ? 'ok' : 'failed';
        } catch (e) {
          log.error({ err: e }, `${what} failed: ${(e as Error).message}`);
          return 'failed';
        } finally {
          busy = false;
        }
      })();
      running.add(run);
      void run.finally(() => running.delete(run));
      return run;
    };
  };

  const sendLog = (line: string) => log.info(line);
  const weekly = guarded('weekly run', async () => {
    const progress = sendProgressLog(log, ctx.clock);
    // A long send keeps the schedule's lease alive as it goes, so no standby daemon takes over mid-send.
    let renewedAt = Date.now();
    const onProgress: NonNullable<SendIo['onProgress']> = (done, total, counts) => {
      progress.onProgress(done, total, counts);
      io.onProgress?.(done, total, counts);
      if (lease && Date.now() - renewedAt > 30_000) {
        renewedAt = Date.now();
        void lease.renew();
      }
    };
    try {
      await tick(ctx, { ...io, log: sendLog, signal: stopping.signal, waitForRetries: false, onProgress }, slots);
      return true;
    } finally {
      progress.stop();
    }
  });
  const feeds = guarded('feed poll', async () => {
    const results = await pollFeeds(ctx.db, config.feeds, ctx.clock, {
      timeoutMs: config.feedTimeoutSeconds * 1000,
      onResult: (r) => {
        const line = `feed ${r.url}: ${r.outcome} (${r.detail})`;
        if (r.outcome === 'failed') log.warn({ feed: r }, line);
        else log.info({ feed: r }, line);
      },
    });
    return results.every((r) => r.outcome !== 'failed');
  });

  return {
    weekly,
    feeds,
    async stop() {
      stopping.abort();
      await Promise.all(running);
      if (lease) await lease.release();
      lease = null;
    },
  };
}

/** What `recap schedule` says at start: the list, its zone, the next run, the mode and the deadline. */
async function logStart(ctx: Context, log: Log): Promise<void> {
  const { config } = ctx;
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const [next] = nextRuns(ctx.clock.now(), cronSlots(config.cron, config.timeZone), config.timeZone, 1);
  const deadline = config.sendMode === 'approve' ? `editors have ${config.approvalDeadlineHours} h to approve, then it is ${config.deadlineAction === 'send' ? 'sent anyway' : 'skipped'}` : 'no approval asked';
  log.info(
    {
      list: list.slug, timeZone: config.timeZone, cron: config.cron, nextWeek: next?.week ?? null, nextRunAt: next?.slot.toISOString() ?? null,
      mode: config.sendMode, approvalDeadlineHours: config.approvalDeadlineHours, deadlineAction: config.deadlineAction, feeds: config.feeds.length, feedCron: config.feedCron,
    },
    `schedule of ${list.name} (${list.slug}) in ${config.timeZone}: ` +
      `next ${next ? `${next.week} at ${localTime(next.slot, config.timeZone)}` : 'run: never (RECAP_CRON does not fire within a week)'} (RECAP_CRON "${config.cron}"); ` +
      `mode ${config.sendMode}, ${deadline}; ${config.feeds.length} feed${config.feeds.length === 1 ? '' : 's'} at "${config.feedCron}"`,
  );
}

export async function startDaemon(ctx: Context, io: Omit<SendIo, 'log'>, log: Log): Promise<Daemon> {
  const { config } = ctx;
  await logStart(ctx, log);
  const jobs = scheduleJobs(ctx, io, log);
  const tasks: ScheduledTask[] = [
    cron.schedule(config.cron, jobs.weekly, { timezone: config.timeZone, name: 'recap-weekly' }),
    cron.schedule('* * * * *', jobs.weekly, { timezone: config.timeZone, name: 'recap-follow-up' }),
    ...(config.feeds.length > 0 ? [cron.schedule(config.feedCron, jobs.feeds, { timezone: config.timeZone, name: 'recap-feeds' })] : []),
  ];
  // At start, without waiting for the cron: resume an interrupted send, make up a missed run, poll the feeds.
  void jobs.weekly();
  if (config.feeds.length > 0) void jobs.feeds();
  return {
    async stop() {
      for (const t of tasks) await t.destroy();
      await jobs.stop();
    },
  };
}

/**
 * `recap schedule --once`: what is due now, with the feeds alongside, then the lease is freed.
 * An abort of `signal` (SIGTERM) stops it as it stops the daemon.
 */
export async function runOnce(ctx: Context, io: Omit<SendIo, 'log'>, log: Log, signal: AbortSignal): Promise<Outcome> {
  await logStart(ctx, log);
  const jobs = scheduleJobs(ctx, io, log);
  signal.addEventListener('abort', () => void jobs.stop(), { once: true });
  const outcomes = await Promise.all([jobs.weekly(), ctx.config.feeds.length > 0 ? jobs.feeds() : ('ok' as const)]);
  await jobs.stop();
  return outcomes.includes('standby') ? 'standby' : outcomes.includes('failed') ? 'failed' : 'ok';
}
