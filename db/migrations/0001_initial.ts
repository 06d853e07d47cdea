// The first schema. Portable DDL only (no SQLite-only types or SQL), so the same migration can
// later run on PostgreSQL; ids use Kysely's autoincrement on SQLite (serial on PostgreSQL later).
import { type Kysely, sql } from 'kysely';
import { columnTypes } from '../column-types.ts';

export const WEEKLY_AI_RECAP = { slug: 'weekly-ai-recap', name: 'Weekly AI Recap' } as const;

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('articles')
    .addColumn('id', 'integer', t.id)
    .addColumn('canonical_url', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('source_name', 'text', (c) => c.notNull())
    .addColumn('source_url', 'text')
    .addColumn('published_at', t.timestamp)
    .addColumn('collected_at', t.timestamp, (c) => c.notNull())
    .addColumn('hook', 'text', (c) => c.notNull())
    .addColumn('score', t.double, (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('articles_collected_at').on('articles').column('collected_at').execute();

  await db.schema
    .createTable('article_topics')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('article_topics_pk', ['article_id', 'topic'])
    .execute();

  await db.schema
    .createTable('lists')
    .addColumn('id', 'integer', t.id)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('subscribers')
    .addColumn('id', 'integer', t.id)
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('email_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('consent_at', t.timestamp)
    .addColumn('consent_source', 'text')
    .addColumn('consent_ip', 'text')
    .addColumn('consent_user_agent', 'text')
    .addColumn('confirmed_at', t.timestamp)
    .addCheckConstraint(
      'subscribers_status',
      sql`status in ('pending', 'active', 'unsubscribed', 'bounced', 'complained')`,
    )
    .execute();

  await db.schema
    .createTable('subscriber_topics')
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscriber_topics_pk', ['subscriber_id', 'topic'])
    .execute();
  await db.schema.createIndex('subscriber_topics_topic').on('subscriber_topics').column('topic').execute();

  await db.schema
    .createTable('subscriber_attributes')
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscriber_attributes_pk', ['subscriber_id', 'name'])
    .execute();

  await db.schema
    .createTable('list_members')
    .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id').onDelete('cascade'))
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('list_members_pk', ['list_id', 'subscriber_id'])
    .addCheckConstraint('list_members_status', sql`status in ('active', 'unsubscribed')`)
    .execute();

  await db.schema
    .createTable('segments')
    .addColumn('id', 'integer', t.id)
    .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('editions')
    .addColumn('id', 'integer', t.id)
    .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id'))
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('preheader', 'text', (c) => c.notNull())
    .addColumn('editor_note', 'text')
    .addColumn('starts_at', t.timestamp, (c) => c.notNull())
    .addColumn('ends_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('sent_at', t.timestamp)
    .addUniqueConstraint('editions_list_week', ['list_id', 'week'])
    .addUniqueConstraint('editions_list_number', ['list_id', 'number'])
    .addCheckConstraint(
      'editions_status',
      sql`status in ('draft', 'approved', 'sending', 'sent', 'skipped', 'paused', 'cancelled')`,
    )
    .execute();

  await db.schema
    .createTable('edition_articles')
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('edition_articles_pk', ['edition_id', 'position'])
    .addUniqueConstraint('edition_articles_article', ['edition_id', 'article_id'])
    .execute();

  await db.schema
    .createTable('variants')
    .addColumn('id', 'integer', t.id)
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id').onDelete('cascade'))
    .addColumn('topics_key', 'text', (c) => c.notNull())
    .addColumn('placeholder_nonce', 'text', (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('html_bytes', 'integer', (c) => c.notNull())
    .addColumn('compacted', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('variants_edition_topics', ['edition_id', 'topics_key'])
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'integer', t.id)
    .addColumn('edition_id', 'integer', (c) => c.notNull().references('editions.id'))
    .addColumn('subscriber_id', 'integer', (c) => c.notNull().references('subscribers.id'))
    .addColumn('variant_id', 'integer', (c) => c.references('variants.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('message_id', 'text')
    .addColumn('smtp_response', 'text')
    .addColumn('error', 'text')
    .addColumn('queued_at', t.timestamp, (c) => c.notNull())
    .addColumn('submitted_at', t.timestamp)
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('deliveries_edition_subscriber', ['edition_id', 'subscriber_id'])
    .execute();
  await db.schema.createIndex('deliveries_edition_status').on('deliveries').columns(['edition_id', 'status', 'id']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', t.id)
    .addColumn('subscriber_id', 'integer', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('edition_id', 'integer', (c) => c.references('editions.id').onDelete('set null'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_subscriber').on('events').column('subscriber_id').execute();

  await db.schema
    .createTable('suppressions')
    .addColumn('id', 'integer', t.id)
    .addColumn('email_hash', 'text', (c) => c.notNull().unique())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  // The first list exists as soon as the schema does.
  await db
    .insertInto('lists')
    .values({ slug: WEEKLY_AI_RECAP.slug, name: WEEKLY_AI_RECAP.name, created_at: new Date().toISOString() })
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'suppressions', 'events', 'deliveries', 'variants', 'edition_articles', 'editions', 'segments',
    'list_members', 'subscriber_attributes', 'subscriber_topics', 'subscribers', 'lists',
    'article_topics', 'articles',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
