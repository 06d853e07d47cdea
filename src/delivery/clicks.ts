// Optional click counting (RECAP_TRACK_CLICKS): a story's links go through a signed redirect on
// `recap serve`, counted per story and edition, never per person. The signature covers the
// edition, the article and its URL, and the redirect only ever goes to that article's URL.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/connect.ts';

function sign(secret: string, editionId: number, articleId: number, url: string): string {
  return createHmac('sha256', secret).update(`click:${editionId}:${articleId}:${url}`).digest('base64url').slice(0, 22);
}

export function clickUrl(baseUrl: string, secret: string, editionId: number, article: { id: number; url: string }): string {
  return `${baseUrl}/r/${editionId}.${article.id}.${sign(secret, editionId, article.id, article.url)}`;
}

/** The URL to send a click to, or null for a token that is malformed, forged or stale. */
export async function resolveClick(db: Db, secret: string, token: string): Promise<{ editionId: number; articleId: number; url: string } | null> {
  const m = /^(\d{1,9})\.(\d{1,9})\.([\w-]{22})$/.exec(token);
  if (!m) return null;
  const editionId = Number(m[1]);
  const articleId = Number(m[2]);
  const inEdition = await db
    .selectFrom('edition_articles as ea')
    .innerJoin('articles as a', 'a.id', 'ea.article_id')
    .select('a.url')
    .where('ea.edition_id', '=', editionId)
    .where('ea.article_id', '=', articleId)
    .executeTakeFirst();
  if (!inEdition) return null;
  const expected = Buffer.from(sign(secret, editionId, articleId, inEdition.url));
  const given = Buffer.from(m[3] as string);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return { editionId, articleId, url: inEdition.url };
}

export async function countClick(db: Db, editionId: number, articleId: number, now: Date): Promise<void> {
  const at = now.toISOString();
  await db
    .insertInto('clicks')
    .values({ edition_id: editionId, article_id: articleId, clicks: 1, first_at: at, last_at: at })
    .onConflict((oc) => oc.columns(['edition_id', 'article_id']).doUpdateSet((eb) => ({ clicks: eb(eb.ref('clicks.clicks'), '+', 1), last_at: at })))
    .execute();
}

/** The edition's stories by clicks, most read first. */
export async function mostRead(db: Db, editionId: number): Promise<Array<{ title: string; clicks: number }>> {
  return db
    .selectFrom('clicks as c')
    .innerJoin('articles as a', 'a.id', 'c.article_id')
    .select(['a.title', 'c.clicks'])
    .where('c.edition_id', '=', editionId)
    .orderBy('c.clicks', 'desc')
    .orderBy('a.title')
    .execute();
}

/** Per arm of the edition's subject test: the messages with at least one counted click. */
export async function clickedMessagesByArm(db: Db, editionId: number): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('message_clicks')
    .select((eb) => ['subject_arm', eb.fn.count<number>('message_tag').distinct().as('messages')])
    .where('edition_id', '=', editionId)
    .where('subject_arm', 'is not', null)
    .groupBy('subject_arm')
    .execute();
  return new Map(rows.map((r) => [r.subject_arm as number, Number(r.messages)]));
}
