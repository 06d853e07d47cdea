// Several senders on one edition (`recap worker` processes, on one machine or many): what they must
// agree on lives here. The pace (RECAP_RATE) is one schedule of slots shared by every sender; the
// relay's quotas (RECAP_QUOTA) count hand-overs per minute; a domain paused after policy rejections
// is paused for all of them. Times are whole numbers (ms, µs, minutes since the epoch): the same
// arithmetic in SQL on SQLite and PostgreSQL.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  // The next free send slot, in µs since the epoch (a rate of 3/s has slots 333,333 µs apart).
  await db.schema
    .createTable('send_pacing')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('next_slot_us', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('send_quota_use')
    .addColumn('minute', 'bigint', (c) => c.primaryKey())
    .addColumn('messages', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('domain_pauses')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('until', t.timestamp, (c) => c.notNull())
    .addColumn('reply', 'text', (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('domain_pauses').execute();
  await db.schema.dropTable('send_quota_use').execute();
  await db.schema.dropTable('send_pacing').execute();
}
