// Clicks shape selection (issue 14). message_clicks becomes the one record of clicks: the counts
// per story and edition of 0005 move into it under the empty tag (clicks of links that carried no
// message tag, which cannot be told from a scanner's), and the old table goes. A message found to be
// a link scanner (a click seconds after it was composed, or nearly every link at once) is marked, so
// every count leaves it out. Per list, whether click rates weigh the next edition's stories; per
// edition, what each topic's rate was and the factor it gave, and per story the factor it got.
import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('message_clicks').addColumn('scanner', t.flag, (c) => c.notNull().defaultTo(t.flagDefault(false))).execute();
  await sql`insert into message_clicks (edition_id, message_tag, article_id, format, subject_arm, sent_at, clicks, first_at, last_at)
    select c.edition_id, '', c.article_id, 'full', null, coalesce(e.sent_at, c.first_at), c.clicks, c.first_at, c.last_at
    from clicks c join editions e on e.id = c.edition_id`.execute(db);
  await db.schema.dropTable('clicks').execute();
  await db.schema.alterTable('lists').addColumn('click_weighting', t.flag, (c) => c.notNull().defaultTo(t.flagDefault(true))).execute();
  await db.schema.alterTable('edition_articles').addColumn('click_factor', t.double).execute();
  await db.schema
    .createTable('edition_topic_clicks')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('clicks', 'integer', (c) => c.notNull())
    .addColumn('deliveries', 'integer', (c) => c.notNull())
    .addColumn('exposures', 'integer', (c) => c.notNull())
    .addColumn('rate', t.double, (c) => c.notNull())
    .addColumn('factor', t.double, (c) => c.notNull())
    .addPrimaryKeyConstraint('edition_topic_clicks_pk', ['edition_id', 'topic'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.dropTable('edition_topic_clicks').execute();
  await db.schema.alterTable('edition_articles').dropColumn('click_factor').execute();
  await db.schema.alterTable('lists').dropColumn('click_weighting').execute();
  await db.schema
    .createTable('clicks')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('clicks', 'integer', (c) => c.notNull())
    .addColumn('first_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('clicks_pk', ['edition_id', 'article_id'])
    .execute();
  await sql`insert into clicks (edition_id, article_id, clicks, first_at, last_at)
    select edition_id, article_id, sum(clicks), min(first_at), max(last_at) from message_clicks where scanner = ${t.flagDefault(false)} group by edition_id, article_id`.execute(db);
  await db.deleteFrom('message_clicks').where('message_tag', '=', '').execute();
  await db.schema.alterTable('message_clicks').dropColumn('scanner').execute();
}
