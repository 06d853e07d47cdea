// What several `recap serve` processes on one database must share: the rate-limit counters (one row
// per key and its current fixed window, counted with an atomic upsert), and who is mailing a queued
// subscription request (a claim that expires, so a process that died mid-send leaves it to others).
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_started_at', t.timestamp, (c) => c.notNull())
    .addColumn('window_ends_at', t.timestamp, (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limits_window_ends_at').on('rate_limits').column('window_ends_at').execute();
  await db.schema.alterTable('subscription_requests').addColumn('claimed_by', 'text').execute();
  await db.schema.alterTable('subscription_requests').addColumn('claimed_until', t.timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscription_requests').dropColumn('claimed_until').execute();
  await db.schema.alterTable('subscription_requests').dropColumn('claimed_by').execute();
  await db.schema.dropTable('rate_limits').execute();
}
