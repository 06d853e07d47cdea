// An edition's subject test as the send runs it (the statistics: src/editions/subject-stats.ts).
//
//   planned ──first enqueue: the sample drawn at random, arms 0…n−1, the rest held──► sampling
//   sampling ──no delivery of the sample left queued or claimed──► waiting (decide_at = now + wait)
//   waiting ──decide_at passed: clicks per delivered message compared──► decided (the rest released
//             with the winner's arm, or arm 0: the first subject)
//
// Each step is one statement guarded by the state it leaves (the decision and the release of the
// rest one transaction), so several senders, or a send restarted after a crash, take it once. The
// rest waits with not_before = HELD, so a claim (claim.ts) leaves it; the sample has the lowest ids
// of the edition's deliveries, so a claim, reading queued rows in id order, meets the held rows
// only once the sample is through.
import type { Db } from '../../db/connect.ts';
import type { SubjectTestRow, SubjectTestState } from '../../db/schema.ts';
import type { Config } from '../config.ts';
import { type ArmFigures, armLetter, type Decision, decideSubjectTest } from '../editions/subject-stats.ts';
import { clickedMessagesByArm } from './clicks.ts';
import { timeOfDayText } from './waves.ts';

/** not_before of the rest of a subject test until the test is decided: never due by itself. */
export const HELD = '9999-12-31T00:00:00.000Z';

export interface SubjectTest {
  editionId: number;
  subjects: string[];
  sample: { percent: number } | { count: number };
  waitMinutes: number;
  confidence: number;
  state: SubjectTestState;
  sampleSize: number | null;
  sampledAt: string | null;
  decideAt: string | null;
  winnerArm: number | null;
  decidedAt: string | null;
  decision: (Decision & { ran: boolean }) | null;
}

function fromRow(r: SubjectTestRow): SubjectTest {
  return {
    editionId: r.edition_id,
    subjects: JSON.parse(r.subjects) as string[],
    sample: r.sample_percent !== null ? { percent: r.sample_percent } : { count: r.sample_count as number },
    waitMinutes: r.wait_minutes,
    confidence: r.confidence,
    state: r.state,
    sampleSize: r.sample_size,
    sampledAt: r.sampled_at,
    decideAt: r.decide_at,
    winnerArm: r.winner_arm,
    decidedAt: r.decided_at,
    decision: r.decision === null ? null : (JSON.parse(r.decision) as SubjectTest['decision']),
  };
}

export async function findSubjectTest(db: Db, editionId: number): Promise<SubjectTest | null> {
  const row = await db.selectFrom('subject_tests').selectAll().where('edition_id', '=', editionId).executeTakeFirst();
  return row ? fromRow(row) : null;
}

/**
 * Why a subject test cannot run with this configuration, or null. Without counted clicks there is
 * no measure (Recap has no open pixel); a local send time sends each reader at their own morning,
 * and holding the rest back for the wait would move it.
 */
export function subjectTestBlocked(config: Pick<Config, 'trackClicks' | 'localSendTime'>): string | null {
  if (!config.trackClicks) return 'a subject test needs counted clicks (RECAP_TRACK_CLICKS=true): it measures the messages clicked per message delivered, and without click counting there is no measure (Recap has no open pixel)';
  if (config.localSendTime) return `a subject test cannot run with RECAP_LOCAL_SEND_TIME=${timeOfDayText(config.localSendTime)}: the rest waits for the test's result, which would move readers' mornings`;
  return null;
}

/** How many readers of `eligible` the sample takes: at least one per arm, never more than there are. */
export function sampleSize(test: Pick<SubjectTest, 'sample' | 'subjects'>, eligible: number): number {
  const wanted = 'percent' in test.sample ? Math.round((eligible * test.sample.percent) / 100) : test.sample.count;
  return Math.min(eligible, Math.max(test.subjects.length, wanted));
}

/**
 * `size` of `ids` drawn uniformly at random (the first `size` steps of a Fisher–Yates shuffle, so
 * every subset is as likely), the i-th drawn given arm i mod `arms`: the arms differ by at most one
 * reader, and which reader gets which arm is as random as the draw.
 */
export function drawSample(ids: readonly number[], size: number, arms: number, random: () => number): Array<{ id: number; arm: number }> {
  const pool = [...ids];
  const drawn: Array<{ id: number; arm: number }> = [];
  for (let i = 0; i < Math.min(size, pool.length); i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as number, pool[i] as number];
    drawn.push({ id: pool[i] as number, arm: i % arms });
  }
  return drawn;
}

/** The sample's figures now: per arm the deliveries submitted and the messages clicked. */
export async function sampleFigures(db: Db, test: Pick<SubjectTest, 'editionId' | 'subjects'>): Promise<ArmFigures[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['subject_arm', eb.fn.countAll<number>().as('n')])
    .where('edition_id', '=', test.editionId)
    .where('status', '=', 'submitted')
    .where('subject_arm', 'is not', null)
    .groupBy('subject_arm')
    .execute();
  const delivered = new Map(rows.map((r) => [r.subject_arm as number, Number(r.n)]));
  const clicked = await clickedMessagesByArm(db, test.editionId);
  return test.subjects.map((_, arm) => ({ delivered: delivered.get(arm) ?? 0, clicked: clicked.get(arm) ?? 0 }));
}

/** Where a send stands with the test: nothing to wait for, a time to wait until, or the rest just released. */
export type TestStep = { waitUntil: string | null; released: boolean };

/** How long a sender waits while another is handing over the last of the sample. */
const SAMPLE_POLL_MS = 5000;

/**
 * Called by a sender that found nothing due: moves the test on as far as `now` allows. Safe to
 * call from any number of senders at once and again after a crash.
 */
export async function stepSubjectTest(db: Db, editionId: number, now: Date, log: (line: string) => void): Promise<TestStep> {
  let test = await findSubjectTest(db, editionId);
  if (!test || test.state === 'planned' || test.state === 'decided') return { waitUntil: null, released: false };
  const at = now.toISOString();
  if (test.state === 'sampling') {
    const left = await db
      .selectFrom('deliveries')
      .select('id')
      .where('edition_id', '=', editionId)
      .where('subject_arm', 'is not', null)
      .where('status', 'in', ['queued', 'claimed'])
      .limit(1)
      .executeTakeFirst();
    if (left) return { waitUntil: new Date(now.getTime() + SAMPLE_POLL_MS).toISOString(), released: false };
    const decideAt = new Date(now.getTime() + test.waitMinutes * 60_000).toISOString();
    const moved = await db.updateTable('subject_tests').set({ state: 'waiting', decide_at: decideAt, updated_at: at }).where('edition_id', '=', editionId).where('state', '=', 'sampling').executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 1) log(`subject test: the sample of ${test.sampleSize} is handed over; the rest waits until ${decideAt} for its clicks`);
    test = (await findSubjectTest(db, editionId)) as SubjectTest;
  }
  if (test.state === 'waiting' && (test.decideAt as string) > at) return { waitUntil: test.decideAt, released: false };
  if (test.state === 'waiting') {
    const decision = decideSubjectTest(await sampleFigures(db, test), test.confidence);
    if (await recordDecision(db, test, { ...decision, ran: true }, now)) log(`subject test decided: ${decision.reason}; the rest gets ${armLetter(decision.winner ?? 0)}`);
  }
  return { waitUntil: null, released: true };
}

/**
 * Records the decision and releases the rest with the winning arm, in one transaction, if no other
 * sender did first (the guard on the state). Returns whether this call did it.
 */
export async function recordDecision(db: Db, test: Pick<SubjectTest, 'editionId' | 'state'>, decision: Decision & { ran: boolean }, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const done = await trx
      .updateTable('subject_tests')
      .set({ state: 'decided', winner_arm: decision.winner, decided_at: at, decision: JSON.stringify(decision), updated_at: at })
      .where('edition_id', '=', test.editionId)
      .where('state', '=', test.state)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) return false;
    await trx
      .updateTable('deliveries')
      .set({ subject_arm: decision.winner ?? 0, not_before: null, updated_at: at })
      .where('edition_id', '=', test.editionId)
      .where('not_before', '=', HELD)
      .execute();
    return true;
  });
}

export interface SubjectTestReport {
  state: SubjectTestState;
  sample: string;
  sampleSize: number | null;
  waitMinutes: number;
  confidence: number;
  /** Per arm: its subject and figures, and its comparison with A (none for A). */
  arms: Array<{ arm: number; letter: string; subject: string; delivered: number; clicked: number; rate: number; z: number | null; p: number | null }>;
  decideAt: string | null;
  /** Until the decision, once the wait has begun. */
  secondsLeft: number | null;
  decided: { at: string; winner: number | null; goes: string; reason: string; ran: boolean } | null;
}

/** What the desk and `recap digest status` show: the decision's figures once decided, the sample's as they stand before. */
export async function subjectTestReport(db: Db, test: SubjectTest, now: Date): Promise<SubjectTestReport> {
  const figures = test.decision?.ran ? test.decision : decideSubjectTest(await sampleFigures(db, test), test.confidence);
  const arms = test.subjects.map((subject, arm) => {
    const f = figures.arms[arm] ?? { delivered: 0, clicked: 0, rate: 0 };
    const c = figures.comparisons.find((x) => x.arm === arm);
    return { arm, letter: armLetter(arm), subject, delivered: f.delivered, clicked: f.clicked, rate: f.rate, z: c?.z ?? null, p: c?.p ?? null };
  });
  const decided = test.state === 'decided' && test.decision
    ? { at: test.decidedAt as string, winner: test.winnerArm, goes: armLetter(test.winnerArm ?? 0), reason: test.decision.reason, ran: test.decision.ran }
    : null;
  return {
    state: test.state,
    sample: 'percent' in test.sample ? `${test.sample.percent} % of the audience` : `${test.sample.count.toLocaleString('en-US')} readers`,
    sampleSize: test.sampleSize,
    waitMinutes: test.waitMinutes,
    confidence: test.confidence,
    arms,
    decideAt: test.decideAt,
    secondsLeft: test.state === 'waiting' && test.decideAt ? Math.max(0, Math.ceil((Date.parse(test.decideAt) - now.getTime()) / 1000)) : null,
    decided,
  };
}
