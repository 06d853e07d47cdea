// When the holder of a lease took it (`recap schedule status`: who runs the schedule, and since when).
// Renewals leave it as it is; rows made before this have none.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('leases').addColumn('acquired_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('leases').dropColumn('acquired_at').execute();
}
