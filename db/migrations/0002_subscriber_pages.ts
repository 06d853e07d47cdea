// For the subscriber pages: pausing without unsubscribing, and the time of the latest subscription
// request, which binds a confirmation link to the request it answers.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').addColumn('paused_at', 'text').execute();
  await db.schema.alterTable('subscribers').addColumn('confirm_requested_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').dropColumn('confirm_requested_at').execute();
  await db.schema.alterTable('subscribers').dropColumn('paused_at').execute();
}
