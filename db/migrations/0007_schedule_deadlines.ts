// The approval deadline each week's editors were given, kept with the run: counted from when they
// were told (a late catch-up tells them late), so the review email and the deadline agree.
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('schedule_runs').addColumn('approval_deadline_at', t.timestamp).execute();
  // Runs already waiting keep the deadline their review email gave ("deadline <ISO time>").
  await db
    .updateTable('schedule_runs')
    // PostgreSQL assigns text to a timestamptz column only through a cast (a no-op on SQLite's text).
    .set((eb) => ({ approval_deadline_at: eb.cast(eb.fn('substr', [eb.ref('detail'), eb.val(10)]), t.timestamp) }))
    .where('state', '=', 'awaiting-approval')
    .where('detail', 'like', 'deadline %')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('schedule_runs').dropColumn('approval_deadline_at').execute();
}
