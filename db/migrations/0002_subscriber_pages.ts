// For the subscriber pages: pausing without unsubscribing, and the time of the latest subscription
// request, which binds a confirmation link to the request it answers.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('subscribers').addColumn('paused_at', t.timestamp).execute();
  await db.schema.alterTable('subscribers').addColumn('confirm_requested_at', t.timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').dropColumn('confirm_requested_at').execute();
  await db.schema.alterTable('subscribers').dropColumn('paused_at').execute();
}
