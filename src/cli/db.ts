import type { Command } from 'commander';
import { migrateToLatest } from '../../db/migrate.ts';
import { withContext } from './context.ts';
import { say } from './output.ts';

export function dbCommand(program: Command): void {
  const db = program.command('db').description('the database');
  db.command('migrate')
    .description('create or update the schema (and the Weekly AI Recap list); safe to run again')
    .action(async () => {
      await withContext(
        async (ctx) => {
          const ran = await migrateToLatest(ctx.db);
          say(ran.length ? `${ctx.config.databaseUrl}: applied ${ran.join(', ')}` : `${ctx.config.databaseUrl}: up to date`);
        },
        { migrated: false },
      );
    });
}
