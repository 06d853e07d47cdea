// `recap schedule status`: who runs the schedule (the lease) and since when, and per list its last
// and next runs and what each recent week did, from schedule_runs and the editions' deliveries.
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import type { ScheduleState } from '../../db/schema.ts';
import { findList } from '../audience/lists.ts';
import type { Context } from '../context.ts';
import { schedulerLease } from '../delivery/lease.ts';
import { type FormatStats, statsByFormat } from '../delivery/format-stats.ts';
import { deliveryCounts } from '../delivery/send.ts';
import { findSubjectTest, type SubjectTestReport, subjectTestReport } from '../delivery/subject-test.ts';
import { editionWaves, type Wave } from '../delivery/waves.ts';
import { describeRun } from './runs.ts';
import { cronSlots, localTime, nextRuns } from './slots.ts';

/** Weeks shown by default. */
export const RECENT_WEEKS = 8;

export interface WeekStatus {
  week: string;
  state: ScheduleState;
  /** In words: "sent; 120 submitted, 2 failed", "waiting for approval until Mon 2026-11-30 14:00 UTC", … */
  description: string;
  /** When the schedule took the week up, and last changed its record. */
  startedAt: string;
  updatedAt: string;
  approvalDeadlineAt: string | null;
  edition: { number: number; status: string } | null;
  deliveries: { submitted: number; failed: number; queued: number; deferred: number; uncertain: number } | null;
  /** The edition's subject test, with the sample's figures (or the decision's). */
  subjectTest: SubjectTestReport | null;
  /** Its waves of local send time (RECAP_LOCAL_SEND_TIME), earliest first; none when it went all at once. */
  waves: Wave[];
  /** The same per format (full, brief), with clicks; null before anything was queued. */
  formats: FormatStats[] | null;
}

export interface ScheduleStatus {
  /** The schedule's lease: null when no daemon holds it; `current` false when its holder let it expire. */
  lease: { owner: string; since: string | null; expiresAt: string; current: boolean } | null;
  lists: Array<{
    slug: string;
    name: string;
    timeZone: string;
    cron: string;
    mode: 'approve' | 'auto';
    last: WeekStatus | null;
    next: { week: string; at: string; local: string } | null;
    weeks: WeekStatus[];
  }>;
}

export async function scheduleStatus(ctx: Context, weeks = RECENT_WEEKS): Promise<ScheduleStatus> {
  const { db, config } = ctx;
  const now = ctx.clock.now();
  const lease = await schedulerLease(db, now);
  // The schedule runs the one list (src/schedule/weekly.ts); the shape leaves room for more.
  const list = await findList(db, WEEKLY_AI_RECAP.slug);
  const rows = await db
    .selectFrom('schedule_runs as r')
    .leftJoin('editions as e', (j) => j.onRef('e.list_id', '=', 'r.list_id').onRef('e.week', '=', 'r.week'))
    .select(['r.week', 'r.state', 'r.detail', 'r.approval_deadline_at', 'r.created_at', 'r.updated_at', 'e.id as edition_id', 'e.number', 'e.status as edition_status'])
    .where('r.list_id', '=', list.id)
    .orderBy('r.week', 'desc')
    .limit(weeks)
    .execute();
  const recent: WeekStatus[] = [];
  for (const r of rows) {
    const counts = r.edition_id === null ? null : await deliveryCounts(db, r.edition_id);
    const sentAny = counts !== null && Object.values(counts).some((n) => n > 0);
    const deliveries = sentAny ? { submitted: counts.submitted, failed: counts.failed, queued: counts.queued + counts.claimed, deferred: counts.deferred, uncertain: counts.uncertain } : null;
    const test = r.edition_id === null ? null : await findSubjectTest(db, r.edition_id);
    const subjectTest = test ? await subjectTestReport(db, test, now) : null;
    const waves = r.edition_id === null ? [] : await editionWaves(db, r.edition_id, config.timeZone, now);
    const toCome = waves.filter((w) => w.state === 'to come');
    const wavesDone = waves.length === 0 ? '' : `; waves: ${waves.length - toCome.length} of ${waves.length} begun${toCome[0] ? `, next ${localTime(toCome[0].at, config.timeZone)}` : ''}`;
    const description =
      (r.state === 'awaiting-approval' && r.approval_deadline_at ? `waiting for approval until ${localTime(r.approval_deadline_at, config.timeZone)}`
      : describeRun(r) + (deliveries ? `; ${deliveries.submitted} submitted, ${deliveries.failed} failed` + (deliveries.queued + deliveries.deferred > 0 ? `, ${deliveries.queued + deliveries.deferred} still to send` : '') : '') + wavesDone) +
      (subjectTest ? `; ${describeSubjectTest(subjectTest, config.timeZone)}` : '');
    recent.push({
      week: r.week, state: r.state, description, startedAt: r.created_at, updatedAt: r.updated_at, approvalDeadlineAt: r.approval_deadline_at,
      edition: r.number === null || r.edition_status === null ? null : { number: r.number, status: r.edition_status }, deliveries, subjectTest, waves,
      formats: sentAny && r.edition_id !== null ? await statsByFormat(db, r.edition_id) : null,
    });
  }
  const [next] = nextRuns(now, cronSlots(config.cron, config.timeZone), config.timeZone, 1);
  return {
    lease,
    lists: [{
      slug: list.slug, name: list.name, timeZone: config.timeZone, cron: config.cron, mode: config.sendMode,
      last: recent[0] ?? null,
      next: next ? { week: next.week, at: next.slot.toISOString(), local: localTime(next.slot, config.timeZone) } : null,
      weeks: recent,
    }],
  };
}

/** A subject test in one line: its state and, once decided, what went and why. */
export function describeSubjectTest(t: SubjectTestReport, timeZone: string): string {
  if (t.decided) return `subject test decided: ${t.decided.goes} went to the rest (${t.decided.reason})`;
  if (t.state === 'waiting' && t.decideAt) return `subject test waiting for clicks until ${localTime(t.decideAt, timeZone)}`;
  return `subject test ${t.state} (${t.arms.length} subjects, sample ${t.sample})`;
}
