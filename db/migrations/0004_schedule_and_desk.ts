// The weekly schedule and the editor's desk: what the scheduler did for each week, approval and
// scheduled send times on editions, and the feeds it polls.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('editions').addColumn('approved_at', t.timestamp).execute();
  await db.schema.alterTable('editions').addColumn('approved_by', 'text').execute();
  await db.schema.alterTable('editions').addColumn('send_at', t.timestamp).execute();

  await db.schema
    .createTable('schedule_runs')
    .addColumn('list_id', 'integer', (c) => c.notNull().references('lists.id'))
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('editors_told_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('schedule_runs_pk', ['list_id', 'week'])
    .execute();

  await db.schema
    .createTable('feeds')
    .addColumn('url', 'text', (c) => c.primaryKey())
    .addColumn('etag', 'text')
    .addColumn('last_modified', 'text')
    .addColumn('last_polled_at', t.timestamp)
    .addColumn('last_status', 'text')
    .addColumn('last_error', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('feeds').execute();
  await db.schema.dropTable('schedule_runs').execute();
  for (const column of ['send_at', 'approved_by', 'approved_at']) await db.schema.alterTable('editions').dropColumn(column).execute();
}
