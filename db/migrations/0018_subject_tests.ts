// An edition's subject test (issue 14): two to four subjects, a sample of the audience (a share or
// a count) that gets them at random, a wait, and the winner, by clicks per delivered message,
// for the rest. One row per edition; its state moves planned → sampling → waiting → decided, each
// step one statement guarded by the state before it, so several senders and a restarted one take
// each step once.
import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

// Migrations take Kysely<any>: they must not depend on the schema types of later versions.
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('subject_tests')
    .addColumn('edition_id', 'integer', (c) => c.primaryKey().references('editions.id').onDelete('cascade'))
    // A JSON array of 2 to 4 subjects: arm 0 (the first subject, what goes without a winner), 1, …
    .addColumn('subjects', 'text', (c) => c.notNull())
    .addColumn('sample_percent', 'integer', (c) => c.check(sql`sample_percent between 1 and 99`))
    .addColumn('sample_count', 'integer', (c) => c.check(sql`sample_count >= 2`))
    .addColumn('wait_minutes', 'integer', (c) => c.notNull().check(sql`wait_minutes >= 1`))
    .addColumn('confidence', t.double, (c) => c.notNull().check(sql`confidence > 0 and confidence < 1`))
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('planned').check(sql`state in ('planned', 'sampling', 'waiting', 'decided')`))
    // Set when the sample is drawn (the send's first enqueue).
    .addColumn('sample_size', 'integer')
    .addColumn('sampled_at', t.timestamp)
    // Set when no delivery of the sample is left to hand over: the decision comes at this time.
    .addColumn('decide_at', t.timestamp)
    .addColumn('winner_arm', 'integer')
    .addColumn('decided_at', t.timestamp)
    // JSON: the figures per arm, each comparison and the reason in words.
    .addColumn('decision', 'text')
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addCheckConstraint('subject_tests_one_sample', sql`(sample_percent is null) <> (sample_count is null)`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('subject_tests').execute();
}
