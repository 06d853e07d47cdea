// When an edition goes out, and whether anything is there to send it: the scheduler's lease (a
// running `recap schedule` renews it every minute), the approval deadline and what happens at it,
// and the next weekly run. Times are shown in the list's time zone, never as cron strings.
import { DateTime } from 'luxon';
import type { Db } from '../../db/connect.ts';
import type { Config } from '../config.ts';
import type { Edition } from '../editions/editions.ts';
import { schedulerLease } from '../delivery/lease.ts';
import { cronSlots } from '../schedule/slots.ts';

export interface Scheduler {
  alive: boolean;
  /** Until when its lease runs (it renews it every minute while it runs). */
  leaseUntil: Date | null;
}

async function schedulerState(db: Db, now: Date): Promise<Scheduler> {
  const lease = await schedulerLease(db, now);
  return { alive: lease?.current ?? false, leaseUntil: lease ? new Date(lease.expiresAt) : null };
}

export interface SendPlan {
  /** The chosen time, or null: the scheduler's next minute. */
  sendAt: Date | null;
  scheduler: Scheduler;
  /** For a draft the schedule is waiting on: when the deadline falls and what happens then. */
  deadline: { at: Date; action: 'send' | 'skip' } | null;
}

export async function sendPlan(db: Db, config: Config, edition: Edition, now: Date): Promise<SendPlan> {
  const run = await db.selectFrom('schedule_runs').select(['state', 'approval_deadline_at']).where('list_id', '=', edition.list.id).where('week', '=', edition.row.week).executeTakeFirst();
  const waiting = run?.state === 'awaiting-approval' && run.approval_deadline_at && edition.row.status === 'draft';
  return {
    sendAt: edition.row.send_at ? new Date(edition.row.send_at) : null,
    scheduler: await schedulerState(db, now),
    deadline: waiting ? { at: new Date(run.approval_deadline_at as string), action: config.deadlineAction } : null,
  };
}

/** The next time the weekly run fires, after `now`. */
export function nextWeeklyRun(config: Pick<Config, 'cron' | 'timeZone'>, now: Date): Date | null {
  return cronSlots(config.cron, config.timeZone).firstAfter(new Date(now.getTime() + 60_000));
}

/** "Mon 2026-11-30 09:00 (Europe/Berlin)": a time as editors in the list's zone read it. */
export function localTime(at: Date, timeZone: string): string {
  return `${DateTime.fromJSDate(at, { zone: timeZone }).toFormat('ccc yyyy-LL-dd HH:mm')} (${timeZone})`;
}

/** One sentence: when an approved (or about to be approved) edition goes out, and what could stop it. */
export function describeSend(plan: SendPlan, timeZone: string, now: Date): string {
  const when = plan.sendAt && plan.sendAt > now ? `at ${localTime(plan.sendAt, timeZone)}` : 'within a minute of approval, at the scheduler’s next tick';
  const who = plan.scheduler.alive
    ? `a scheduler is running (its lease runs to ${localTime(plan.scheduler.leaseUntil as Date, timeZone)})`
    : `no scheduler is running${plan.scheduler.leaseUntil ? ` (its lease ran out at ${localTime(plan.scheduler.leaseUntil, timeZone)})` : ''}: start \`recap schedule\`, or send it with \`recap digest send\``;
  return `It goes out ${when}; ${who}.`;
}

export function describeDeadline(deadline: NonNullable<SendPlan['deadline']>, timeZone: string): string {
  return `Approval deadline: ${localTime(deadline.at, timeZone)}. If it is not approved by then, ${deadline.action === 'send' ? 'it goes out anyway (RECAP_DEADLINE_ACTION=send)' : 'it is skipped and the editors are told (RECAP_DEADLINE_ACTION=skip)'}.`;
}
