// The weekly job, top to bottom: the week's stored articles become an edition, the edition's
// audience becomes delivery rows, and each delivery is submitted with its variant.
//
//   articles ──► edition (selected, frozen) ──► deliveries (one INSERT … SELECT) ──► variants ──► send
import { WEEKLY_AI_RECAP } from '../db/migrations/0001_initial.ts';
import type { DeliveryStatus, EditionStatus } from '../db/schema.ts';
import { findList } from './audience/lists.ts';
import { findSegment, type SegmentRules } from './audience/segments.ts';
import type { Context } from './context.ts';
import { enqueueDeliveries } from './delivery/enqueue.ts';
import { deliveryCounts, type SendDeps, type SendOutcome, sendEdition } from './delivery/send.ts';
import type { Transport } from './delivery/transport.ts';
import { audienceByVariant } from './delivery/variants.ts';
import { type Edition, editionForRender, editionTopics, ensureEdition, updateDraft } from './editions/editions.ts';
import type { WeekWindow } from './editions/week.ts';
import { type RenderedVariant, renderVariant } from './render/variant.ts';

export interface WeeklyOptions {
  week: string;
  segment?: string | undefined;
  dryRun?: boolean;
  editorNote?: string | undefined;
  subject?: string | undefined;
}

/** How the run reaches the outside world: the transport, the signing secret, waiting and logging. */
export interface SendIo extends Pick<SendDeps, 'secret' | 'sleep' | 'log' | 'onProgress' | 'signal' | 'waitForRetries'> {
  transport: () => Transport;
  /** Draws a subject test's sample; Math.random unless a test seeds it. */
  random?: () => number;
}

export type WeeklyReport =
  | { kind: 'too-few-stories'; window: WeekWindow; reason: string }
  | { kind: 'dry-run'; edition: Edition; variants: Array<{ rendered: RenderedVariant; recipients: number }> }
  | {
      kind: 'sent';
      edition: Edition;
      created: boolean;
      enqueued: number;
      outcome: SendOutcome;
      counts: Record<DeliveryStatus, number>;
      target: string;
    };

/** Statuses from which an edition may (still) be sent; a paused one needs `recap digest resume`. */
const SENDABLE: EditionStatus[] = ['draft', 'approved', 'sending', 'sent'];

export class EditionStateError extends Error {
  override name = 'EditionStateError';
}

export async function runWeeklyRecap(ctx: Context, io: SendIo, options: WeeklyOptions): Promise<WeeklyReport> {
  const { db, config, clock } = ctx;

  // 1. The list, and the segment of it this run sends to.
  const list = await findList(db, WEEKLY_AI_RECAP.slug);
  const rules = await segmentRules(ctx, list.id, options.segment);

  // 2. The edition: selected and frozen on the first run for this week, reused afterwards.
  const planned = await ensureEdition(db, list, {
    week: options.week,
    timeZone: config.timeZone,
    rules: { maxStories: config.maxStories, maxPerTopic: config.maxPerTopic, minStories: config.minStories },
    now: clock.now(),
    editorNote: options.editorNote,
    subject: options.subject,
    persist: !options.dryRun,
    trackClicks: config.trackClicks,
  });
  if (!planned.ok) return { kind: 'too-few-stories', window: planned.window, reason: planned.reason };
  let edition = planned.edition;

  // 3. A dry run renders what would go out, writes nothing and sends nothing.
  if (options.dryRun) {
    const audience = await audienceByVariant(db, edition, editionTopics(edition), rules);
    const variants = [];
    for (const [key, recipients] of audience) {
      variants.push({ rendered: await renderVariant(editionForRender(edition), key, renderSettings(ctx)), recipients });
    }
    return { kind: 'dry-run', edition, variants };
  }
  if (!planned.created) edition = await updateDraft(db, edition, options, clock.now());
  if (!SENDABLE.includes(edition.row.status)) {
    const why = edition.row.paused_reason ? ` (${edition.row.paused_reason})` : '';
    const hint = edition.row.status === 'paused' ? `; run \`${commandToGoOn('paused', { week: edition.row.week, segment: options.segment })}\`` : '';
    throw new EditionStateError(`edition ${edition.row.week} is ${edition.row.status}${why}${hint}`);
  }

  // 4. One delivery row per eligible subscriber, made in SQL; a re-run adds only newcomers (a sent
  // edition stays sent while they get their copy). With RECAP_LOCAL_SEND_TIME each row waits for
  // its reader's wave (src/delivery/waves.ts).
  if (edition.row.status !== 'sent') edition = await setStatus(ctx, edition, 'sending');
  const enqueued = await enqueueDeliveries(db, edition, rules, clock.now(), config, { random: io.random });

  // 5–6. Send, and mark the edition sent once nothing is left to try.
  return { kind: 'sent', created: planned.created, enqueued, ...(await sendQueued(ctx, io, edition)) };
}

/**
 * 5. Submit every due delivery with its variant, rendered once per set of topics; retry the
 *    deferred ones as they come due; account for every one. Other senders may work on the same
 *    edition meanwhile (`recap worker`, send.ts).
 * 6. Nothing left to try: the edition is sent (uncertain deliveries are reported, not retried),
 *    by whichever sender finds so last; rows waiting for a later wave are still to try.
 */
export async function sendQueued(ctx: Context, io: SendIo, queued: Edition): Promise<{ edition: Edition; outcome: SendOutcome; counts: Record<DeliveryStatus, number>; target: string }> {
  const { db, config, clock } = ctx;
  const target = io.transport();
  let outcome: SendOutcome;
  try {
    outcome = await sendEdition({ ...io, db, config, clock, transport: target }, queued);
  } finally {
    await target.close();
  }
  const counts = await deliveryCounts(db, queued.row.id);
  let edition = await reloadStatus(ctx, queued);
  if (counts.queued + counts.deferred + counts.claimed === 0 && (edition.row.status === 'sending' || edition.row.status === 'sent')) {
    edition = await setStatus(ctx, edition, 'sent');
  }
  return { edition, outcome, counts, target: target.target };
}

/**
 * The command that goes on from where a stopped send left the edition: a paused edition needs
 * `digest resume` (`digest send` refuses it), one still sending needs `digest send` (`digest
 * resume` refuses it); a cancelled one goes no further. The segment, if any, comes along.
 */
export function commandToGoOn(status: EditionStatus, opts: { week: string; segment?: string | undefined; wait?: boolean | undefined }): string | null {
  const segment = opts.segment ? ` --segment ${opts.segment}` : '';
  if (status === 'paused') return `recap digest resume --week ${opts.week}${segment}`;
  if (status === 'cancelled') return null;
  return `recap digest send --week ${opts.week}${segment}${opts.wait === false ? ' --no-wait' : ''}`;
}

async function reloadStatus(ctx: Context, edition: Edition): Promise<Edition> {
  const row = await ctx.db.selectFrom('editions').selectAll().where('id', '=', edition.row.id).executeTakeFirstOrThrow();
  return { ...edition, row };
}

async function segmentRules(ctx: Context, listId: number, name: string | undefined): Promise<SegmentRules | undefined> {
  if (!name) return undefined;
  const segment = await findSegment(ctx.db, name);
  if (segment.list_id !== listId) throw new Error(`segment "${name}" belongs to another list`);
  return segment.parsedRules;
}

export function renderSettings(ctx: Context) {
  return { baseUrl: ctx.config.baseUrl, postalAddress: ctx.config.postalAddress };
}

export async function setStatus(ctx: Context, edition: Edition, status: EditionStatus): Promise<Edition> {
  if (edition.row.status === status) return edition;
  const at = ctx.clock.now().toISOString();
  const row = await ctx.db
    .updateTable('editions')
    .set({ status, updated_at: at, paused_reason: null, ...(status === 'sent' ? { sent_at: edition.row.sent_at ?? at } : {}) })
    .where('id', '=', edition.row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...edition, row };
}
