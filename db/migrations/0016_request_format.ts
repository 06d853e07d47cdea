// The format a reader chose on the subscribe form (0015 subscribers.format) waits with their
// request until the worker creates or updates the pending subscriber, so it survives the double
// opt-in like their name and topics do.
import { sql, type Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('subscription_requests')
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('full').check(sql`format in ('full', 'brief')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscription_requests').dropColumn('format').execute();
}
