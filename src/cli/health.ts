// `recap health [--daemon]`: the readiness /readyz reports, for a container's HEALTHCHECK or a
// monitor without HTTP (the schedule service has no port). Exit 0 ready, 1 not (what Docker's
// HEALTHCHECK takes as unhealthy; it reserves 2).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { dialectOf, openDb, sqlitePath } from '../../db/connect.ts';
import { loadConfig, loadDotEnv } from '../config.ts';
import { processClock } from '../context.ts';
import { type Readiness, readiness } from '../health.ts';
import { say } from './output.ts';

export function healthCommand(program: Command): void {
  program
    .command('health')
    .description('is the database reachable and migrated (and, with --daemon, is `recap schedule` renewing its lease)? exit 0 yes, 1 no')
    .option('--daemon', 'also require a schedule daemon whose lease heartbeat is current')
    .action(async (opts: { daemon?: boolean }) => {
      const report = await check(opts.daemon ?? false).catch((e: Error): Readiness => ({ ready: false, database: 'unreachable', error: e.message }));
      say(JSON.stringify({ status: report.ready ? 'ready' : 'not ready', ...report }));
      process.exitCode = report.ready ? 0 : 1;
    });
}

async function check(requireDaemon: boolean): Promise<Readiness> {
  loadDotEnv();
  const config = loadConfig();
  // Opening a SQLite path would create an empty file; a health check changes nothing.
  if (dialectOf(config.databaseUrl) === 'sqlite') {
    const path = sqlitePath(config.databaseUrl);
    if (path !== ':memory:' && !existsSync(path)) return { ready: false, database: 'unreachable', error: `there is no database at ${path}` };
  }
  const db = openDb(config.databaseUrl);
  try {
    return await readiness(db, processClock(config).now(), { requireDaemon });
  } finally {
    await db.destroy();
  }
}
