// What readers choose (issue 14), shared by the features built on it: the shape of their digest
// (full or brief), the time zone of their morning (null: the list's), and per delivery the instant
// it may go (a wave of local send time, or after a subject test) and the subject it was given (the
// arm of a subject test; null: the edition's own subject). And clicks by message: a counted link
// carries a random tag of its message (never stored with the delivery, so no click can be tied to a
// reader), which lets a subject test count messages that were clicked and lets link scanners (every
// link of a message, seconds after it was sent) be told from readers.
import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .alterTable('subscribers')
    .addColumn('format', 'text', (c) => c.notNull().defaultTo('full').check(sql`format in ('full', 'brief')`))
    .execute();
  await db.schema.alterTable('subscribers').addColumn('time_zone', 'text').execute();
  await db.schema.alterTable('deliveries').addColumn('not_before', t.timestamp).execute();
  await db.schema.alterTable('deliveries').addColumn('subject_arm', 'integer').execute();
  await db.schema
    .createTable('message_clicks')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('message_tag', 'text', (c) => c.notNull())
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('subject_arm', 'integer')
    .addColumn('sent_at', t.timestamp, (c) => c.notNull())
    .addColumn('clicks', 'integer', (c) => c.notNull())
    .addColumn('first_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('message_clicks_pk', ['edition_id', 'message_tag', 'article_id'])
    .execute();
  // A claim of queued rows reads them in id order and skips those held back: with not_before in
  // the index it still reads nothing but the index.
  await db.schema.dropIndex('deliveries_edition_status').execute();
  await db.schema.createIndex('deliveries_edition_status').on('deliveries').columns(['edition_id', 'status', 'id', 'not_before']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('message_clicks').execute();
  await db.schema.dropIndex('deliveries_edition_status').execute();
  await db.schema.createIndex('deliveries_edition_status').on('deliveries').columns(['edition_id', 'status', 'id']).execute();
  await db.schema.alterTable('deliveries').dropColumn('subject_arm').execute();
  await db.schema.alterTable('deliveries').dropColumn('not_before').execute();
  await db.schema.alterTable('subscribers').dropColumn('time_zone').execute();
  await db.schema.alterTable('subscribers').dropColumn('format').execute();
}
