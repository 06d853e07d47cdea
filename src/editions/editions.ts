// An edition freezes one week's selection for a list: the stories in order, the subject, preheader
// and editor's note. It is made once per list and week; later imports do not change it.
import type { Db } from '../../db/connect.ts';
import type { EditionRow, ListRow } from '../../db/schema.ts';
import type { StoredArticle } from '../articles/article.ts';
import { articlesByIds, articlesCollectedBetween } from '../articles/repository.ts';
import { headerSafe, plainText } from '../plain-text.ts';
import type { EditionForRender } from '../render/variant.ts';
import { type SelectionRules, selectStories } from './select.ts';
import { type WeekWindow, weekWindow } from './week.ts';

export interface Edition {
  row: EditionRow;
  list: ListRow;
  window: WeekWindow;
  /** The frozen order: index 0 is the top story. */
  stories: StoredArticle[];
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
}

/** Subject and preheader are header-like: one line, no control characters, bounded. */
function oneLine(value: string, max: number): string {
  const line = headerSafe(value);
  return line.length <= max ? line : `${line.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
}

export function defaultPreheader(top: StoredArticle): string {
  return oneLine(top.hook || top.title, 150);
}

export function defaultSubject(list: ListRow, number: number, top: StoredArticle): string {
  return oneLine(`${list.name} #${number}: ${top.title}`, 120);
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
  const selection = selectStories(candidates, options.rules);
  if (!selection.ok) return { ok: false, reason: selection.reason, window, found: candidates.length };
  const stories = selection.stories;
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
    subject: options.subject ? oneLine(options.subject, 200) : defaultSubject(list, number, top),
    preheader: defaultPreheader(top),
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
    return { ok: true, created: false, edition: { row: { ...values, id: 0 }, list, window, stories } };
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
      .values(stories.map((s, position) => ({ edition_id: row.id, article_id: s.id, position })))
      .execute();
    return row;
  });
  if (!created) {
    const raced = await findEdition(db, list, window.week, options.timeZone);
    if (!raced) throw new Error(`edition ${window.week} vanished while it was being made`);
    return { ok: true, edition: raced, created: false };
  }
  return { ok: true, edition: { row: created, list, window, stories }, created: true };
}

export async function findEdition(db: Db, list: ListRow, week: string, timeZone: string): Promise<Edition | undefined> {
  const row = await db.selectFrom('editions').selectAll().where('list_id', '=', list.id).where('week', '=', week).executeTakeFirst();
  if (!row) return undefined;
  const order = await db
    .selectFrom('edition_articles')
    .select('article_id')
    .where('edition_id', '=', row.id)
    .orderBy('position')
    .execute();
  return { row, list, window: weekWindow(week, timeZone), stories: await articlesByIds(db, order.map((o) => o.article_id)) };
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
      ...(subject !== undefined ? { subject } : {}),
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
    preheader: edition.row.preheader,
    editorNote: edition.row.editor_note,
    stories: edition.stories,
  };
}

/** Topics of the edition's stories: what variants can lead with. */
export function editionTopics(edition: Edition): Set<string> {
  return new Set(edition.stories.flatMap((s) => s.topics));
}
