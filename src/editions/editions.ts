// An edition freezes one week's selection for a list: the stories in order (with the blurbs the
// editors changed for it, and their own items among them), the subject, preheader and editor's
// note. It is made once per list and week; later imports do not change it.
import type { Db } from '../../db/connect.ts';
import type { EditionRow, ListRow } from '../../db/schema.ts';
import { noAnalysis, type StoredArticle, tldrSchema } from '../articles/article.ts';
import { articlesByIds, articlesCollectedBetween } from '../articles/repository.ts';
import { plainText } from '../plain-text.ts';
import { leadPreheader, leadSubject, oneLine } from '../render/headline.ts';
import type { EditionForRender } from '../render/variant.ts';
import { clickWeightingOn, recentTopicClicks } from './click-weighting.ts';
import { storyFactor, topicWeights, weighted } from './click-weights.ts';
import { primaryTopic, type SelectionRules, selectStories } from './select.ts';
import { type WeekWindow, weekWindow } from './week.ts';

/** An editor's item: a link with a title and a line, placed among the stories. */
export interface EditorItem {
  id: number;
  title: string;
  url: string;
  line: string;
  /** How many stories come before it in the order (0: at the top). */
  after: number;
}

export interface Edition {
  row: EditionRow;
  list: ListRow;
  window: WeekWindow;
  /** The frozen order of the articles, index 0 the top story, each with this edition's blurb. */
  stories: StoredArticle[];
  items: EditorItem[];
  /** Articles whose hook or TL;DR was changed for this edition (the stored article is untouched). */
  edited: Set<number>;
}

export type PlannedEdition =
  | { ok: true; edition: Edition; created: boolean }
  | { ok: false; reason: string; window: WeekWindow; found: number };

export interface EditionOptions {
  week: string;
  timeZone: string;
  rules: SelectionRules;
  now: Date;
  editorNote?: string | undefined;
  subject?: string | undefined;
  /** RECAP_TRACK_CLICKS: the list's click weighting (the desk's switch) applies to a new edition. */
  trackClicks?: boolean | undefined;
}

/**
 * The edition of `week`: the stored one, or a new one made from the week's articles. With
 * `persist: false` (a dry run) a new edition is planned but not saved.
 */
export async function ensureEdition(db: Db, list: ListRow, options: EditionOptions & { persist: boolean }): Promise<PlannedEdition> {
  const window = weekWindow(options.week, options.timeZone);
  const existing = await findEdition(db, list, window.week, options.timeZone);
  if (existing) return { ok: true, edition: existing, created: false };

  const candidates = await articlesCollectedBetween(db, window.start, window.end);
  // Click rates of the recent editions weigh the scores (frozen with the edition, as recorded).
  const weights = options.trackClicks && (await clickWeightingOn(db, list.id)) ? topicWeights(await recentTopicClicks(db, list.id, window.start)) : null;
  const selection = selectStories(weights ? weighted(candidates, weights) : candidates, options.rules);
  if (!selection.ok) return { ok: false, reason: selection.reason, window, found: candidates.length };
  // The stories as stored, with their own scores.
  const byId = new Map(candidates.map((c) => [c.id, c]));
  const stories = selection.stories.map((s) => byId.get(s.id) as StoredArticle);
  const top = stories[0] as StoredArticle;
  const at = options.now.toISOString();
  const last = await db
    .selectFrom('editions')
    .select((eb) => eb.fn.max('number').as('n'))
    .where('list_id', '=', list.id)
    .executeTakeFirst();
  const number = Number(last?.n ?? 0) + 1;
  const values = {
    list_id: list.id,
    week: window.week,
    number,
    status: 'draft' as const,
    subject: options.subject ? oneLine(options.subject, 200) : leadSubject(top),
    subject_by_hand: options.subject ? 1 : 0,
    preheader: leadPreheader(top),
    preheader_by_hand: 0,
    pinned_article_id: null,
    editor_note: options.editorNote ? plainText(options.editorNote) || null : null,
    starts_at: window.start,
    ends_at: window.end,
    created_at: at,
    updated_at: at,
    sent_at: null,
    paused_reason: null,
    approved_at: null,
    approved_by: null,
    send_at: null,
  };
  if (!options.persist) {
    return { ok: true, created: false, edition: { row: { ...values, id: 0 }, list, window, stories, items: [], edited: new Set() } };
  }
  const created = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('editions')
      .values(values)
      .onConflict((oc) => oc.columns(['list_id', 'week']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined; // another process made it first
    await trx
      .insertInto('edition_articles')
      .values(stories.map((s, position) => ({ edition_id: row.id, article_id: s.id, position, click_factor: weights ? storyFactor(weights, s) : null })))
      .execute();
    if (weights && weights.length > 0) await trx.insertInto('edition_topic_clicks').values(weights.map((w) => ({ edition_id: row.id, ...w }))).execute();
    return row;
  });
  if (!created) {
    const raced = await findEdition(db, list, window.week, options.timeZone);
    if (!raced) throw new Error(`edition ${window.week} vanished while it was being made`);
    return { ok: true, edition: raced, created: false };
  }
  return { ok: true, edition: { row: created, list, window, stories, items: [], edited: new Set() }, created: true };
}

export async function findEdition(db: Db, list: ListRow, week: string, timeZone: string): Promise<Edition | undefined> {
  const row = await db.selectFrom('editions').selectAll().where('list_id', '=', list.id).where('week', '=', week).executeTakeFirst();
  if (!row) return undefined;
  return loadEdition(db, row, list, timeZone);
}

/** An edition row with its stories (this edition's blurbs applied) and editor's items, in order. */
export async function loadEdition(db: Db, row: EditionRow, list: ListRow, timeZone: string): Promise<Edition> {
  const order = await db
    .selectFrom('edition_articles')
    .select(['article_id', 'position', 'hook', 'tldr'])
    .where('edition_id', '=', row.id)
    .orderBy('position')
    .execute();
  const articles = await articlesByIds(db, order.map((o) => o.article_id));
  const edited = new Set<number>();
  const stories = articles.map((article, i) => {
    const own = order[i] as (typeof order)[number];
    if (own.hook === null && own.tldr === null) return article;
    edited.add(article.id);
    return { ...article, ...(own.hook !== null ? { hook: own.hook } : {}), ...(own.tldr !== null ? { tldr: tldrSchema.parse(JSON.parse(own.tldr)) } : {}) };
  });
  const itemRows = await db.selectFrom('edition_items').selectAll().where('edition_id', '=', row.id).orderBy('position').execute();
  const items = itemRows.map((r) => ({ id: r.id, title: r.title, url: r.url, line: r.line, after: order.filter((o) => o.position < r.position).length }));
  return { row, list, window: weekWindow(row.week, timeZone), stories, items, edited };
}

/** The whole order: stories and editor's items as they follow each other. */
export type Entry = { kind: 'story'; story: StoredArticle } | { kind: 'item'; item: EditorItem };

export function editionEntries(edition: Pick<Edition, 'stories' | 'items'>): Entry[] {
  const entries: Entry[] = [];
  const place = (after: number) => {
    for (const item of edition.items) if (item.after === after) entries.push({ kind: 'item', item });
  };
  place(0);
  edition.stories.forEach((story, i) => {
    entries.push({ kind: 'story', story });
    place(i + 1);
  });
  return entries;
}

/**
 * An editor's item as the template shows a story. It takes the topic of the story above it, so
 * it sits right after that story in whatever section the variant puts it.
 */
function itemAsStory(item: EditorItem, above: StoredArticle | undefined, list: ListRow): StoredArticle {
  const topic = above ? primaryTopic(above) : '';
  return {
    // A negative id: no article has it, so its link is not counted as a story's click.
    id: -item.id,
    title: item.title,
    url: item.url,
    source: { name: `${list.name}'s editors`, url: null },
    publishedAt: null,
    collectedAt: above?.collectedAt ?? new Date(0).toISOString(),
    topics: topic ? [topic] : [],
    hook: item.line,
    score: above?.score ?? 0,
    tldr: null,
    ...noAnalysis(),
  } as StoredArticle;
}

/** Changes a draft's editor's note or subject; a sending or sent edition is frozen. */
export async function updateDraft(db: Db, edition: Edition, changes: { editorNote?: string | undefined; subject?: string | undefined }, now: Date): Promise<Edition> {
  const note = changes.editorNote === undefined ? undefined : plainText(changes.editorNote) || null;
  const subject = changes.subject === undefined ? undefined : oneLine(changes.subject, 200);
  const changed = (note !== undefined && note !== edition.row.editor_note) || (subject !== undefined && subject !== edition.row.subject);
  if (!changed) return edition;
  if (edition.row.status !== 'draft') {
    throw new Error(`edition ${edition.row.week} is ${edition.row.status}; only a draft can be changed`);
  }
  const row = await db
    .updateTable('editions')
    .set({
      ...(note !== undefined ? { editor_note: note } : {}),
      ...(subject !== undefined ? { subject, subject_by_hand: 1 } : {}),
      updated_at: now.toISOString(),
    })
    .where('id', '=', edition.row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...edition, row };
}

export function editionForRender(edition: Edition): EditionForRender {
  return {
    listName: edition.list.name,
    number: edition.row.number,
    week: edition.row.week,
    dateRange: edition.window.label,
    subject: edition.row.subject_by_hand ? edition.row.subject : null,
    preheader: edition.row.preheader_by_hand ? edition.row.preheader : null,
    pinnedId: edition.row.pinned_article_id,
    editorNote: edition.row.editor_note,
    stories: renderOrder(edition),
  };
}

/** The stories with the editor's items among them, as the templates show them. */
function renderOrder(edition: Edition): StoredArticle[] {
  let above: StoredArticle | undefined;
  return editionEntries(edition).map((entry) => {
    if (entry.kind === 'story') return (above = entry.story);
    return itemAsStory(entry.item, above, edition.list);
  });
}

/** Topics of the edition's stories: what variants can lead with. */
export function editionTopics(edition: Edition): Set<string> {
  return new Set(edition.stories.flatMap((s) => s.topics));
}
