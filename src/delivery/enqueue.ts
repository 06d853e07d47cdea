// One delivery row per (edition, subscriber), created in a single INSERT … SELECT: the audience
// never passes through memory, and re-running adds only subscribers who have no row yet.
//
// Rows are numbered grouped by the variant each reader gets (the edition's topics they follow),
// so a send, which claims in id order, works through one variant after another and needs only a
// few message templates at a time, however many variants the audience needs.
//
// An edition with a subject test (subject-test.ts) gets its sample first, so the sample has the
// lowest ids: drawn at random from the eligible audience (only their ids pass through memory), an
// arm each, then the rest, held back (not_before = HELD) until the test is decided. Rows added
// after the decision get the winning arm at once.
//
// With local send time (waves.ts) each row also gets the instant its reader's wave may go, and the
// waves come first in the numbering: a claim never reads past rows held back for a later wave. (A
// subject test and local send time exclude each other: subjectTestBlocked.)
import { type RawBuilder, sql } from 'kysely';
import { selectedValue } from '../../db/column-types.ts';
import type { Db } from '../../db/connect.ts';
import { eligibleMembers, type SegmentRules } from '../audience/segments.ts';
import type { Config } from '../config.ts';
import { type Edition, editionTopics } from '../editions/editions.ts';
import { drawSample, findSubjectTest, HELD, recordDecision, sampleSize, type SubjectTest, subjectTestBlocked } from './subject-test.ts';
import { notBeforeExpression } from './waves.ts';

/** Topics beyond this many do not take part in the grouping (a 64-bit integer holds the set). */
const GROUPED_TOPICS = 62;
/** Sample ids per INSERT (well under either database's limit of parameters). */
const IDS_PER_INSERT = 5000;

export interface EnqueueOptions {
  /** Draws a subject test's sample (a seeded generator in tests). */
  random?: () => number;
}

export async function enqueueDeliveries(
  db: Db,
  edition: Edition,
  rules: SegmentRules | undefined,
  now: Date,
  config: Pick<Config, 'localSendTime' | 'timeZone' | 'trackClicks'>,
  options: EnqueueOptions = {},
): Promise<number> {
  let test = await findSubjectTest(db, edition.row.id);
  if (!test) return insertRows(db, edition, rules, now, { notBefore: await notBeforeExpression(db, edition, config, now) });
  const blocked = subjectTestBlocked(config);
  if (test.state === 'planned' && blocked) {
    const reason = `the test could not run: ${blocked}; the first subject went to everyone`;
    await recordDecision(db, test, { winner: null, confidence: test.confidence, alpha: 1 - test.confidence, arms: [], comparisons: [], reason, ran: false }, now);
    test = (await findSubjectTest(db, edition.row.id)) as SubjectTest;
  }
  const drawing = test;
  return db.transaction().execute(async (trx) => {
    let n = 0;
    let state = drawing.state;
    if (state === 'planned') {
      // The first enqueue draws the sample; another one at the same time waits on this row, then
      // finds it sampling and adds no sample of its own.
      const taken = await trx.updateTable('subject_tests').set({ state: 'sampling', sampled_at: now.toISOString(), updated_at: now.toISOString() }).where('edition_id', '=', edition.row.id).where('state', '=', 'planned').executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) {
        const ids = (await eligibleMembers(trx, edition.list.id, rules).select('s.id as id').orderBy('s.id').execute()).map((r) => r.id);
        const drawn = drawSample(ids, sampleSize(drawing, ids.length), drawing.subjects.length, options.random ?? Math.random);
        await trx.updateTable('subject_tests').set({ sample_size: drawn.length }).where('edition_id', '=', edition.row.id).execute();
        for (let arm = 0; arm < drawing.subjects.length; arm++) {
          const mine = drawn.filter((d) => d.arm === arm).map((d) => d.id);
          for (let i = 0; i < mine.length; i += IDS_PER_INSERT) n += await insertRows(trx, edition, rules, now, { ids: mine.slice(i, i + IDS_PER_INSERT), subjectArm: arm });
        }
      }
      state = 'sampling';
    }
    const decided = state === 'decided' ? ((await findSubjectTest(trx, edition.row.id)) as SubjectTest) : null;
    return n + (await insertRows(trx, edition, rules, now, decided ? { subjectArm: decided.winnerArm ?? 0 } : { notBefore: selectedValue(trx, HELD, 'timestamp') }));
  });
}

interface RowChoice {
  /** Only these subscribers (a sample's share), else the whole eligible audience. */
  ids?: number[];
  subjectArm?: number;
  /** When the rows may go: a subject test's HELD, or each reader's wave (waves.ts); the rows are numbered in its order. */
  notBefore?: RawBuilder<string> | undefined;
}

async function insertRows(db: Db, edition: Edition, rules: SegmentRules | undefined, now: Date, choice: RowChoice): Promise<number> {
  const at = now.toISOString();
  const grouped = [...editionTopics(edition)].sort().slice(0, GROUPED_TOPICS);
  // The set of the edition's topics a reader follows, as bits of an integer: plain SQL, any dialect.
  const variantBits = grouped.length
    ? sql<number>`(select coalesce(sum(case t.topic ${sql.join(grouped.map((t, i) => sql`when ${t} then ${2 ** i}`), sql` `)} else 0 end), 0) from subscriber_topics t where t.subscriber_id = s.id)`
    : sql<number>`0`;
  const audience = choice.ids ? eligibleMembers(db, edition.list.id, rules).where('s.id', 'in', choice.ids) : eligibleMembers(db, edition.list.id, rules);
  const result = await db
    .insertInto('deliveries')
    .columns(['edition_id', 'subscriber_id', 'status', 'attempts', 'queued_at', 'updated_at', ...(choice.subjectArm !== undefined ? (['subject_arm'] as const) : []), ...(choice.notBefore ? (['not_before'] as const) : [])])
    .expression(
      audience
        .select([
          selectedValue(db, edition.row.id, 'integer').as('edition_id'),
          's.id',
          selectedValue(db, 'queued', 'text').as('status'),
          selectedValue(db, 0, 'integer').as('attempts'),
          selectedValue(db, at, 'timestamp').as('queued_at'),
          selectedValue(db, at, 'timestamp').as('updated_at'),
        ])
        .$if(choice.subjectArm !== undefined, (q) => q.select(selectedValue(db, choice.subjectArm as number, 'integer').as('subject_arm')))
        .$if(choice.notBefore !== undefined, (q) => q.select((choice.notBefore as RawBuilder<string>).as('not_before')).orderBy(choice.notBefore as RawBuilder<string>))
        .orderBy(variantBits)
        .orderBy('s.id'),
    )
    .onConflict((oc) => oc.columns(['edition_id', 'subscriber_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}
