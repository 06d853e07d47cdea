// RECAP_QUOTA: what the relay allows per rolling window (a daily quota on SES, an hourly one on a
// shared host), for every sender together and across restarts. Hand-overs are counted per minute
// in the database; a sender reserves a few at a time, in a transaction that first updates one lock
// row, so that two senders never both take the last of a window (on SQLite and PostgreSQL alike).
// Unused reservations are given back at the end of each batch. A message counts when its turn
// comes (before MAIL FROM), whatever the relay then answers: the count never runs below what the relay saw.
import type { Db } from '../../db/connect.ts';
import type { Quota } from '../config.ts';
import type { Clock } from '../context.ts';

const MINUTE_MS = 60_000;
/** Reserved at a time: one transaction per this many messages. */
const CHUNK = 50;
const LOCK = 'quota';

const minuteOf = (at: Date) => Math.floor(at.getTime() / MINUTE_MS);

export interface QuotaGate {
  /** Room for one more message: true, or when the quotas let the next one go. */
  take(): Promise<true | Date>;
  /** Gives back what was reserved and not used (at the end of each batch). */
  giveBack(): Promise<void>;
}

export function quotaGate(db: Db, quotas: Quota[], clock: Clock): QuotaGate {
  let reserved = 0;
  let minute = 0;
  // The connections of one sender ask together: one reservation at a time, shared by all of them.
  let reserving: Promise<void> | undefined;
  let fullUntil: Date | undefined;
  return {
    async take() {
      if (quotas.length === 0) return true;
      for (;;) {
        if (reserved > 0) {
          reserved--;
          return true;
        }
        if (fullUntil) return fullUntil;
        reserving ??= reserve(db, quotas, clock.now(), CHUNK)
          .then((r) => {
            if (r.granted === 0) fullUntil = r.until;
            else [reserved, minute] = [r.granted, r.minute];
          })
          .finally(() => (reserving = undefined));
        await reserving;
      }
    },
    async giveBack() {
      fullUntil = undefined; // asked again after the batch: the window moves on
      if (reserved === 0) return;
      const n = reserved;
      reserved = 0;
      await db.updateTable('send_quota_use').set((eb) => ({ messages: eb(eb.ref('messages'), '-', n) })).where('minute', '=', minute).execute();
    },
  };
}

async function reserve(db: Db, quotas: Quota[], now: Date, want: number): Promise<{ granted: number; minute: number; until: Date }> {
  const minute = minuteOf(now);
  const longest = Math.max(...quotas.map((q) => q.minutes));
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('send_pacing').values({ name: LOCK, next_slot_us: 0 }).onConflict((oc) => oc.column('name').doNothing()).execute();
    // The lock: every reservation updates this row first, so reservations run one at a time.
    await trx.updateTable('send_pacing').set((eb) => ({ next_slot_us: eb(eb.ref('next_slot_us'), '+', 1) })).where('name', '=', LOCK).execute();
    await trx.deleteFrom('send_quota_use').where('minute', '<=', minute - longest).execute();
    let granted = want;
    for (const q of quotas) granted = Math.min(granted, q.limit - (await usedSince(trx, minute - q.minutes)));
    if (granted <= 0) return { granted: 0, minute, until: await nextRoom(trx, quotas, now) };
    await trx
      .insertInto('send_quota_use')
      .values({ minute, messages: granted })
      .onConflict((oc) => oc.column('minute').doUpdateSet((eb) => ({ messages: eb(eb.ref('send_quota_use.messages'), '+', granted) })))
      .execute();
    return { granted, minute, until: now };
  });
}

/** Messages counted in the minutes after `minute`. */
async function usedSince(db: Db, minute: number): Promise<number> {
  const row = await db.selectFrom('send_quota_use').select((eb) => eb.fn.sum<number | string | null>('messages').as('n')).where('minute', '>', minute).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The counts of the window of the longest quota, oldest minute first. */
async function windowRows(db: Db, quotas: Quota[], now: Date) {
  const longest = Math.max(...quotas.map((q) => q.minutes));
  const rows = await db.selectFrom('send_quota_use').select(['minute', 'messages']).where('minute', '>', minuteOf(now) - longest).orderBy('minute').execute();
  return rows.map((r) => ({ minute: Number(r.minute), messages: Number(r.messages) }));
}

/**
 * When `q` has room for `n` more messages, given the counts: once enough minutes have left its
 * window; beyond what leaves it, a whole window more for each further `limit` messages.
 */
function roomFor(q: Quota, rows: Array<{ minute: number; messages: number }>, now: Date, n: number): Date {
  const first = minuteOf(now) - q.minutes;
  const inWindow = rows.filter((r) => r.minute > first);
  const used = inWindow.reduce((s, r) => s + r.messages, 0);
  let need = used + n - q.limit;
  if (need <= 0) return now;
  for (const r of inWindow) {
    need -= r.messages;
    if (need <= 0) return new Date((r.minute + q.minutes + 1) * MINUTE_MS);
  }
  const windows = Math.ceil(need / q.limit);
  const last = inWindow.at(-1)?.minute ?? minuteOf(now);
  return new Date((last + q.minutes * (windows + 1) + 1) * MINUTE_MS);
}

async function nextRoom(db: Db, quotas: Quota[], now: Date): Promise<Date> {
  const rows = await windowRows(db, quotas, now);
  return new Date(Math.max(...quotas.map((q) => roomFor(q, rows, now, 1).getTime())));
}

export interface QuotaOutlook {
  label: string;
  limit: number;
  used: number;
  /** When the quota lets `remaining` more go (now, when it has room for them all). */
  restBy: Date;
}

/** Each quota's use and when it lets the rest of a send go (`digest status`). */
export async function quotaOutlook(db: Db, quotas: Quota[], now: Date, remaining: number): Promise<QuotaOutlook[]> {
  if (quotas.length === 0) return [];
  const rows = await windowRows(db, quotas, now);
  return quotas.map((q) => ({
    label: q.label,
    limit: q.limit,
    used: rows.filter((r) => r.minute > minuteOf(now) - q.minutes).reduce((s, r) => s + r.messages, 0),
    restBy: roomFor(q, rows, now, remaining),
  }));
}
