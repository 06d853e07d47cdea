// RECAP_RATE for every sender together: one schedule of send slots, `1/rate` s apart, kept in the
// database. A sender reserves a few slots at a time (one statement: the next free slot moves on),
// then waits for each one's time before it hands a message over. The schedule starts at "now" when
// it has fallen behind, so nothing is saved up: a restart, or a sender joining late, never bursts.
// Slots are instants of the senders' clocks: keep the machines' clocks in step (NTP). A clock
// ahead only makes the others wait longer; together they never go faster than the rate.
import type { Db } from '../../db/connect.ts';
import type { Clock } from '../context.ts';

const NAME = 'send';
/** How far ahead a sender reserves: each reservation is a write, and unused slots are lost when it stops. */
const RESERVE_MS = 200;

export function sharedPacer(db: Db, rate: number, clock: Clock, sleep: (ms: number) => Promise<void>): () => Promise<void> {
  if (rate <= 0) return async () => {};
  const gapUs = Math.round(1_000_000 / rate);
  const chunk = Math.max(1, Math.min(50, Math.floor((rate * RESERVE_MS) / 1000)));
  let next = 0; // the next reserved slot (µs), and how many are left
  let left = 0;
  let created = false;
  // The connections of one sender ask together: one reservation at a time, shared by all of them.
  let reserving: Promise<void> | undefined;
  const reserve = async () => {
    const now = clock.now().getTime() * 1000;
    if (!created) {
      await db.insertInto('send_pacing').values({ name: NAME, next_slot_us: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
      created = true;
    }
    const row = await db
      .updateTable('send_pacing')
      .set((eb) => ({ next_slot_us: eb(eb.case().when('next_slot_us', '>', now).then(eb.ref('next_slot_us')).else(now).end(), '+', chunk * gapUs) }))
      .where('name', '=', NAME)
      .returning('next_slot_us')
      .executeTakeFirstOrThrow();
    next = Number(row.next_slot_us) - chunk * gapUs;
    left = chunk;
  };
  return async () => {
    while (left === 0) await (reserving ??= reserve().finally(() => (reserving = undefined)));
    const slot = next;
    next += gapUs;
    left--;
    const wait = slot / 1000 - clock.now().getTime();
    if (wait > 0) await sleep(wait);
  };
}
