// The weekly job as the daemon runs it, one `tick` at a time. Every tick is idempotent: what was
// done for a week is recorded in schedule_runs (one row per list and week, made once), editions are
// unique per week, and a send holds the edition's lease — so two schedulers on one database make
// one edition and one send, and a tick after a crash or a missed run picks up where things stood.
import type { Db } from '../../db/connect.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import type { ListRow, ScheduleState } from '../../db/schema.ts';
import { findList } from '../audience/lists.ts';
import type { Context } from '../context.ts';
import { LeaseHeldError } from '../delivery/lease.ts';
import { sendTransactional } from '../delivery/transactional.ts';
import { type Edition, ensureEdition, findEdition } from '../editions/editions.ts';
import { weekWindow } from '../editions/week.ts';
import { runWeeklyRecap, type SendIo } from '../recap.ts';
import { renderEditorReview } from '../render/transactional.ts';
import { dueWeek, type Slots } from './slots.ts';

export async function tick(ctx: Context, io: SendIo, slots: Slots): Promise<string[]> {
  const done: string[] = [];
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);

  // 1. A send that a previous process left half-way goes on.
  const interrupted = await ctx.db.selectFrom('editions').select('week').where('list_id', '=', list.id).where('status', '=', 'sending').execute();
  for (const { week } of interrupted) done.push(await send(ctx, io, list, week, 'resumed the interrupted send'));

  // 2. The week whose run is due (or was missed within the tolerance), once.
  const due = dueWeek(ctx.clock.now(), slots, ctx.config.timeZone, ctx.config.catchUpHours * 3_600_000);
  if (due && (await claimWeek(ctx.db, list.id, due.week, ctx.clock.now()))) done.push(await startWeek(ctx, io, list, due.week, due.slot));

  // 3. Editions waiting for their editors.
  const waiting = await ctx.db.selectFrom('schedule_runs').select('week').where('list_id', '=', list.id).where('state', '=', 'awaiting-approval').execute();
  for (const { week } of waiting) {
    const outcome = await followApproval(ctx, io, list, week, slots);
    if (outcome) done.push(outcome);
  }
  for (const line of done) io.log(line);
  return done;
}

/** True for the one caller that records the week first. */
async function claimWeek(db: Db, listId: number, week: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const r = await db
    .insertInto('schedule_runs')
    .values({ list_id: listId, week, state: 'awaiting-approval', detail: 'starting', editors_told_at: null, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['list_id', 'week']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

async function setState(ctx: Context, listId: number, week: string, state: ScheduleState, detail: string | null): Promise<void> {
  await ctx.db.updateTable('schedule_runs').set({ state, detail, updated_at: ctx.clock.now().toISOString() }).where('list_id', '=', listId).where('week', '=', week).execute();
}

async function startWeek(ctx: Context, io: SendIo, list: ListRow, week: string, slot: Date): Promise<string> {
  const { config } = ctx;
  const planned = await ensureEdition(ctx.db, list, {
    week,
    timeZone: config.timeZone,
    rules: { maxStories: config.maxStories, maxPerTopic: config.maxPerTopic, minStories: config.minStories },
    now: ctx.clock.now(),
    persist: true,
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
    return (await followApproval(ctx, io, list, week, cronSlotsFor(slot))) ?? `${week}: approved; waits for its send time`;
  }
  if (config.sendMode === 'auto') return send(ctx, io, list, week, 'sent at once (RECAP_SEND_MODE=auto)');
  const deadline = new Date(slot.getTime() + config.approvalDeadlineHours * 3_600_000);
  await setState(ctx, list.id, week, 'awaiting-approval', `deadline ${deadline.toISOString()}`);
  await tellEditors(ctx, io, list, week, { edition: planned.edition, deadline });
  return `${week}: edition #${planned.edition.row.number} waits for approval until ${deadline.toISOString()}; editors told`;
}

/** The slot is known here already: a Slots that answers it, for followApproval's deadline. */
function cronSlotsFor(slot: Date): Slots {
  return { firstAfter: () => slot };
}

async function followApproval(ctx: Context, io: SendIo, list: ListRow, week: string, slots: Slots): Promise<string | null> {
  const edition = await findEdition(ctx.db, list, week, ctx.config.timeZone);
  if (!edition) return null;
  const now = ctx.clock.now();
  const status = edition.row.status;
  if (status === 'cancelled' || status === 'skipped') {
    await setState(ctx, list.id, week, status === 'cancelled' ? 'cancelled' : 'skipped-deadline', null);
    return `${week}: ${status}`;
  }
  if (status === 'approved') {
    if (edition.row.send_at && edition.row.send_at > now.toISOString()) return null;
    return send(ctx, io, list, week, `approved by ${edition.row.approved_by ?? 'an editor'}`);
  }
  if (status === 'sending') return send(ctx, io, list, week, 'resumed');
  if (status === 'sent') {
    await setState(ctx, list.id, week, 'sent', null);
    return `${week}: sent`;
  }
  if (status !== 'draft') return null;
  const slot = slots.firstAfter(new Date(weekWindow(week, ctx.config.timeZone).end));
  const deadline = new Date((slot ?? now).getTime() + ctx.config.approvalDeadlineHours * 3_600_000);
  if (now < deadline) return null;
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
    return `${week}: ${why}; ${report.counts.submitted} submitted, ${report.counts.failed} failed, edition ${status}`;
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
    deadline: about.deadline ? `${about.deadline.toISOString().replace('T', ' ').slice(0, 16)} UTC: ${action}` : null,
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
