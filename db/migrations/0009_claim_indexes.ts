// A send claims due deferred deliveries oldest-due first; this index serves that query in order
// (and the earliest next attempt), so a claim reads only the rows it takes, however long the list.
// Queued ones are read by (edition_id, status, id), the index the deliveries table has had since 0001.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deliveries_edition_status_next_attempt').on('deliveries').columns(['edition_id', 'status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_edition_status_next_attempt').execute();
}
