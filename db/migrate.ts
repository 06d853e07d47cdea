// Migrations are imported statically: FileMigrationProvider's dynamic import of .ts files breaks
// under vitest, and a static list also works from a bundled build.
import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import * as initial from './migrations/0001_initial.ts';
import * as subscriberPages from './migrations/0002_subscriber_pages.ts';
import * as reliableDelivery from './migrations/0003_reliable_delivery.ts';
import * as scheduleAndDesk from './migrations/0004_schedule_and_desk.ts';
import * as clicks from './migrations/0005_clicks.ts';
import * as subscriptionQueue from './migrations/0006_subscription_queue.ts';
import * as scheduleDeadlines from './migrations/0007_schedule_deadlines.ts';
import * as claimIndexes from './migrations/0009_claim_indexes.ts';
import * as editorDesk from './migrations/0010_editor_desk.ts';
import * as firstName from './migrations/0011_first_name.ts';
import * as leaseSince from './migrations/0012_lease_since.ts';
import * as sharedServeState from './migrations/0013_shared_serve_state.ts';
import * as sendWorkers from './migrations/0014_send_workers.ts';
import * as readerChoices from './migrations/0015_reader_choices.ts';
import * as requestFormat from './migrations/0016_request_format.ts';
import * as localSendTime from './migrations/0017_local_send_time.ts';
import * as subjectTests from './migrations/0018_subject_tests.ts';
import * as clickWeighting from './migrations/0019_click_weighting.ts';

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_subscriber_pages': subscriberPages,
  '0003_reliable_delivery': reliableDelivery,
  '0004_schedule_and_desk': scheduleAndDesk,
  '0005_clicks': clicks,
  '0006_subscription_queue': subscriptionQueue,
  '0007_schedule_deadlines': scheduleDeadlines,
  '0009_claim_indexes': claimIndexes,
  '0010_editor_desk': editorDesk,
  '0011_first_name': firstName,
  '0012_lease_since': leaseSince,
  '0013_shared_serve_state': sharedServeState,
  '0014_send_workers': sendWorkers,
  '0015_reader_choices': readerChoices,
  '0016_request_format': requestFormat,
  '0017_local_send_time': localSendTime,
  '0018_subject_tests': subjectTests,
  '0019_click_weighting': clickWeighting,
};

/** The newest migration's name: the level a fully migrated database is at. */
export const LATEST_MIGRATION = Object.keys(migrations).sort().at(-1) as string;

// Kysely<any>: migrations run before (and regardless of) the current schema types.
function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Runs every pending migration; throws with the failing migration's name. Returns the names run. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results }: MigrationResultSet = await migrator(db).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const where = failed ? ` in migration ${failed.migrationName}` : '';
    throw new Error(`database migration failed${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Runs the migrations up to and including `name` (tests of an upgrade start from an older schema). */
export async function migrateTo(db: Kysely<any>, name: string): Promise<void> {
  const { error } = await migrator(db).migrateTo(name);
  if (error) throw error;
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Names of the migrations applied, in order. */
export async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
