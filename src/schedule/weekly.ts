// The weekly job as the daemon runs it, one `tick` at a time. Every tick is idempotent: what was
// done for a week is recorded in schedule_runs (one row per list and week, made once), editions are
// unique per week, and a send holds the edition's lease — so two schedulers on one database make
// one edition and one send, and a tick after a crash or a missed run picks up where things stood.
import type { Db } from '../../db/connect.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import type { ListRow, ScheduleRunRow, ScheduleState } from '../../db/schema.ts';
import { findList } from '../audience/lists.ts';
import type { Context } from '../context.ts';
import { LeaseHeldError } from '../delivery/lease.ts';
import { describeWave, nextWave } from '../delivery/waves.ts';
import { sendTransactional } from '../delivery/transactional.ts';
import { type Edition, ensureEdition, findEdition } from '../editions/editions.ts';
import { runWeeklyRecap, type SendIo } from '../recap.ts';
import { renderEditorReview } from '../render/transactional.ts';
import { missedAdvice } from './runs.ts';
import { type DueWeek, dueWeek, type Slots } from './slots.ts';

export async function tick(ctx: Context, io: SendIo, slots: Slots): Promise<string[]> {
  const done: string[] = [];
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);

  // 1. A send that a previous process left half-way goes on.
  const interrupted = await ctx.db.selectFrom('editions').select('week').where('list_id', '=', list.id).where('status', '=', 'sending').execute();
  for (const { week } of interrupted) done.push(await send(ctx, io, list, week, 'resumed the interrupted send'));

  // 2. The week whose run is due (or was missed within the tolerance) starts, once; one missed
  //    beyond it is recorded as missed, once, and the editors are told.
  const due = dueWeek(ctx.clock.now(), slots, ctx.config.timeZone, ctx.config.catchUpHours * 3_600_000);
  if (due && (await claimWeek(ctx.db, list.id, due.week, due.missed ? 'missed' : 'awaiting-approval', ctx.clock.now()))) {
    done.push(await (due.missed ? recordMissed(ctx, io, list, due) : startWeek(ctx, io, list, due.week)));
  }

  // 3. Editions waiting for their editors, and missed weeks whose edition an editor approved since.
  const waiting = await ctx.db
    .selectFrom('schedule_runs as r')
    .leftJoin('editions as e', (j) => j.onRef('e.list_id', '=', 'r.list_id').onRef('e.week', '=', 'r.week'))
    .select(['r.week', 'r.state', 'r.approval_deadline_at'])
    .where('r.list_id', '=', list.id)
    .where((eb) => eb.or([eb('r.state', '=', 'awaiting-approval'), eb.and([eb('r.state', '=', 'missed'), eb('e.status', '=', 'approved')])]))
    .execute();
  for (const run of waiting) {
    const outcome = await followApproval(ctx, io, list, run);
    if (outcome) done.push(outcome);
  }
  for (const line of done) io.log(line);
  return done;
}

type Run = Pick<ScheduleRunRow, 'week' | 'state' | 'approval_deadline_at'>;

/** True for the one caller that records the week first. */
async function claimWeek(db: Db, listId: number, week: string, state: ScheduleState, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const r = await db
    .insertInto('schedule_runs')
    .values({ list_id: listId, week, state, detail: 'starting', editors_told_at: null, approval_deadline_at: null, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['list_id', 'week']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

async function setState(ctx: Context, listId: number, week: string, state: ScheduleState, detail: string | null): Promise<void> {
  await ctx.db.updateTable('schedule_runs').set({ state, detail, updated_at: ctx.clock.now().toISOString() }).where('list_id', '=', listId).where('week', '=', week).execute();
}

const utc = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`;

/** Nothing is made or sent for a week found too late; the record, the log and the editors say so. */
async function recordMissed(ctx: Context, io: SendIo, list: ListRow, due: DueWeek): Promise<string> {
  const now = ctx.clock.now();
  const hours = ctx.config.catchUpHours;
  await setState(ctx, list.id, due.week, 'missed', `due ${utc(due.slot)}; no schedule ran until ${utc(now)}, more than RECAP_CATCHUP_HOURS (${hours} h) later`);
  await tellEditors(ctx, io, list, due.week, {
    skippedBecause:
      `its run was due at ${utc(due.slot)}, but no \`recap schedule\` was running until ${utc(now)}, more than RECAP_CATCHUP_HOURS (${hours} h) later. ${missedAdvice(due.week)}`,
  });
  return `${due.week}: run missed (due ${utc(due.slot)}, more than RECAP_CATCHUP_HOURS=${hours} h ago); nothing made or sent; editors told`;
}

async function startWeek(ctx: Context, io: SendIo, list: ListRow, week: string): Promise<string> {
  const { config } = ctx;
  const planned = await ensureEdition(ctx.db, list, {
    week,
    timeZone: config.timeZone,
    rules: { maxStories: config.maxStories, maxPerTopic: config.maxPerTopic, minStories: config.minStories },
    now: ctx.clock.now(),
    persist: true,
    trackClicks: config.trackClicks,
  });
  if (!planned.ok) {
    await setState(ctx, list.id, week, 'skipped-thin', planned.reason);
    await tellEditors(ctx, io, list, week, { skippedBecause: planned.reason });
    return `${week}: no edition (${planned.reason}); editors told`;
  }
  // The edition may be further along already (built, approved or even sent by hand before the slot).
  const status = planned.edition.row.status;
  if (status === 'sent') {
    await setState(ctx, list.id, week, 'sent', 'sent before its slot');
    return `${week}: already sent`;
  }
  if (status === 'cancelled' || status === 'skipped' || status === 'paused') {
    await setState(ctx, list.id, week, status === 'cancelled' ? 'cancelled' : status === 'skipped' ? 'skipped-deadline' : 'sending', `edition is ${status}`);
    return `${week}: edition is ${status}; nothing to do`;
  }
  if (status === 'approved' || status === 'sending') {
    await setState(ctx, list.id, week, 'awaiting-approval', status);
    return (await followApproval(ctx, io, list, { week, state: 'awaiting-approval', approval_deadline_at: null })) ?? `${week}: approved; waits for its send time`;
  }
  if (config.sendMode === 'auto') return send(ctx, io, list, week, 'sent at once (RECAP_SEND_MODE=auto)');
  return askEditors(ctx, io, list, planned.edition);
}

/**
 * The review email, with a deadline counted from now, when the editors are told: a run made up
 * late gives them the same time as one on time. Rounded up to the minute the email shows.
 */
async function askEditors(ctx: Context, io: SendIo, list: ListRow, edition: Edition): Promise<string> {
  const week = edition.row.week;
  const deadline = new Date(Math.ceil((ctx.clock.now().getTime() + ctx.config.approvalDeadlineHours * 3_600_000) / 60_000) * 60_000);
  await ctx.db
    .updateTable('schedule_runs')
    .set({ state: 'awaiting-approval', detail: `deadline ${deadline.toISOString()}`, approval_deadline_at: deadline.toISOString(), updated_at: ctx.clock.now().toISOString() })
    .where('list_id', '=', list.id)
    .where('week', '=', week)
    .execute();
  await tellEditors(ctx, io, list, week, { edition, deadline });
  return `${week}: edition #${edition.row.number} waits for approval until ${deadline.toISOString()}; editors told`;
}

async function followApproval(ctx: Context, io: SendIo, list: ListRow, run: Run): Promise<string | null> {
  const { week } = run;
  const edition = await findEdition(ctx.db, list, week, ctx.config.timeZone);
  if (!edition) return null;
  const now = ctx.clock.now();
  const status = edition.row.status;
  // A missed week goes out only on an editor's approval: no deadline sends it.
  if (run.state === 'missed' && status !== 'approved') return null;
  if (status === 'cancelled' || status === 'skipped') {
    await setState(ctx, list.id, week, status === 'cancelled' ? 'cancelled' : 'skipped-deadline', null);
    return `${week}: ${status}`;
  }
  if (status === 'approved') {
    if (edition.row.send_at && edition.row.send_at > now.toISOString()) return null;
    return send(ctx, io, list, week, `approved by ${edition.row.approved_by ?? 'an editor'}${run.state === 'missed' ? ' after its run was missed' : ''}`);
  }
  if (status === 'sending') return send(ctx, io, list, week, 'resumed');
  if (status === 'sent') {
    await setState(ctx, list.id, week, 'sent', null);
    return `${week}: sent`;
  }
  if (status !== 'draft') return null;
  // Never told (a crash between recording the week and the review email): tell them now.
  if (!run.approval_deadline_at) return askEditors(ctx, io, list, edition);
  if (now.toISOString() < run.approval_deadline_at) return null;
  if (ctx.config.deadlineAction === 'skip') {
    await ctx.db.updateTable('editions').set({ status: 'skipped', updated_at: now.toISOString() }).where('id', '=', edition.row.id).execute();
    await setState(ctx, list.id, week, 'skipped-deadline', 'not approved by the deadline');
    await tellEditors(ctx, io, list, week, { skippedBecause: 'it was not approved by the deadline (RECAP_DEADLINE_ACTION=skip)' });
    return `${week}: not approved by the deadline; skipped`;
  }
  await ctx.db.updateTable('editions').set({ status: 'approved', approved_at: now.toISOString(), approved_by: 'the deadline', updated_at: now.toISOString() }).where('id', '=', edition.row.id).execute();
  return send(ctx, io, list, week, 'not approved by the deadline; sent anyway (RECAP_DEADLINE_ACTION=send)');
}

async function send(ctx: Context, io: SendIo, list: ListRow, week: string, why: string): Promise<string> {
  await setState(ctx, list.id, week, 'sending', why);
  try {
    const report = await runWeeklyRecap(ctx, io, { week });
    if (report.kind !== 'sent') return `${week}: nothing to send`;
    const status = report.edition.row.status;
    if (status === 'sent') await setState(ctx, list.id, week, 'sent', why);
    if (report.outcome.interrupted && io.signal?.aborted) {
      const { submitted, queued, deferred } = report.counts;
      return `${week}: stopped mid-send; ${submitted} submitted, ${queued} stay queued${deferred ? ` and ${deferred} deferred` : ''}; the next start of \`recap schedule\` resumes them`;
    }
    const uncertain = report.counts.uncertain > 0 ? `, ${report.counts.uncertain} uncertain` : '';
    const wave = status === 'sending' ? await nextWave(ctx.db, report.edition.row.id, ctx.config.timeZone, ctx.clock.now()) : null;
    return `${week}: ${why}; ${report.counts.submitted} submitted, ${report.counts.failed} failed${uncertain}, edition ${status}${wave ? `; next ${describeWave(wave)}` : ''}`;
  } catch (e) {
    // Another scheduler is sending it: its lease says so, and it will finish.
    if (e instanceof LeaseHeldError) return `${week}: another process is sending it`;
    throw e;
  }
}

async function tellEditors(ctx: Context, io: SendIo, list: ListRow, week: string, about: { edition?: Edition; deadline?: Date; skippedBecause?: string }): Promise<void> {
  const editors = ctx.config.editors;
  if (editors.length === 0) {
    io.log(`${week}: no RECAP_EDITORS to tell`);
    return;
  }
  const action = ctx.config.deadlineAction === 'send' ? 'it goes out anyway' : 'it is skipped';
  const email = await renderEditorReview({
    listName: list.name,
    week,
    subject: about.edition?.row.subject ?? '',
    stories: about.edition?.stories.map((s) => s.title) ?? [],
    deskUrl: `${ctx.config.baseUrl}/desk/editions/${week}`,
    deadline: about.deadline ? `${utc(about.deadline)}: ${action}` : null,
    skippedBecause: about.skippedBecause ?? null,
    postalAddress: ctx.config.postalAddress,
  });
  const transport = io.transport();
  try {
    for (const to of editors) await sendTransactional(transport, ctx.config, { email: to, name: null }, email, ctx.clock.now());
  } finally {
    await transport.close();
  }
  await ctx.db.updateTable('schedule_runs').set({ editors_told_at: ctx.clock.now().toISOString() }).where('list_id', '=', list.id).where('week', '=', week).execute();
}
