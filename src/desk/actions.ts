// What editors do to an edition before it goes out. Used by the desk pages and by `recap edition …`
// alike, so both change an edition the same way.
import type { Db } from '../../db/connect.ts';
import { httpUrl, type StoredArticle, tldrSchema } from '../articles/article.ts';
import { headerSafe, plainText } from '../plain-text.ts';
import { TransitionError } from '../delivery/control.ts';
import { type Edition, editionEntries } from '../editions/editions.ts';
import { leadPreheader, leadSubject, oneLine } from '../render/headline.ts';
import { arrangeVariant } from '../render/arrange.ts';

function requireDraft(edition: Edition): void {
  if (edition.row.status !== 'draft') throw new TransitionError(`edition ${edition.row.week} is ${edition.row.status}; only a draft can be changed`);
}

export const STORY_MOVES = ['up', 'down', 'pin', 'unpin', 'exclude'] as const;
export type StoryMove = (typeof STORY_MOVES)[number];

/** One place in the order: a story (its article id), an editor's item (its id), or an item being added. */
type Entry = { kind: 'story'; id: number } | { kind: 'item'; id: number };
type Place = Entry | { kind: 'new'; title: string; url: string; line: string };

/**
 * Writes the whole order, stories and items in one sequence of positions, in one transaction:
 * items left out are deleted, new ones inserted. The top is a story's place: items before the
 * first story move after it. The subject and preheader, unless the editor wrote them, follow the
 * full edition's new lead.
 */
async function writeOrder(db: Db, edition: Edition, order: Place[], pinned: number | null, now: Date): Promise<void> {
  const firstStory = order.findIndex((p) => p.kind === 'story');
  const places = firstStory > 0 ? [order[firstStory] as Place, ...order.slice(0, firstStory), ...order.slice(firstStory + 1)] : order;
  const leadId = pinned ?? (places[0] as { id: number }).id;
  const lead = edition.stories.find((s) => s.id === leadId) as StoredArticle;
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    // This edition's blurbs go with their stories to their new positions.
    const blurbs = new Map<number, { hook: string | null; tldr: string | null }>();
    const stored = await trx.selectFrom('edition_articles').select(['article_id', 'hook', 'tldr']).where('edition_id', '=', edition.row.id).execute();
    for (const r of stored) blurbs.set(r.article_id, { hook: r.hook, tldr: r.tldr });
    await trx.deleteFrom('edition_articles').where('edition_id', '=', edition.row.id).execute();
    const stories = places.flatMap((p, position) => (p.kind === 'story' ? [{ edition_id: edition.row.id, article_id: p.id, position, ...(blurbs.get(p.id) ?? {}) }] : []));
    await trx.insertInto('edition_articles').values(stories).execute();
    const kept = places.flatMap((p) => (p.kind === 'item' ? [p.id] : []));
    await trx.deleteFrom('edition_items').where('edition_id', '=', edition.row.id).$if(kept.length > 0, (q) => q.where('id', 'not in', kept)).execute();
    for (const [position, p] of places.entries()) {
      if (p.kind === 'item') await trx.updateTable('edition_items').set({ position }).where('id', '=', p.id).where('edition_id', '=', edition.row.id).execute();
      if (p.kind === 'new') await trx.insertInto('edition_items').values({ edition_id: edition.row.id, position, title: p.title, url: p.url, line: p.line, created_at: at }).execute();
    }
    await trx
      .updateTable('editions')
      .set({
        pinned_article_id: pinned,
        ...(edition.row.subject_by_hand ? {} : { subject: leadSubject(lead) }),
        ...(edition.row.preheader_by_hand ? {} : { preheader: leadPreheader(lead) }),
        updated_at: at,
      })
      .where('id', '=', edition.row.id)
      .execute();
  });
}

function places(edition: Edition): Place[] {
  return editionEntries(edition).map((e) => (e.kind === 'story' ? { kind: 'story', id: e.story.id } : { kind: 'item', id: e.item.id }));
}

/**
 * Reorders a draft: a story or an editor's item one place up or down, or out; a story pinned
 * (first in the order, and the lead of every variant whatever its readers follow) or unpinned
 * (it stays first; variants lead with their readers' topics again). A move that puts another
 * story above the pinned one ends the pin.
 */
export async function moveEntry(db: Db, edition: Edition, what: Entry, move: StoryMove, now: Date): Promise<void> {
  requireDraft(edition);
  if (!STORY_MOVES.includes(move)) throw new TransitionError(`move: "${move}" is not one of ${STORY_MOVES.join(', ')}`);
  const order = places(edition);
  const at = order.findIndex((p) => p.kind === what.kind && 'id' in p && p.id === what.id);
  if (at < 0) throw new TransitionError(`${what.kind === 'story' ? 'article' : 'item'} ${what.id} is not in edition ${edition.row.week}`);
  if (what.kind === 'item' && (move === 'pin' || move === 'unpin')) throw new TransitionError("an editor's item cannot be pinned");
  if (move === 'exclude' && what.kind === 'story' && edition.stories.length === 1) throw new TransitionError('an edition needs at least one story');
  let pinned = edition.row.pinned_article_id;
  if (move === 'unpin') pinned = null;
  else {
    const [place] = order.splice(at, 1) as [Place];
    const to = move === 'up' ? Math.max(0, at - 1) : move === 'down' ? Math.min(order.length, at + 1) : move === 'pin' ? 0 : -1;
    if (to >= 0) order.splice(to, 0, place);
    if (move === 'pin') pinned = what.id;
  }
  const first = order.find((p) => p.kind === 'story') as { id: number } | undefined;
  if (pinned !== null && first?.id !== pinned) pinned = null;
  await writeOrder(db, edition, order, pinned, now);
}

/** The article-only view of moveEntry, as `recap edition pin|up|down|exclude --article` uses it. */
export async function moveStory(db: Db, edition: Edition, articleId: number, move: StoryMove, now: Date): Promise<void> {
  await moveEntry(db, edition, { kind: 'story', id: articleId }, move, now);
}

/**
 * Subject and preheader. Left empty, or as the full edition's top story would have them, they are
 * not the editor's: each variant then follows its own top story. Anything else is, for every variant.
 */
export async function updateDetails(db: Db, edition: Edition, details: { subject: string; preheader: string; editorNote: string }, now: Date): Promise<void> {
  requireDraft(edition);
  const lead = fullEditionLead(edition);
  const subject = oneLine(details.subject, 200);
  const preheader = oneLine(details.preheader, 200);
  const subjectByHand = subject !== '' && subject !== leadSubject(lead);
  const preheaderByHand = preheader !== '' && preheader !== leadPreheader(lead);
  await db
    .updateTable('editions')
    .set({
      subject: subjectByHand ? subject : leadSubject(lead),
      subject_by_hand: subjectByHand ? 1 : 0,
      preheader: preheaderByHand ? preheader : leadPreheader(lead),
      preheader_by_hand: preheaderByHand ? 1 : 0,
      editor_note: plainText(details.editorNote).slice(0, 2000) || null,
      updated_at: now.toISOString(),
    })
    .where('id', '=', edition.row.id)
    .execute();
}

/** The story the full edition leads with (the pinned one, else the first). */
function fullEditionLead(edition: Edition): StoredArticle {
  return arrangeVariant(edition.stories, [], edition.row.pinned_article_id).lead;
}

export interface Blurb {
  hook: string;
  tldr: { whatChanged: string; whyItMatters: string; whatToDoNext: string; whoShouldCare: string } | null;
}

/**
 * A story's hook and TL;DR as this edition shows them; the stored article stays as the aggregator
 * wrote it. `null` restores the article's own.
 */
export async function editBlurb(db: Db, edition: Edition, articleId: number, blurb: Blurb | null, now: Date): Promise<void> {
  requireDraft(edition);
  if (!edition.stories.some((s) => s.id === articleId)) throw new TransitionError(`article ${articleId} is not in edition ${edition.row.week}`);
  let values: { hook: string | null; tldr: string | null } = { hook: null, tldr: null };
  if (blurb) {
    const hook = plainText(blurb.hook).trim().slice(0, 600);
    if (!hook) throw new TransitionError(`article ${articleId}: hook: cannot be empty`);
    let tldr: string | null = null;
    if (blurb.tldr) {
      const parsed = tldrSchema.safeParse(Object.fromEntries(Object.entries(blurb.tldr).map(([k, v]) => [k, plainText(v).trim()])));
      if (!parsed.success) throw new TransitionError(`article ${articleId}: TL;DR: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      tldr = JSON.stringify(parsed.data);
    }
    values = { hook, tldr };
  }
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('edition_articles').set(values).where('edition_id', '=', edition.row.id).where('article_id', '=', articleId).execute();
    await trx.updateTable('editions').set({ updated_at: now.toISOString() }).where('id', '=', edition.row.id).execute();
  });
}

/** Adds an editor's item (a link with a title and a line) after the first `after` entries of the order. */
export async function addItem(db: Db, edition: Edition, item: { title: string; url: string; line: string; after: number }, now: Date): Promise<void> {
  requireDraft(edition);
  const title = oneLine(item.title, 300);
  const line = plainText(item.line).trim().slice(0, 600);
  const url = httpUrl.safeParse(item.url.trim());
  if (!title) throw new TransitionError("editor's item: title: cannot be empty");
  if (!url.success) throw new TransitionError(`editor's item: url: ${url.error.issues[0]?.message ?? 'is not an http(s) URL'}`);
  const order = places(edition);
  if (!Number.isInteger(item.after) || item.after < 1 || item.after > order.length) throw new TransitionError(`editor's item: position: must be between 1 and ${order.length} (the top is a story's place)`);
  order.splice(item.after, 0, { kind: 'new', title, url: url.data, line });
  await writeOrder(db, edition, order, edition.row.pinned_article_id, now);
}

/** Approves a draft; it goes out at the next scheduler tick, or at `sendAt`. */
export async function approveEdition(db: Db, edition: Edition, by: string, sendAt: Date | null, now: Date): Promise<void> {
  requireDraft(edition);
  if (sendAt && Number.isNaN(sendAt.getTime())) throw new TransitionError('the send time is not a valid time');
  const r = await db
    .updateTable('editions')
    .set({ status: 'approved', approved_at: now.toISOString(), approved_by: headerSafe(by).slice(0, 200), send_at: sendAt?.toISOString() ?? null, updated_at: now.toISOString() })
    .where('id', '=', edition.row.id)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new TransitionError(`edition ${edition.row.week} changed meanwhile; look again`);
}

/**
 * Back to draft: possible until the send starts. The check and the change are one statement, so a
 * scheduler that has just started the send (status `sending`) wins and the editor is told.
 */
export async function backToDraft(db: Db, edition: Edition, now: Date): Promise<void> {
  const r = await db
    .updateTable('editions')
    .set({ status: 'draft', approved_at: null, approved_by: null, send_at: null, updated_at: now.toISOString() })
    .where('id', '=', edition.row.id)
    .where('status', '=', 'approved')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) {
    const row = await db.selectFrom('editions').select('status').where('id', '=', edition.row.id).executeTakeFirstOrThrow();
    throw new TransitionError(`edition ${edition.row.week} is ${row.status}; only an approved edition that has not started sending goes back to draft`);
  }
}
