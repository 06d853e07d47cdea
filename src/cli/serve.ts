import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import { openDb } from '../../db/connect.ts';
import { pendingMigrations } from '../../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { findList } from '../audience/lists.ts';
import { ConfigError, loadConfig, loadDotEnv, requireSecret } from '../config.ts';
import { processClock } from '../context.ts';
import { createTransport } from '../delivery/transport.ts';
import { createApp } from '../web/app.ts';
import { serveLimits, sweepRateLimits } from '../web/rate-limit.ts';
import { subscriptionWorker } from '../web/subscription-requests.ts';
import { say, warn } from './output.ts';

const DRAIN_INTERVAL_MS = 30_000;

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the subscriber pages, the archive and RSS feed, and the article intake (PORT, BASE_URL)')
    .option('--port <port>', 'port to listen on (default: PORT or 3000)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { port?: string; host: string }) => {
      loadDotEnv();
      const config = loadConfig(opts.port ? { ...process.env, PORT: opts.port } : process.env);
      const secret = requireSecret(config);
      const db = openDb(config.databaseUrl);
      const pending = await pendingMigrations(db);
      if (pending.length > 0) throw new ConfigError(`the database needs migrating (${pending.join(', ')}): run \`recap db migrate\``);
      const transport = createTransport(config);
      const clock = processClock(config);
      const log = (line: string) => warn(`${clock.now().toISOString()} ${line}`);
      const base = {
        db,
        config,
        clock,
        secret,
        transport,
        list: await findList(db, WEEKLY_AI_RECAP.slug),
        limits: serveLimits(db, clock),
        log,
      };
      // Subscription requests are mailed by the worker: right after each answer, at start (what a
      // crash or a stop left queued) and every half minute (retries of failed sends).
      const worker = subscriptionWorker(base);
      const app = createApp({ ...base, subscriptionWorker: worker });
      worker.wake();
      // Each process also clears the ended rate-limit windows (any of them may; a delete is idempotent).
      const sweep = () => sweepRateLimits(db, clock.now()).catch((e: unknown) => log(`error clearing rate-limit windows: ${(e as Error).message}`));
      const interval = setInterval(() => {
        worker.wake();
        void sweep();
      }, DRAIN_INTERVAL_MS);
      const server = serve({ fetch: app.fetch, port: config.port, hostname: opts.host }, (info) => {
        say(`Recap is serving on http://${info.address}:${info.port} (public address: ${config.baseUrl}); mail goes to ${transport.target}`);
      });
      const stop = () => {
        log('stopping');
        clearInterval(interval);
        server.close(() => {
          void worker
            .idle()
            .then(() => transport.close())
            .then(() => db.destroy());
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
