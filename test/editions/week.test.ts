import { describe, expect, it } from 'vitest';
import { previousWeek, WeekError, weekOf, weekOfLabel, weekWindow } from '../../src/editions/week.ts';

const HOUR = 3_600_000;
const hours = (w: { start: string; end: string }) => (Date.parse(w.end) - Date.parse(w.start)) / HOUR;

/** The wall-clock time of an instant in a zone, e.g. "Mon 00:00". */
function localTime(iso: string, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(iso))
    .replace(',', '');
}

describe('weekWindow', () => {
  // 2026-W48 is Monday 23 Nov to Sunday 29 Nov 2026; none of these zones changes its offset that week.
  it.each([
    ['UTC', '2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['Europe/Berlin', '2026-11-22T23:00:00.000Z', '2026-11-29T23:00:00.000Z'],
    ['America/New_York', '2026-11-23T05:00:00.000Z', '2026-11-30T05:00:00.000Z'],
    ['Asia/Tokyo', '2026-11-22T15:00:00.000Z', '2026-11-29T15:00:00.000Z'],
    ['Pacific/Auckland', '2026-11-22T11:00:00.000Z', '2026-11-29T11:00:00.000Z'],
  ])('runs 2026-W48 in %s from local Monday 00:00 to the next Monday 00:00', (zone, start, end) => {
    const window = weekWindow('2026-W48', zone);
    expect(window).toEqual({ week: '2026-W48', start, end, label: '23–29 Nov 2026' });
  });

  it.each([
    // Spring forward: the week loses an hour.
    ['2026-W13', 'Europe/Berlin', 167, '2026-03-22T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    ['2026-W10', 'America/New_York', 167, '2026-03-02T05:00:00.000Z', '2026-03-09T04:00:00.000Z'],
    // Fall back: the week gains an hour (EU: Sunday 25 Oct, in W43; US: Sunday 1 Nov, in W44).
    ['2026-W43', 'Europe/Berlin', 169, '2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
    ['2026-W44', 'America/New_York', 169, '2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    // Southern hemisphere: New Zealand ends DST on Sunday 5 Apr and starts it on Sunday 27 Sep 2026.
    ['2026-W14', 'Pacific/Auckland', 169, '2026-03-29T11:00:00.000Z', '2026-04-05T12:00:00.000Z'],
    ['2026-W39', 'Pacific/Auckland', 167, '2026-09-20T12:00:00.000Z', '2026-09-27T11:00:00.000Z'],
  ])('makes %s in %s %i hours long across the daylight-saving change', (week, zone, length, start, end) => {
    const window = weekWindow(week, zone);
    expect(window.start).toBe(start);
    expect(window.end).toBe(end);
    expect(hours(window)).toBe(length);
  });

  it.each([
    ['2026-W13', 'Europe/Berlin'],
    ['2026-W43', 'Europe/Berlin'],
    ['2026-W44', 'America/New_York'],
    ['2026-W10', 'America/New_York'],
  ])('starts and ends %s in %s at local midnight on Mondays despite the change', (week, zone) => {
    const window = weekWindow(week, zone);
    expect(localTime(window.start, zone)).toBe('Mon 00:00');
    expect(localTime(window.end, zone)).toBe('Mon 00:00');
  });

  it('keeps a week without a daylight-saving change 168 hours long', () => {
    expect(hours(weekWindow('2026-W44', 'Europe/Berlin'))).toBe(168);
    expect(hours(weekWindow('2026-W45', 'America/New_York'))).toBe(168);
  });

  it('labels a week that spans two months with both months', () => {
    expect(weekWindow('2026-W49', 'UTC').label).toBe('30 Nov – 6 Dec 2026');
  });

  it('accepts 2026-W53, because 2026 has 53 ISO weeks, and labels it across the year', () => {
    const window = weekWindow('2026-W53', 'UTC');
    expect(window.start).toBe('2026-12-28T00:00:00.000Z');
    expect(window.end).toBe('2027-01-04T00:00:00.000Z');
    expect(window.label).toBe('28 Dec 2026 – 3 Jan 2027');
  });

  it('rejects 2025-W53, because 2025 has only 52 ISO weeks', () => {
    expect(() => weekWindow('2025-W53', 'UTC')).toThrow(WeekError);
    expect(() => weekWindow('2025-W53', 'UTC')).toThrow('2025 has no week 53');
  });

  it('rejects week 00', () => {
    expect(() => weekWindow('2026-W00', 'UTC')).toThrow(WeekError);
  });

  it.each(['2026-48', '2026-W0', 'W48', '2026-W480', ''])('rejects the malformed week "%s" with a message showing the expected form', (week) => {
    expect(() => weekWindow(week, 'UTC')).toThrow(WeekError);
    expect(() => weekWindow(week, 'UTC')).toThrow(`"${week}" is not an ISO week such as 2026-W48`);
  });
});

describe('weekOf', () => {
  it('puts Sunday 20:00 UTC in the next week in Tokyo, where it is already Monday', () => {
    expect(weekOf(new Date('2026-11-29T20:00:00Z'), 'Asia/Tokyo')).toBe('2026-W49');
  });

  it('keeps Sunday 20:00 UTC in the same week in New York, where it is still Sunday afternoon', () => {
    expect(weekOf(new Date('2026-11-29T20:00:00Z'), 'America/New_York')).toBe('2026-W48');
  });

  it('puts the instant of local Monday midnight in the new week', () => {
    expect(weekOf(new Date('2026-11-22T23:00:00Z'), 'Europe/Berlin')).toBe('2026-W48');
    expect(weekOf(new Date('2026-11-22T22:59:59.999Z'), 'Europe/Berlin')).toBe('2026-W47');
  });

  it('puts 1 January 2027 in 2026-W53', () => {
    expect(weekOf(new Date('2027-01-01T12:00:00Z'), 'UTC')).toBe('2026-W53');
  });

  it('puts 3 January 2027 in 2026-W53 and 4 January 2027 in 2027-W01', () => {
    expect(weekOf(new Date('2027-01-03T12:00:00Z'), 'UTC')).toBe('2026-W53');
    expect(weekOf(new Date('2027-01-04T12:00:00Z'), 'UTC')).toBe('2027-W01');
  });
});

describe('previousWeek', () => {
  it('gives 2026-W48 for a Monday-morning run on 30 Nov 2026 in Berlin', () => {
    expect(previousWeek(new Date('2026-11-30T08:00:00Z'), 'Europe/Berlin')).toBe('2026-W48');
  });

  it('gives 2026-W53 for a run in the first week of 2027', () => {
    expect(previousWeek(new Date('2027-01-04T08:00:00Z'), 'UTC')).toBe('2026-W53');
  });
});

describe('weekOfLabel', () => {
  it.each([
    ['2026-W48', 'UTC', 'Week of 23 November 2026'],
    ['2026-W48', 'Pacific/Auckland', 'Week of 23 November 2026'],
    ['2026-W48', 'America/Los_Angeles', 'Week of 23 November 2026'],
    ['2026-W01', 'Europe/Berlin', 'Week of 29 December 2025'],
    ['2027-W13', 'Europe/Berlin', 'Week of 29 March 2027'],
  ])('names %s in %s by the Monday it starts on: %s', (week, zone, label) => {
    expect(weekOfLabel(weekWindow(week, zone).start, zone)).toBe(label);
  });

  it('reads the instant in the zone given, not in UTC', () => {
    expect(weekOfLabel('2026-11-22T11:00:00.000Z', 'Pacific/Auckland')).toBe('Week of 23 November 2026');
    expect(weekOfLabel('2026-11-22T11:00:00.000Z', 'UTC')).toBe('Week of 22 November 2026');
  });
});
