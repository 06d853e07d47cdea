// When the holder of a lease took it (`recap schedule status`: who runs the schedule, and since when).
// Renewals leave it as it is; rows made before this have none.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('leases').addColumn('acquired_at', t.timestamp).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('leases').dropColumn('acquired_at').execute();
}
