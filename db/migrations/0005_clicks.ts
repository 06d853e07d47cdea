// Click counts per story and edition (RECAP_TRACK_CLICKS): no per-person record.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('clicks')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('clicks', 'integer', (c) => c.notNull())
    .addColumn('first_at', 'text', (c) => c.notNull())
    .addColumn('last_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clicks_pk', ['edition_id', 'article_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('clicks').execute();
}
