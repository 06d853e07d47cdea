// Local send time (RECAP_LOCAL_SEND_TIME): each reader's copy waits for that time of day in their
// own zone (subscribers.time_zone; none: the list's, RECAP_TZ), so a send goes out in waves.
//
// The send day is the calendar date, in the list's zone, of the moment the edition's send started:
// when its first deliveries were queued (the weekly slot, an approval, `recap digest send`). A
// re-run, a restart or a worker finds the same moment in the rows, so the waves never move. Each
// zone's wave is the send day at RECAP_LOCAL_SEND_TIME there; a zone whose morning had already
// passed when the send started goes in the first wave, at once: nobody skips an edition. A reader
// whose previous edition arrived on the same local date as this wave (last week's went out late)
// gets this one at the same time the next day: never two editions in one local day.
//
// Everything is worked out per distinct zone (there are few), and written in the INSERT that
// queues the edition (enqueue.ts), which numbers the rows wave by wave: a claim, which reads queued
// rows in id order, never scans rows held back for a later wave.
import { DateTime, IANAZone } from 'luxon';
import { type RawBuilder, sql } from 'kysely';
import { selectedValue } from '../../db/column-types.ts';
import type { Db } from '../../db/connect.ts';
import type { Config } from '../config.ts';
import type { Edition } from '../editions/editions.ts';
import { HELD } from './subject-test.ts';

export type TimeOfDay = NonNullable<Config['localSendTime']>;

/** As the operator wrote it: "08:00". */
export function timeOfDayText(time: TimeOfDay): string {
  return `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
}

/** Whether an edition's send goes out in waves of local send time (a subject test refuses to run with it). */
export function localSendTimeOn(config: Pick<Config, 'localSendTime'>): boolean {
  return config.localSendTime !== undefined;
}

/** A reader's zone: theirs when it is a valid IANA zone, else the list's. */
export function readerZone(zone: string | null, listZone: string): string {
  return zone !== null && IANAZone.isValidZone(zone) ? zone : listZone;
}

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/**
 * `time` on `date` in `zone`, as an instant. A time that does not exist (a spring-forward gap) is
 * the first instant after the gap; one that happens twice (a fall-back overlap), the first of the two.
 */
export function localInstant(date: CalendarDate, time: TimeOfDay, zone: string): Date {
  const tz = IANAZone.create(zone);
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  // The offsets a day either side: the wall time read with each, kept if the zone agrees.
  const offsets = [...new Set([tz.offset(wall - 86_400_000), tz.offset(wall + 86_400_000)])];
  const valid = offsets.map((o) => wall - o * 60_000).filter((t) => tz.offset(t) * 60_000 === wall - t);
  if (valid.length > 0) return new Date(Math.min(...valid));
  // In a gap: the transition itself, found between the wall time read with the later offset
  // (before it) and with the earlier one (after it), to the minute.
  let [before, after] = offsets.map((o) => wall - o * 60_000).sort((a, b) => a - b) as [number, number];
  const offsetBefore = tz.offset(before);
  while (after - before > 60_000) {
    const mid = before + Math.floor((after - before) / 120_000) * 60_000;
    if (tz.offset(mid) === offsetBefore) before = mid;
    else after = mid;
  }
  return new Date(after);
}

export interface WavePlan {
  zone: string;
  /** When the zone's readers may get it: the send day's local send time, or the start when that had passed. */
  at: Date;
  /** The local day of `at`, [start, end): a reader with an earlier edition in it waits for `nextDay`. */
  dayStart: Date;
  dayEnd: Date;
  nextDay: Date;
}

export function planWave(sendDay: CalendarDate, startedAt: Date, time: TimeOfDay, zone: string): WavePlan {
  const due = localInstant(sendDay, time, zone);
  const at = due < startedAt ? startedAt : due;
  const day = DateTime.fromJSDate(at, { zone }).startOf('day');
  const next = day.plus({ days: 1 });
  return { zone, at, dayStart: day.toJSDate(), dayEnd: next.startOf('day').toJSDate(), nextDay: localInstant(next, time, zone) };
}

/** When the edition's send started: its first queued row, or now for the first run. */
async function sendStartedAt(db: Db, editionId: number, now: Date): Promise<Date> {
  const row = await db.selectFrom('deliveries').select((eb) => eb.fn.min('queued_at').as('first')).where('edition_id', '=', editionId).executeTakeFirst();
  return row?.first ? new Date(row.first as string) : now;
}

/**
 * The not_before of each row `enqueueDeliveries` queues (an SQL expression over the subscriber `s`),
 * or undefined when local send time is off. One CASE over the distinct zones; per reader only the
 * look for an edition already received that local day.
 */
export async function notBeforeExpression(db: Db, edition: Edition, config: Pick<Config, 'localSendTime' | 'timeZone'>, now: Date): Promise<RawBuilder<string> | undefined> {
  const time = config.localSendTime;
  if (!time) return undefined;
  const started = await sendStartedAt(db, edition.row.id, now);
  const sendDay = DateTime.fromJSDate(started, { zone: config.timeZone });
  const plans = new Map<string, RawBuilder<string>>();
  const planned = (zone: string) => {
    let expression = plans.get(zone);
    if (!expression) {
      expression = waveSql(db, edition.list.id, planWave(sendDay, started, time, zone));
      plans.set(zone, expression);
    }
    return expression;
  };
  const zones = await db.selectFrom('subscribers').select('time_zone').distinct().where('time_zone', 'is not', null).execute();
  const cases = zones.map((z) => sql`when ${z.time_zone} then ${planned(readerZone(z.time_zone, config.timeZone))}`);
  return sql<string>`case s.time_zone ${sql.join(cases, sql` `)} else ${planned(config.timeZone)} end`;
}

function waveSql(db: Db, listId: number, plan: WavePlan): RawBuilder<string> {
  const at = (d: Date) => selectedValue(db, d.toISOString(), 'timestamp');
  const receivedThatDay = sql`exists (select 1 from deliveries p inner join editions pe on pe.id = p.edition_id where p.subscriber_id = s.id and pe.list_id = ${listId} and p.submitted_at >= ${at(plan.dayStart)} and p.submitted_at < ${at(plan.dayEnd)})`;
  return sql<string>`case when ${receivedThatDay} then ${at(plan.nextDay)} else ${at(plan.at)} end`;
}

export interface Wave {
  at: string;
  /** The readers' zones, each with the wave's local time there ("08:00"). */
  zones: Array<{ zone: string; local: string }>;
  readers: number;
  /** Deliveries of the wave not yet tried (queued or claimed). */
  left: number;
  state: 'done' | 'sending' | 'to come';
}

const hhmm = (at: string, zone: string) => DateTime.fromISO(at, { zone }).toFormat('HH:mm');

/** An edition's waves, earliest first (none when it was sent without local send time). */
export async function editionWaves(db: Db, editionId: number, listZone: string, now: Date): Promise<Wave[]> {
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select((eb) => [
      'd.not_before',
      's.time_zone',
      eb.fn.countAll<number>().as('readers'),
      eb.fn.sum<number>(eb.case().when('d.status', 'in', ['queued', 'claimed']).then(1).else(0).end()).as('left'),
    ])
    .where('d.edition_id', '=', editionId)
    .where('d.not_before', 'is not', null)
    // The rest of a subject test waits for its decision, not for a wave.
    .where('d.not_before', '<', HELD)
    .groupBy(['d.not_before', 's.time_zone'])
    .execute();
  const waves = new Map<string, Wave>();
  for (const r of rows) {
    const at = new Date(r.not_before as string).toISOString();
    const wave = waves.get(at) ?? { at, zones: [], readers: 0, left: 0, state: 'done' as const };
    const zone = readerZone(r.time_zone, listZone);
    if (!wave.zones.some((z) => z.zone === zone)) wave.zones.push({ zone, local: hhmm(at, zone) });
    wave.readers += Number(r.readers);
    wave.left += Number(r.left);
    waves.set(at, wave);
  }
  return [...waves.values()]
    .map((w) => ({ ...w, zones: w.zones.sort((a, b) => a.zone.localeCompare(b.zone)), state: w.at > now.toISOString() ? ('to come' as const) : w.left > 0 ? ('sending' as const) : ('done' as const) }))
    .sort((a, b) => a.at.localeCompare(b.at));
}

/** When the next wave whose rows wait (queued, not_before after `now`) goes, or null: one look at the index. */
export async function nextWaveAt(db: Db, editionId: number, now: Date): Promise<string | null> {
  const first = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min('not_before').as('at'))
    .where('edition_id', '=', editionId)
    .where('status', '=', 'queued')
    .where('not_before', '>', now.toISOString())
    .where('not_before', '<', HELD)
    .executeTakeFirst();
  return first?.at ? new Date(first.at as string).toISOString() : null;
}

export interface WaitingWave {
  at: string;
  zones: string[];
  /** Its local time in the first of its zones ("08:00"). */
  local: string;
  readers: number;
}

/** The next wave whose rows wait, with its zones and readers, or null. */
export async function nextWave(db: Db, editionId: number, listZone: string, now: Date): Promise<WaitingWave | null> {
  const at = await nextWaveAt(db, editionId, now);
  return at ? waveWaitingAt(db, editionId, listZone, at) : null;
}

/** The queued rows of the wave at `at`: its zones and readers. */
export async function waveWaitingAt(db: Db, editionId: number, listZone: string, at: string): Promise<WaitingWave> {
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select((eb) => ['s.time_zone', eb.fn.countAll<number>().as('n')])
    .where('d.edition_id', '=', editionId)
    .where('d.status', '=', 'queued')
    .where('d.not_before', '=', at)
    .groupBy('s.time_zone')
    .execute();
  const zones = [...new Set(rows.map((r) => readerZone(r.time_zone, listZone)))].sort();
  return { at, zones, local: hhmm(at, zones[0] ?? listZone), readers: rows.reduce((n, r) => n + Number(r.n), 0) };
}

/** "2026-12-06 23:00 UTC · 08:00 Asia/Tokyo · 312 readers · to come" */
export function waveLine(w: Wave): string {
  const zones = w.zones.map((z) => `${z.local} ${z.zone}`).join(', ');
  const left = w.state === 'sending' ? ` (${w.left} left)` : '';
  return `${w.at.slice(0, 10)} ${w.at.slice(11, 16)} UTC · ${zones} · ${w.readers} reader${w.readers === 1 ? '' : 's'} · ${w.state}${left}`;
}

/** "the 08:00 wave of Asia/Tokyo (312 readers) at 2026-12-06T23:00Z" */
export function describeWave(w: WaitingWave): string {
  return `the ${w.local} wave of ${w.zones.join(', ')} (${w.readers} reader${w.readers === 1 ? '' : 's'}) at ${w.at.slice(0, 16)}Z`;
}
