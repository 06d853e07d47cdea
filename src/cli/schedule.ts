import type { Command } from 'commander';
import { requireSecret } from '../config.ts';
import { systemSleep } from '../context.ts';
import { createTransport } from '../delivery/transport.ts';
import { startDaemon } from '../schedule/daemon.ts';
import { withContext } from './context.ts';
import { warn } from './output.ts';

export function scheduleCommand(program: Command): void {
  program
    .command('schedule')
    .description('run the weekly schedule as a daemon (RECAP_CRON, RECAP_SEND_MODE, RECAP_FEEDS); stops on SIGINT/SIGTERM')
    .action(async () => {
      await withContext(async (ctx) => {
        const log = (line: string) => warn(`${ctx.clock.now().toISOString()} ${line}`);
        const daemon = await startDaemon(ctx, {
          transport: () => createTransport(ctx.config),
          secret: requireSecret(ctx.config),
          sleep: systemSleep,
          log,
        });
        await new Promise<void>((resolve) => {
          const stop = (name: string) => {
            log(`${name}: finishing the work in hand, then stopping`);
            void daemon.stop().then(resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      });
    });
}
