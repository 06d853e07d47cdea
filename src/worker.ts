// `recap worker`: a sender with no schedule of its own, for lists that outgrow one process. It
// looks for editions being sent (put in `sending` by the schedule or `recap digest send`), sends
// their due deliveries alongside every other sender on the database (batch leases, shared pace,
// quotas and paused domains: src/delivery/send.ts), and marks an edition sent when it finds
// nothing left. Run as many as the relay and the database take, on one machine or several.
import type { Context } from './context.ts';
import { countDue, deliveryCounts } from './delivery/send.ts';
import { stepSubjectTest } from './delivery/subject-test.ts';
import { loadEdition } from './editions/editions.ts';
import type { Log } from './log.ts';
import { type SendIo, sendQueued, setStatus } from './recap.ts';

export interface WorkerOptions {
  /** Return when nothing is due instead of waiting for more. */
  once: boolean;
  /** How long to wait between looks when idle. */
  pollMs: number;
}

export interface WorkerTotals {
  editions: Set<string>;
  submitted: number;
  deferred: number;
  failed: number;
  uncertain: number;
}

export async function runWorker(ctx: Context, io: SendIo, log: Log, options: WorkerOptions): Promise<WorkerTotals> {
  const { db, config, clock } = ctx;
  const totals: WorkerTotals = { editions: new Set(), submitted: 0, deferred: 0, failed: 0, uncertain: 0 };
  while (!io.signal?.aborted) {
    let worked = false;
    const sending = await db.selectFrom('editions').selectAll().where('status', '=', 'sending').orderBy('id').execute();
    for (const row of sending) {
      if (io.signal?.aborted) break;
      const edition = async () => loadEdition(db, row, await db.selectFrom('lists').selectAll().where('id', '=', row.list_id).executeTakeFirstOrThrow(), config.timeZone);
      let due = await countDue(db, row.id, clock.now());
      // A subject test whose wait is over is decided here too (by whichever sender looks first), and its rest comes due.
      if (due === 0 && (await stepSubjectTest(db, row.id, clock.now(), (line) => log.info(`edition ${row.week}: ${line}`))).released) due = await countDue(db, row.id, clock.now());
      if (due === 0) {
        // Its last sender may have died after the last outcome: nothing left to try, it is sent.
        const counts = await deliveryCounts(db, row.id);
        if (counts.queued + counts.deferred + counts.claimed === 0) {
          await setStatus(ctx, await edition(), 'sent');
          log.info(`edition ${row.week}: nothing left to send, marked sent`);
        }
        continue;
      }
      totals.editions.add(row.week);
      log.info(`edition ${row.week}: ${due} deliveries due, sending alongside any other sender`);
      const r = await sendQueued(ctx, { ...io, waitForRetries: false }, await edition());
      const o = r.outcome;
      for (const k of ['submitted', 'deferred', 'failed', 'uncertain'] as const) totals[k] += o[k];
      log.info(`edition ${row.week}: this worker submitted ${o.submitted}, deferred ${o.deferred}, failed ${o.failed}, uncertain ${o.uncertain}; the edition is ${r.edition.row.status}`);
      // Over the quota, it waits like an idle worker (polling) rather than asking again at once.
      if (o.quotaUntil) log.warn(`edition ${row.week}: the relay's quota (RECAP_QUOTA) is used up until ${o.quotaUntil}`);
      else worked = true;
    }
    if (worked) continue;
    if (options.once) break;
    await io.sleep(options.pollMs, io.signal);
  }
  return totals;
}
