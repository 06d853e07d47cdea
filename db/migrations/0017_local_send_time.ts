// Local send time (RECAP_LOCAL_SEND_TIME, src/delivery/waves.ts): the zone a reader chose on the
// subscribe form waits with their request until they confirm; and a send looks up, per reader, an
// earlier edition that reached them on the day of its wave (never two in one local day).
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscription_requests').addColumn('time_zone', 'text').execute();
  await db.schema.createIndex('deliveries_subscriber_submitted').on('deliveries').columns(['subscriber_id', 'submitted_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_subscriber_submitted').execute();
  await db.schema.alterTable('subscription_requests').dropColumn('time_zone').execute();
}
