// Opens what a command needs and closes it afterwards.
import { resolve } from 'node:path';
import { databaseLabel, dialectOf, openDb } from '../../db/connect.ts';
import { pendingMigrations } from '../../db/migrate.ts';
import { type Config, ConfigError, loadConfig, loadDotEnv } from '../config.ts';
import { type Context, processClock } from '../context.ts';

export async function withContext<T>(run: (ctx: Context) => Promise<T>, options: { migrated?: boolean } = {}): Promise<T> {
  loadDotEnv();
  const config: Config = loadConfig();
  const db = openDb(config.databaseUrl);
  try {
    if (options.migrated !== false) {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new ConfigError(`the database ${dialectOf(config.databaseUrl) === 'postgres' ? databaseLabel(config.databaseUrl) : `at ${resolve(config.databaseUrl)}`} needs migrating (${pending.join(', ')}): run \`recap db migrate\``);
      }
    }
    return await run({ db, config, clock: processClock(config) });
  } finally {
    await db.destroy();
  }
}
