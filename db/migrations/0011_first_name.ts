// The name a subscriber is greeted by ("Hi Chidi"), when it is not the first word of their name:
// set on the preferences page, with `subscribers add --first-name`, or from a CSV's first_name column.
import type { Kysely } from 'kysely';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').addColumn('first_name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscribers').dropColumn('first_name').execute();
}
