// Delivery you can trust: claims and retries on deliveries, a lease per running send, bounces as
// their own records, and the reason an edition was paused.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('deliveries').addColumn('claim_token', 'text').execute();
  await db.schema.alterTable('deliveries').addColumn('claimed_at', t.timestamp).execute();
  await db.schema.alterTable('deliveries').addColumn('next_attempt_at', t.timestamp).execute();
  await db.schema.alterTable('deliveries').addColumn('reason', 'text').execute();
  await db.schema.createIndex('deliveries_claim_token').on('deliveries').column('claim_token').execute();

  await db.schema.alterTable('editions').addColumn('paused_reason', 'text').execute();

  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('bounces')
    .addColumn('id', 'integer', t.id)
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('edition_id', 'integer', (c) => c.references('editions.id').onDelete('set null'))
    .addColumn('email_hash', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status_code', 'text')
    .addColumn('diagnostic', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bounces_subscriber').on('bounces').columns(['subscriber_id', 'edition_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bounces').execute();
  await db.schema.dropTable('leases').execute();
  await db.schema.alterTable('editions').dropColumn('paused_reason').execute();
  await db.schema.dropIndex('deliveries_claim_token').execute();
  for (const column of ['reason', 'next_attempt_at', 'claimed_at', 'claim_token']) {
    await db.schema.alterTable('deliveries').dropColumn(column).execute();
  }
}
