// `recap worker`: sends alongside the other senders on the database (src/worker.ts). Logs like the
// schedule daemon (src/log.ts).
import { type Command, InvalidArgumentError } from 'commander';
import { requireSecret } from '../config.ts';
import { systemSleep } from '../context.ts';
import { createTransport } from '../delivery/transport.ts';
import { createLog } from '../log.ts';
import { runWorker } from '../worker.ts';
import { withContext } from './context.ts';
import { EXIT } from './output.ts';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600) throw new InvalidArgumentError('must be a number of seconds from 0.1 to 3600');
  return n;
}

export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('send the due deliveries of every edition being sent, alongside the other senders on this database; stops on SIGINT/SIGTERM')
    .option('--once', 'exit once nothing is due, instead of waiting for more')
    .option('--poll <seconds>', 'how often an idle worker looks for work', seconds, 5)
    .addHelpText('after', '\nRun several (on one machine or many, on one DATABASE_URL): batches are claimed under leases, and a dead\n' +
      "worker's batch is taken over once its lease expires. RECAP_RATE and RECAP_QUOTA hold for all of them together.\n" +
      'Exit codes: 0 done (--once: nothing left due), 1 a send failed (see the log), 4 stopped by a signal.')
    .action(async (options: { once?: boolean; poll: number }) => {
      await withContext(async (ctx) => {
        const log = createLog(ctx.config, ctx.clock);
        const stop = new AbortController();
        for (const name of ['SIGINT', 'SIGTERM'] as const) {
          process.once(name, () => {
            log.info(`${name}: finishing the messages in flight, then stopping`);
            stop.abort();
          });
        }
        const io = { transport: () => createTransport(ctx.config), secret: requireSecret(ctx.config), sleep: systemSleep, log: (line: string) => log.info(line), signal: stop.signal };
        log.info(`worker started (${options.once ? 'until nothing is due' : `looking for work every ${options.poll} s`})`);
        try {
          const t = await runWorker(ctx, io, log, { once: options.once ?? false, pollMs: options.poll * 1000 });
          log.info(`worker stopped: ${t.submitted} submitted, ${t.deferred} deferred, ${t.failed} failed, ${t.uncertain} uncertain${t.editions.size ? ` (${[...t.editions].join(', ')})` : ''}`);
        } catch (e) {
          log.error({ err: e }, `worker failed: ${(e as Error).message}`);
          process.exitCode = EXIT.partial;
          return;
        }
        if (stop.signal.aborted) process.exitCode = EXIT.stopped;
      });
    });
}
