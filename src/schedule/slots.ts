// When the week's run is due: the first time RECAP_CRON fires after the ISO week has ended, in the
// list's time zone. Asking node-cron's own matcher minute by minute keeps its meaning of the
// expression (and of daylight-saving time) in one place; the answer depends only on the clock
// passed in, so a missed run can be found and made up after a restart.
import { DateTime } from 'luxon';
import { createTask } from 'node-cron';
import { previousWeek, weekOf, weekWindow } from '../editions/week.ts';

export interface Slots {
  /** The first minute at or after `instant` when the cron expression fires, within a week; null if none. */
  firstAfter(instant: Date): Date | null;
}

export function cronSlots(expression: string, timeZone: string): Slots {
  const task = createTask(expression, () => {}, { timezone: timeZone });
  // Asked about the same few week ends on every tick: remember the answers.
  const known = new Map<number, Date | null>();
  return {
    firstAfter(instant) {
      const start = Math.ceil(instant.getTime() / 60_000) * 60_000;
      if (!known.has(start)) {
        let found: Date | null = null;
        for (let t = start; t <= start + 8 * 24 * 60 * 60_000 && !found; t += 60_000) {
          if (task.match(new Date(t))) found = new Date(t);
        }
        known.set(start, found);
      }
      return known.get(start) ?? null;
    },
  };
}

export interface DueWeek {
  week: string;
  /** When its run was due. */
  slot: Date;
  /** Its slot passed more than the tolerance ago: too late to make up (a daemon was down). */
  missed: boolean;
}

/**
 * The week whose run is due at `now`: the week that ended last if its slot has passed, or else the
 * one before. A run is made up when its slot passed at most `toleranceMs` ago; an older one is
 * missed (a recap of a fortnight ago is no longer news), and the caller says so.
 */
export function dueWeek(now: Date, slots: Slots, timeZone: string, toleranceMs: number): DueWeek | null {
  const latest = previousWeek(now, timeZone);
  const earlier = weekOf(new Date(Date.parse(weekWindow(latest, timeZone).start) - 1), timeZone);
  for (const week of [latest, earlier]) {
    const slot = slots.firstAfter(new Date(weekWindow(week, timeZone).end));
    if (slot && slot <= now) return { week, slot, missed: now.getTime() - slot.getTime() > toleranceMs };
  }
  return null;
}

/**
 * The next `count` runs still to come after `now`, in week order: from the week that ended last
 * (its slot may not have come yet, early on a Monday) onwards. Stops early at a week whose cron
 * expression never fires within a week of its end.
 */
export function nextRuns(now: Date, slots: Slots, timeZone: string, count: number): Array<{ week: string; slot: Date }> {
  const runs: Array<{ week: string; slot: Date }> = [];
  let week = previousWeek(now, timeZone);
  while (runs.length < count) {
    const end = new Date(weekWindow(week, timeZone).end);
    const slot = slots.firstAfter(end);
    if (!slot) break;
    if (slot > now) runs.push({ week, slot });
    week = weekOf(end, timeZone);
  }
  return runs;
}

/** "Mon 2026-12-07 08:00 CET": an instant as the list's zone sees it. */
export function localTime(instant: Date | string, timeZone: string): string {
  const d = typeof instant === 'string' ? DateTime.fromISO(instant, { zone: timeZone }) : DateTime.fromJSDate(instant, { zone: timeZone });
  return d.toFormat('ccc yyyy-MM-dd HH:mm ZZZZ');
}
