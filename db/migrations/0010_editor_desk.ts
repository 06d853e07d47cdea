// The editor's desk (issue 11): whether the subject and preheader were written by hand (otherwise
// each variant's follow its own top story), a pinned story that leads every variant, a story's
// blurb edited for one edition, editor's items in the order, each variant's own subject and
// preheader, and the link check's results.
import { type Kysely, sql } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('editions').addColumn('subject_by_hand', t.flag, (c) => c.notNull().defaultTo(t.flagDefault(false))).execute();
  await db.schema.alterTable('editions').addColumn('preheader_by_hand', t.flag, (c) => c.notNull().defaultTo(t.flagDefault(false))).execute();
  await db.schema.alterTable('editions').addColumn('pinned_article_id', 'integer', (c) => c.references('articles.id')).execute();
  // Editions made before this keep the subject and preheader they have, in every variant.
  await db.updateTable('editions').set({ subject_by_hand: 1, preheader_by_hand: 1 }).execute();

  // A story's hook and TL;DR as this edition shows them; null: the stored article's.
  await db.schema.alterTable('edition_articles').addColumn('hook', 'text').execute();
  await db.schema.alterTable('edition_articles').addColumn('tldr', 'text').execute();

  // Positions share one sequence with edition_articles': together they are the edition's order.
  await db.schema
    .createTable('edition_items')
    .addColumn('id', 'integer', t.id)
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('edition_items_edition').on('edition_items').columns(['edition_id', 'position']).execute();

  await db.schema.alterTable('variants').addColumn('subject', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('variants').addColumn('preheader', 'text', (c) => c.notNull().defaultTo('')).execute();
  // Variants rendered before this went out with the edition's subject and preheader.
  await sql`update variants set subject = (select e.subject from editions e where e.id = variants.edition_id), preheader = (select e.preheader from editions e where e.id = variants.edition_id)`.execute(db);

  await db.schema
    .createTable('link_checks')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    /** The HTTP status, or null when there was no answer (timeout, DNS, refused). */
    .addColumn('status', 'integer')
    .addColumn('error', 'text')
    .addColumn('checked_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('link_checks_pk', ['edition_id', 'url'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('link_checks').execute();
  await db.schema.dropTable('edition_items').execute();
  for (const column of ['subject', 'preheader']) await db.schema.alterTable('variants').dropColumn(column).execute();
  for (const column of ['hook', 'tldr']) await db.schema.alterTable('edition_articles').dropColumn(column).execute();
  for (const column of ['pinned_article_id', 'preheader_by_hand', 'subject_by_hand']) await db.schema.alterTable('editions').dropColumn(column).execute();
}
