// An edition covers one ISO week (Monday 00:00 to the next Monday 00:00) in the list's time zone.
// Pure functions: no clock, no database.
import { DateTime } from 'luxon';

export interface WeekWindow {
  /** e.g. 2026-W48 */
  week: string;
  /** Inclusive start and exclusive end, as ISO-8601 UTC strings comparable with stored times. */
  start: string;
  end: string;
  /** "23–29 Nov 2026", in the list's time zone. */
  label: string;
}

export class WeekError extends Error {
  override name = 'WeekError';
}

export function parseWeek(week: string): { weekYear: number; weekNumber: number } {
  const m = /^(\d{4})-W(\d{2})$/.exec(week.trim());
  if (!m) throw new WeekError(`"${week}" is not an ISO week such as 2026-W48`);
  const weekYear = Number(m[1]);
  const weekNumber = Number(m[2]);
  const probe = DateTime.fromObject({ weekYear, weekNumber, weekday: 1 }, { zone: 'UTC' });
  if (weekNumber < 1 || !probe.isValid || probe.weekNumber !== weekNumber) {
    throw new WeekError(`${weekYear} has no week ${weekNumber}`);
  }
  return { weekYear, weekNumber };
}

export function weekWindow(week: string, zone: string): WeekWindow {
  const { weekYear, weekNumber } = parseWeek(week);
  const start = DateTime.fromObject({ weekYear, weekNumber, weekday: 1 }, { zone }).startOf('day');
  // Adding a calendar week keeps local midnight across a daylight-saving change (167 or 169 hours).
  const end = start.plus({ weeks: 1 });
  return {
    week: formatWeek(weekYear, weekNumber),
    start: start.toUTC().toISO() as string,
    end: end.toUTC().toISO() as string,
    label: dateRangeLabel(start, end.minus({ days: 1 })),
  };
}

/** The ISO week an instant falls in, seen from `zone`. */
export function weekOf(instant: Date, zone: string): string {
  const local = DateTime.fromJSDate(instant, { zone });
  return formatWeek(local.weekYear, local.weekNumber);
}

/** The week before the one `instant` falls in: what a Monday-morning run sends. */
export function previousWeek(instant: Date, zone: string): string {
  return weekOf(DateTime.fromJSDate(instant, { zone }).minus({ weeks: 1 }).toJSDate(), zone);
}

function formatWeek(weekYear: number, weekNumber: number): string {
  return `${weekYear}-W${String(weekNumber).padStart(2, '0')}`;
}

// Spelled out here rather than taken from ICU, whose abbreviations vary by version ("Sep"/"Sept").
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTHS = MONTH_NAMES.map((name) => name.slice(0, 3));

/** "Week of 23 November 2026": the day a week starting at `start` (an instant) begins, in the list's time zone. */
export function weekOfLabel(start: string, zone: string): string {
  const day = DateTime.fromISO(start, { zone });
  return `Week of ${day.day} ${MONTH_NAMES[day.month - 1]} ${day.year}`;
}

function dateRangeLabel(first: DateTime, last: DateTime): string {
  const dm = (d: DateTime) => `${d.day} ${MONTHS[d.month - 1]}`;
  if (first.year !== last.year) return `${dm(first)} ${first.year} – ${dm(last)} ${last.year}`;
  if (first.month !== last.month) return `${dm(first)} – ${dm(last)} ${last.year}`;
  return `${first.day}–${dm(last)} ${last.year}`;
}
