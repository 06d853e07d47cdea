// Setting up an edition's subject test on the desk: what the editor typed, checked field by field.
// The send runs it (src/delivery/subject-test.ts).
import type { Db } from '../../db/connect.ts';
import type { Config } from '../config.ts';
import { TransitionError } from '../delivery/control.ts';
import { subjectTestBlocked } from '../delivery/subject-test.ts';
import type { Edition } from '../editions/editions.ts';
import { armLetter } from '../editions/subject-stats.ts';
import { headerSafe } from '../plain-text.ts';

/** As long as the editor's own subject may be. */
const MAX_SUBJECT = 200;
export const MAX_SUBJECTS = 4;
const MAX_WAIT_HOURS = 72;

export interface SubjectTestInput {
  /** In order, A first; empty ones are left out. */
  subjects: string[];
  sampleKind: string;
  sample: string;
  waitHours: string;
  confidencePercent: string;
}

/** Sets up (or replaces) a draft's subject test; every field is checked and named in the error. */
export async function setSubjectTest(db: Db, config: Pick<Config, 'trackClicks' | 'localSendTime'>, edition: Edition, input: SubjectTestInput, now: Date): Promise<void> {
  if (edition.row.status !== 'draft') throw new TransitionError(`edition ${edition.row.week} is ${edition.row.status}; only a draft's subject test can be set up`);
  const blocked = subjectTestBlocked(config);
  if (blocked) throw new TransitionError(`subject test: ${blocked}`);
  const errors: string[] = [];
  const subjects = input.subjects.map((s) => headerSafe(s)).filter(Boolean);
  if (subjects.length < 2 || subjects.length > MAX_SUBJECTS) errors.push(`subjects: give 2 to ${MAX_SUBJECTS} (${subjects.length} given)`);
  subjects.forEach((s, i) => {
    if (s.length > MAX_SUBJECT) errors.push(`subject ${armLetter(i)}: ${s.length} characters, more than ${MAX_SUBJECT}`);
    const same = subjects.indexOf(s);
    if (same < i) errors.push(`subject ${armLetter(i)}: the same as subject ${armLetter(same)}`);
  });
  const value = Number(input.sample.trim().replace(/\s*%$/, ''));
  let sample: { sample_percent: number | null; sample_count: number | null } = { sample_percent: null, sample_count: null };
  if (input.sampleKind === 'percent') {
    if (!Number.isInteger(value) || value < 1 || value > 99) errors.push(`sample: "${input.sample}" is not a share from 1 to 99 %`);
    else sample = { sample_percent: value, sample_count: null };
  } else if (input.sampleKind === 'count') {
    if (!Number.isInteger(value) || value < Math.max(2, subjects.length)) errors.push(`sample: "${input.sample}" is not a number of readers (at least one per subject)`);
    else sample = { sample_percent: null, sample_count: value };
  } else errors.push('sample: choose a share (%) or a number of readers');
  const hours = Number(input.waitHours);
  if (input.waitHours.trim() === '' || !Number.isFinite(hours) || hours * 60 < 1 || hours > MAX_WAIT_HOURS) errors.push(`wait: "${input.waitHours}" is not a number of hours up to ${MAX_WAIT_HOURS}`);
  const confidence = Number(input.confidencePercent);
  if (input.confidencePercent.trim() === '' || !Number.isFinite(confidence) || confidence < 80 || confidence >= 100) errors.push(`confidence: "${input.confidencePercent}" is not a percentage from 80 to 99.9`);
  if (errors.length) throw new TransitionError(`subject test: ${errors.join('; ')}`);
  const at = now.toISOString();
  const values = { subjects: JSON.stringify(subjects), ...sample, wait_minutes: Math.round(hours * 60), confidence: confidence / 100, state: 'planned' as const, updated_at: at };
  await db.transaction().execute(async (trx) => {
    // Still a draft as it is written: a send that has begun keeps the test it began with (or none).
    const still = await trx.updateTable('editions').set({ updated_at: at }).where('id', '=', edition.row.id).where('status', '=', 'draft').executeTakeFirst();
    if (Number(still.numUpdatedRows) !== 1) throw new TransitionError(`edition ${edition.row.week} changed meanwhile; look again`);
    await trx
      .insertInto('subject_tests')
      .values({ edition_id: edition.row.id, ...values, created_at: at })
      .onConflict((oc) => oc.column('edition_id').doUpdateSet(values))
      .execute();
  });
}

export async function removeSubjectTest(db: Db, edition: Edition): Promise<void> {
  if (edition.row.status !== 'draft') throw new TransitionError(`edition ${edition.row.week} is ${edition.row.status}; only a draft's subject test can be removed`);
  await db.deleteFrom('subject_tests').where('edition_id', '=', edition.row.id).where('state', '=', 'planned').execute();
}
