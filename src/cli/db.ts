import type { Command } from 'commander';
import { backupDatabase } from '../../db/backup.ts';
import { databaseLabel } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { loadConfig, loadDotEnv } from '../config.ts';
import { withContext } from './context.ts';
import { dbCopyCommands } from './db-copy.ts';
import { kb, say } from './output.ts';

export function dbCommand(program: Command): void {
  const db = program.command('db').description('the database');
  db.command('migrate')
    .description('create or update the schema (and the Weekly AI Recap list); safe to run again')
    .action(async () => {
      await withContext(
        async (ctx) => {
          const ran = await migrateToLatest(ctx.db);
          say(`${databaseLabel(ctx.config.databaseUrl)}: ${ran.length ? `applied ${ran.join(', ')}` : 'up to date'}`);
        },
        { migrated: false },
      );
    });
  db.command('backup')
    .description('write a consistent copy of the database to FILE, safely while `recap serve` and `recap schedule` run (never overwrites)')
    .argument('<file>', 'where the copy goes (a new file)')
    .action(async (file: string) => {
      loadDotEnv();
      const config = loadConfig();
      const result = await backupDatabase(config.databaseUrl, file);
      say(`${config.databaseUrl}: backed up to ${result.file} (${kb(result.bytes)}, ${result.pages} pages, integrity checked)`);
    });
  dbCopyCommands(db);
}
