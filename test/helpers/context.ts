// Real parts for tests: a migrated database of the run's dialect (a SQLite file in a temp folder, or
// a PostgreSQL database of its own: test/helpers/database.ts), a config built the way the CLI
// builds it, and a clock that only moves when a test moves it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../db/connect.ts';
import { freshDatabase } from './database.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { findList } from '../../src/audience/lists.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Clock, Context } from '../../src/context.ts';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export interface TestContext extends Context {
  dir: string;
  clock: Clock & { set(iso: string): void; advance(ms: number): void };
  listId: number;
  close(): Promise<void>;
}

export function tempDir(prefix = 'recap-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: join(dir, 'recap.db'),
    OUTBOX_DIR: join(dir, 'outbox'),
    BASE_URL: 'https://recap.test',
    MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>',
    RECAP_SECRET: TEST_SECRET,
    ...env,
  });
}

export async function createTestContext(env: Record<string, string> = {}, now = '2026-11-30T08:00:00Z'): Promise<TestContext> {
  const dir = tempDir();
  const database = await freshDatabase(dir, { migrated: true });
  const config = testConfig(dir, { DATABASE_URL: database.url, ...env });
  const db = openDb(config.databaseUrl);
  // PostgreSQL's copy of the template is migrated already; on SQLite this migrates the new file.
  await migrateToLatest(db);
  let current = new Date(now);
  const list = await findList(db, WEEKLY_AI_RECAP.slug);
  return {
    db,
    config,
    dir,
    listId: list.id,
    clock: { now: () => new Date(current), set: (iso: string) => (current = new Date(iso)), advance: (ms: number) => (current = new Date(current.getTime() + ms)) },
    async close() {
      await db.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
