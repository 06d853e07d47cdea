// What the schedule did for a week (schedule_runs), as the CLI and the editors' emails tell it.
import type { Db } from '../../db/connect.ts';
import type { ScheduleRunRow, ScheduleState } from '../../db/schema.ts';

export async function findRun(db: Db, listId: number, week: string): Promise<ScheduleRunRow | undefined> {
  return db.selectFrom('schedule_runs').selectAll().where('list_id', '=', listId).where('week', '=', week).executeTakeFirst();
}

const LABELS: Record<ScheduleState, string> = {
  'awaiting-approval': 'waiting for approval',
  sending: 'sending',
  sent: 'sent',
  'skipped-thin': 'skipped, too few stories',
  'skipped-deadline': 'skipped at the approval deadline',
  cancelled: 'cancelled',
  missed: 'run missed',
};

/** e.g. "run missed (due 2026-11-30 08:00 UTC; no schedule ran until …)". */
export function describeRun(run: Pick<ScheduleRunRow, 'state' | 'detail'>): string {
  return `${LABELS[run.state]}${run.detail ? ` (${run.detail})` : ''}`;
}

/** What can still be done for a week whose scheduled run was missed. */
export function missedAdvice(week: string): string {
  return (
    `It can still go out by hand: \`recap digest build --week ${week}\` makes the draft; approve it ` +
    `(on the desk or with \`recap edition approve --week ${week}\`) and the schedule sends it, or send it with \`recap digest send --week ${week}\``
  );
}
