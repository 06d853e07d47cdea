// `recap schedule` (the daemon, or --once), `recap schedule status` and `recap schedule next`.
// The daemon logs (src/log.ts); status and next print results on stdout.
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig, loadDotEnv, requireSecret } from '../config.ts';
import { type Context, processClock, systemSleep } from '../context.ts';
import { createTransport } from '../delivery/transport.ts';
import { createLog, type Log } from '../log.ts';
import { runOnce, startDaemon } from '../schedule/daemon.ts';
import { cronSlots, localTime, nextRuns } from '../schedule/slots.ts';
import { RECENT_WEEKS, type ScheduleStatus, scheduleStatus } from '../schedule/status.ts';
import { withContext } from './context.ts';
import { EXIT, say, table } from './output.ts';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 520) throw new InvalidArgumentError('must be a whole number from 1 to 520');
  return n;
}

/** Calls `stop` with the signal's name on the first SIGINT or SIGTERM, after logging it. */
function onStopSignal(log: Log, stop: (name: string) => void): void {
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.once(name, () => {
      log.info(`${name}: finishing the work in hand, then stopping`);
      stop(name);
    });
  }
}

function sendIo(ctx: Context) {
  return { transport: () => createTransport(ctx.config), secret: requireSecret(ctx.config), sleep: systemSleep };
}

export function scheduleCommand(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('run the weekly schedule as a daemon (RECAP_CRON, RECAP_SEND_MODE, RECAP_FEEDS), logging each event; stops on SIGINT/SIGTERM')
    .option('--once', 'do what is due now (resume, make up, follow approvals, poll the feeds), then exit: for cron-only hosts')
    .addHelpText('after', '\nLogs: one line per event on stdout, errors on stderr; RECAP_LOG_FORMAT=json for JSON lines, RECAP_LOG_LEVEL.\n' +
      'Exit codes of --once: 0 done (or another daemon holds the schedule: it does the work), 1 a job failed (see the log), 4 stopped by a signal.')
    .action(async (options: { once?: boolean }) => {
      await withContext(async (ctx) => {
        const log = createLog(ctx.config, ctx.clock);
        const io = sendIo(ctx);
        if (options.once) {
          const stopping = new AbortController();
          let signalled = false;
          onStopSignal(log, () => {
            signalled = true;
            stopping.abort();
          });
          const outcome = await runOnce(ctx, io, log, stopping.signal);
          if (signalled) process.exitCode = EXIT.stopped;
          else if (outcome === 'failed') process.exitCode = EXIT.partial;
          return;
        }
        // Listening before the daemon starts: a signal that comes while it starts stops it too.
        let stopRequested = false;
        let stop = (): void => void (stopRequested = true);
        onStopSignal(log, () => stop());
        const daemon = await startDaemon(ctx, io, log);
        await new Promise<void>((resolve) => {
          stop = () => void daemon.stop().then(
            () => log.info('stopped'),
            (e: unknown) => {
              log.error({ err: e }, `stopping failed: ${(e as Error).message}`);
              process.exitCode = EXIT.partial;
            },
          ).finally(resolve);
          if (stopRequested) stop();
        });
      });
    });

  schedule
    .command('status')
    .description('who runs the schedule and since when, the last and next runs, and what each recent week did')
    .option('--weeks <n>', `recent weeks shown (default ${RECENT_WEEKS})`, positive)
    .option('--json', 'print JSON')
    .action(async (options: { weeks?: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const status = await scheduleStatus(ctx, options.weeks);
        if (options.json) say(JSON.stringify(status, null, 2));
        else for (const line of statusLines(status)) say(line);
      });
    });

  schedule
    .command('next')
    .description("the next times the weekly run is due (RECAP_CRON, after each week's end), in the list's zone (RECAP_TZ)")
    .option('--count <n>', 'how many', positive, 1)
    .option('--json', 'print JSON')
    .action((options: { count: number; json?: boolean }) => {
      loadDotEnv();
      const config = loadConfig();
      const runs = nextRuns(processClock(config).now(), cronSlots(config.cron, config.timeZone), config.timeZone, options.count);
      if (options.json) {
        say(JSON.stringify(runs.map((r) => ({ week: r.week, at: r.slot.toISOString(), local: localTime(r.slot, config.timeZone) })), null, 2));
        return;
      }
      if (runs.length === 0) say(`RECAP_CRON "${config.cron}" does not fire within a week of a week's end: no run is ever due.`);
      for (const line of table(runs.map((r) => [r.week, localTime(r.slot, config.timeZone), r.slot.toISOString()]))) say(line);
    });
}

function statusLines(status: ScheduleStatus): string[] {
  const { lease } = status;
  const lines = [
    !lease ? 'Schedule: no daemon holds it (none running, or stopped cleanly)'
    : lease.current ? `Schedule: run by ${lease.owner}${lease.since ? ` since ${lease.since}` : ''} (lease renewed until ${lease.expiresAt})`
    : `Schedule: no daemon holds it; the last holder, ${lease.owner}, let its lease expire at ${lease.expiresAt} (stopped without letting go?)`,
  ];
  for (const list of status.lists) {
    lines.push('', `${list.name} (${list.slug}), zone ${list.timeZone}, RECAP_CRON "${list.cron}", mode ${list.mode}`);
    lines.push(`  Last run: ${list.last ? `${list.last.week}, taken up ${localTime(list.last.startedAt, list.timeZone)}: ${list.last.description}` : 'none yet'}`);
    lines.push(`  Next run: ${list.next ? `${list.next.week} at ${list.next.local}` : 'never (RECAP_CRON does not fire within a week of a week’s end)'}`);
    if (list.weeks.length > 0) {
      lines.push('  Recent weeks:');
      lines.push(...table(list.weeks.map((w) => [`    ${w.week}`, w.edition ? `#${w.edition.number}` : '-', w.description])));
    }
  }
  return lines;
}
