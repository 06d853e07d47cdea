// Subscription requests go through a queue: the web handler only inserts a row and answers, the
// same for every address, and a worker does the state-dependent work and mails the confirmation.
// A confirmation link is bound to a random nonce stored with the membership it would activate, so
// a newer request spends older links however fast they come.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('subscription_requests')
    .addColumn('id', 'integer', t.id)
    .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('topics', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('requested_at', t.timestamp, (c) => c.notNull())
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscribers.id').onDelete('cascade'))
    .addColumn('confirm_nonce', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.timestamp)
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.alterTable('list_members').addColumn('confirm_nonce', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('list_members').dropColumn('confirm_nonce').execute();
  await db.schema.dropTable('subscription_requests').execute();
}
