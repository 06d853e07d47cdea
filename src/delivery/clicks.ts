// Optional click counting (RECAP_TRACK_CLICKS): a story's links go through a signed redirect on
// `recap serve`, counted per story and per message, never per person. A link says which edition,
// story, format and subject arm it is from (all signed, with the article's URL: the redirect only
// ever goes there), and carries its message's tag: random bytes and when the message was composed,
// spliced in per recipient and stored nowhere else, so a click says "some message of this edition
// composed at T" and nothing about who read it. The tag lets link scanners be told from readers:
// a message that clicked seconds after it was composed, or nearly every link at once, is marked
// and none of its clicks count, wherever counts are read (countedClicks, src/editions/click-weighting.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/connect.ts';
import type { Format } from '../../db/schema.ts';
import { countedClicks } from '../editions/click-weighting.ts';

/** A click this soon after its message was composed is a scanner's: mail filters follow links as the message arrives, readers take longer. */
export const SCANNER_SECONDS = 30;
/**
 * A message that clicked at least this share of its counted links (and SCANNER_MIN_LINKS), all
 * within SCANNER_SPAN_SECONDS, is a scanner's: a reader picks stories, a scanner follows them all
 * in seconds. "Nearly" every link, because a scanner's fetch of one can fail or be skipped; a reader
 * who opens four in five stories within two minutes is lost to the counts, which is rare and cheap.
 */
export const SCANNER_SHARE = 0.8;
export const SCANNER_MIN_LINKS = 3;
export const SCANNER_SPAN_SECONDS = 120;

/** What a counted link says of its message: the variant's format and subject arm (signed) and the message's tag. */
export interface ClickVariant {
  format: Format;
  subjectArm: number | null;
}

/** The variant part of a link: `f` or `b` (the format), then the subject arm's number if any. */
function variantCode(v: ClickVariant): string {
  return (v.format === 'brief' ? 'b' : 'f') + (v.subjectArm === null ? '' : String(v.subjectArm));
}

function sign(secret: string, editionId: number, articleId: number, url: string, variant: string | null): string {
  // Links sent before they carried a variant (`/r/<edition>.<article>.<sig>`) were signed without one.
  const what = variant === null ? `click:${editionId}:${articleId}:${url}` : `click:${editionId}:${articleId}:${variant}:${url}`;
  return createHmac('sha256', secret).update(what).digest('base64url').slice(0, 22);
}

/** A story's counted link in a variant; `tag` is the message's (the per-recipient placeholder when rendering). */
export function clickUrl(baseUrl: string, secret: string, editionId: number, article: { id: number; url: string }, variant: ClickVariant, tag: string): string {
  const code = variantCode(variant);
  return `${baseUrl}/r/${editionId}.${article.id}.${code}.${sign(secret, editionId, article.id, article.url, code)}.${tag}`;
}

export interface ResolvedClick {
  editionId: number;
  articleId: number;
  url: string;
  /** Its message; `tag: ''` for an old link that carried none; null for a tag that is malformed or cannot be (counted nowhere). */
  message: { tag: string; sentAt: string; format: Format; subjectArm: number | null } | null;
}

/** How far a tag's time may lie ahead of the clock (another machine composed it). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Where a click goes, or null for a token that is malformed, forged or stale. */
export async function resolveClick(db: Db, secret: string, token: string, now: Date): Promise<ResolvedClick | null> {
  const m = /^(\d{1,9})\.(\d{1,9})\.(?:([fb])(\d{0,3})\.)?([\w-]{22})(?:\.(.*))?$/.exec(token);
  if (!m) return null;
  const editionId = Number(m[1]);
  const articleId = Number(m[2]);
  const code = m[3] === undefined ? null : `${m[3]}${m[4]}`;
  if (code === null && m[6] !== undefined) return null;
  const found = await db
    .selectFrom('edition_articles as ea')
    .innerJoin('articles as a', 'a.id', 'ea.article_id')
    .innerJoin('editions as e', 'e.id', 'ea.edition_id')
    .select(['a.url', 'e.created_at', 'e.sent_at'])
    .where('ea.edition_id', '=', editionId)
    .where('ea.article_id', '=', articleId)
    .executeTakeFirst();
  if (!found) return null;
  const expected = Buffer.from(sign(secret, editionId, articleId, found.url, code));
  const given = Buffer.from(m[5] as string);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const target = { editionId, articleId, url: found.url };
  if (code === null) return { ...target, message: { tag: '', sentAt: found.sent_at ?? found.created_at, format: 'full', subjectArm: null } };
  // The tag is not signed: a forged one only adds a click of a message that does not exist, as a
  // click would. One that cannot be a message of this edition counts nowhere; the reader still goes.
  const tag = /^([\w-]{12})(\d{1,12})$/.exec(m[6] ?? '');
  const sentAt = tag ? Number(tag[2]) * 1000 : NaN;
  const plausible = sentAt >= Date.parse(found.created_at) - CLOCK_SKEW_MS && sentAt <= now.getTime() + CLOCK_SKEW_MS;
  if (!tag || !plausible) return { ...target, message: null };
  return { ...target, message: { tag: tag[1] as string, sentAt: new Date(sentAt).toISOString(), format: m[3] === 'b' ? 'brief' : 'full', subjectArm: m[4] ? Number(m[4]) : null } };
}

/**
 * Whether a message's clicks are a link scanner's: one came within SCANNER_SECONDS of the message's
 * composition, or it clicked (nearly) every one of its `links` counted links within a short span.
 * `firstClicks` are the first click on each story it clicked.
 */
export function looksLikeScanner(sentAt: string, firstClicks: readonly string[], links: number): boolean {
  const times = firstClicks.map((t) => Date.parse(t));
  if (times.some((t) => t - Date.parse(sentAt) < SCANNER_SECONDS * 1000)) return true;
  const span = Math.max(...times) - Math.min(...times);
  return times.length >= Math.max(SCANNER_MIN_LINKS, Math.ceil(SCANNER_SHARE * links)) && span <= SCANNER_SPAN_SECONDS * 1000;
}

/** Counts a click of a message on a story, and marks the message when it looks like a scanner's. */
export async function recordClick(db: Db, click: ResolvedClick, now: Date): Promise<void> {
  const { message } = click;
  if (!message) return;
  const at = now.toISOString();
  await db
    .insertInto('message_clicks')
    .values({ edition_id: click.editionId, message_tag: message.tag, article_id: click.articleId, format: message.format, subject_arm: message.subjectArm, sent_at: message.sentAt, clicks: 1, first_at: at, last_at: at })
    .onConflict((oc) => oc.columns(['edition_id', 'message_tag', 'article_id']).doUpdateSet((eb) => ({ clicks: eb(eb.ref('message_clicks.clicks'), '+', 1), last_at: at })))
    .execute();
  // Clicks of old links belong to no one message: they cannot be told from a scanner's.
  if (message.tag === '') return;
  // Read after this click was written, so of clicks that come together the last sees them all.
  const rows = await db
    .selectFrom('message_clicks')
    .select(['first_at', 'scanner', 'sent_at'])
    .where('edition_id', '=', click.editionId)
    .where('message_tag', '=', message.tag)
    .execute();
  if (rows.every((r) => Number(r.scanner) === 1)) return;
  const links = await db
    .selectFrom('edition_articles')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('edition_id', '=', click.editionId)
    .executeTakeFirstOrThrow();
  // Every row of a message has its time, but for a forged tag that reuses the random part.
  const sentAt = rows.map((r) => r.sent_at).sort()[0] as string;
  const scanner = rows.some((r) => Number(r.scanner) === 1) || looksLikeScanner(sentAt, rows.map((r) => r.first_at), Number(links.n));
  if (scanner) await db.updateTable('message_clicks').set({ scanner: 1 }).where('edition_id', '=', click.editionId).where('message_tag', '=', message.tag).execute();
}

/** The edition's stories by counted clicks, most read first. */
export async function mostRead(db: Db, editionId: number): Promise<Array<{ title: string; clicks: number }>> {
  const rows = await countedClicks(db)
    .innerJoin('articles as a', 'a.id', 'mc.article_id')
    .select((eb) => ['a.title', eb.fn.sum<number>('mc.clicks').as('clicks')])
    .where('mc.edition_id', '=', editionId)
    .groupBy(['mc.article_id', 'a.title'])
    .orderBy('clicks', 'desc')
    .orderBy('a.title')
    .execute();
  return rows.map((r) => ({ title: r.title, clicks: Number(r.clicks) }));
}

/** Per arm of the edition's subject test: the messages with at least one counted click. */
export async function clickedMessagesByArm(db: Db, editionId: number): Promise<Map<number, number>> {
  const rows = await countedClicks(db)
    .select((eb) => ['mc.subject_arm', eb.fn.count<number>('mc.message_tag').distinct().as('messages')])
    .where('mc.edition_id', '=', editionId)
    .where('mc.subject_arm', 'is not', null)
    .groupBy('mc.subject_arm')
    .execute();
  return new Map(rows.map((r) => [r.subject_arm as number, Number(r.messages)]));
}
