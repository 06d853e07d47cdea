import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const INCLUDE = ['test/**/*.test.ts', 'test/**/*.test.tsx'];

// The suite runs once per database, as two projects (kysely's own tests loop over dialects alike):
// `sqlite` always, `postgres` when TEST_DATABASE_URL names a PostgreSQL server (.ci/run starts one).
//
// The postgres project runs the files that get a database the way the suite hands them out: from
// test/helpers/context.ts (createTestContext, and helpers/web.ts built on it) or
// test/helpers/database.ts (and helpers/migrations.ts built on it). Files without one (rendering,
// parsing, SMTP, config) would only repeat their sqlite run, and files that make their own SQLite file (a CLI run in a temp folder with the
// default var/recap.db) test SQLite whatever the project. Of those that get one, these run on
// SQLite only, each for its reason: about SQLite itself, or about something the database only
// serves there (what they store goes through code other postgres files run), where a second pass
// would cost minutes of CI time and test nothing new.
const SQLITE_ONLY: Record<string, string> = {
  'test/db/statements.test.ts': "better-sqlite3's statement cache",
  'test/cli/db-backup.test.ts': "SQLite's online backup API (`recap db backup`); PostgreSQL is backed up with pg_dump",
  'test/audience/csv-import.test.ts': 'CSV parsing at scale (6,000 and 20,000 rows); upsertSubscriber runs on PostgreSQL wherever a test adds subscribers, and in subscriber-export.test.ts an import of an export',
  'test/audience/bounce-import.test.ts': 'bounce and complaint formats read from files; recording them runs on PostgreSQL in bounces.test.ts and bounce-webhook.test.ts',
  'test/articles/import.test.ts': 'article formats and their validation; storing them runs on PostgreSQL in feeds.test.ts and wherever a test imports the sample week',
  'test/cli/signals.test.ts': 'signals through npm and npx to the sender; an interrupted send resumed on PostgreSQL is crash.test.ts and schedule-daemon.test.ts',
  'test/delivery/composers.test.ts': 'message composition in worker threads',
  'test/delivery/dkim.test.ts': 'DKIM signatures',
  'test/delivery/smtputf8.test.ts': 'SMTPUTF8 and internationalised addresses at the SMTP server',
  'test/deploy/container-files.test.ts': 'the Dockerfile, compose.yaml and systemd units',
  'test/web/browser.e2e.test.ts': 'the subscriber pages in chromium; their routes run on PostgreSQL in routes.test.ts',
  'test/web/desk.e2e.test.ts': "the desk in chromium; its actions run on PostgreSQL in desk.test.ts and desk-monday.test.ts",
  'test/web/time-zone.e2e.test.ts': "the browser's zone offered in chromium; storing it runs on PostgreSQL in time-zone.test.ts",
};

const USES_TEST_DATABASE = /\bcreateTestContext\b|helpers\/web\.ts|helpers\/database\.ts|helpers\/migrations\.ts/;

function postgresFiles(): string[] {
  return readdirSync('test', { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.test\.tsx?$/.test(file))
    .map((file) => join('test', file))
    .filter((file) => !(file in SQLITE_ONLY) && USES_TEST_DATABASE.test(readFileSync(file, 'utf8')))
    .sort();
}

const sqlite: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: 'sqlite', include: INCLUDE, env: { RECAP_TEST_DIALECT: 'sqlite' } },
};

const postgres: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'postgres',
    include: postgresFiles(),
    env: { RECAP_TEST_DIALECT: 'postgres' },
    globalSetup: ['test/helpers/postgres-setup.ts'],
  },
};

const withPostgres = Boolean(process.env.TEST_DATABASE_URL);
// vitest reads this file again for the projects: say it once.
const told = globalThis as { recapToldNoPostgres?: boolean };
if (!withPostgres && !told.recapToldNoPostgres) {
  told.recapToldNoPostgres = true;
  console.log('TEST_DATABASE_URL is not set: the PostgreSQL pass is skipped');
}

export default defineConfig({
  test: {
    projects: withPostgres ? [sqlite, postgres] : [sqlite],
    // Real SQLite files, real SMTP servers and child processes: give them room on a 2-core machine.
    // A CLI start through tsx takes ~3.5 s on a quiet machine and over 15 s on a busy one (seen in
    // CI beside a benchmark), and some tests start several: a limit for a hang, not for speed.
    testTimeout: 120_000,
    // Two files at a time even on 2 cores (vitest's default would be one): most tests wait on child
    // processes, sockets and SQLite, so the suite takes ~6 instead of ~9 minutes here.
    maxWorkers: 2,
    hookTimeout: 120_000,
  },
});
