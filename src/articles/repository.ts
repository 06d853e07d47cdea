// Articles in the database: upsert on the canonical URL, and read a week's worth back.
import type { Db } from '../../db/connect.ts';
import type { ArticleRow } from '../../db/schema.ts';
import type { Article, ArticleContent, StoredArticle } from './article.ts';
import { canonicalUrl } from './canonical-url.ts';

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** Inserts or updates one article and its topics in one transaction; an identical re-import writes nothing. */
export async function upsertArticle(db: Db, article: Article, now: Date): Promise<UpsertOutcome> {
  const key = canonicalUrl(article.url);
  const content: ArticleContent = {
    analysisLabel: article.analysisLabel,
    tldr: article.tldr,
    takeaways: article.takeaways,
    competitors: article.competitors,
    deepDive: article.deepDive,
    predictions: article.predictions,
    timeline: article.timeline,
  };
  const fields = {
    url: article.url,
    title: article.title,
    source_name: article.source.name,
    source_url: article.source.url ?? null,
    published_at: article.publishedAt ?? null,
    hook: article.hook,
    score: article.score,
    content: JSON.stringify(content),
    updated_at: now.toISOString(),
  };
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('articles').selectAll().where('canonical_url', '=', key).executeTakeFirst();
    let id: number;
    if (existing) {
      id = existing.id;
      // An article is collected once: a later re-import (a feed polled again) keeps the first time.
      const collected = article.collectedAt < existing.collected_at ? article.collectedAt : existing.collected_at;
      const topics = await trx.selectFrom('article_topics').select('topic').where('article_id', '=', id).orderBy('position').execute();
      const same =
        collected === existing.collected_at &&
        topics.map((t) => t.topic).join(',') === article.topics.join(',') &&
        (['url', 'title', 'source_name', 'source_url', 'published_at', 'hook', 'score', 'content'] as const).every((f) => fields[f] === existing[f]);
      if (same) return 'unchanged';
      await trx.updateTable('articles').set({ ...fields, collected_at: collected }).where('id', '=', id).execute();
      await trx.deleteFrom('article_topics').where('article_id', '=', id).execute();
    } else {
      const row = await trx
        .insertInto('articles')
        .values({ ...fields, canonical_url: key, collected_at: article.collectedAt, created_at: now.toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      id = row.id;
    }
    if (article.topics.length > 0) {
      await trx
        .insertInto('article_topics')
        .values(article.topics.map((topic, position) => ({ article_id: id, topic, position })))
        .execute();
    }
    return existing ? 'updated' : 'inserted';
  });
}

/** Articles collected in [start, end), with their topics in order, oldest first. */
export async function articlesCollectedBetween(db: Db, start: string, end: string): Promise<StoredArticle[]> {
  const rows = await db
    .selectFrom('articles')
    .selectAll()
    .where('collected_at', '>=', start)
    .where('collected_at', '<', end)
    .orderBy('collected_at')
    .orderBy('id')
    .execute();
  return withTopics(db, rows);
}

/** Articles by id, in the order of `ids`. */
export async function articlesByIds(db: Db, ids: number[]): Promise<StoredArticle[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('articles').selectAll().where('id', 'in', ids).execute();
  const byId = new Map((await withTopics(db, rows)).map((a) => [a.id, a]));
  return ids.map((id) => {
    const article = byId.get(id);
    if (!article) throw new Error(`article ${id} is missing`);
    return article;
  });
}

async function withTopics(db: Db, rows: ArticleRow[]): Promise<StoredArticle[]> {
  if (rows.length === 0) return [];
  const topics = await db
    .selectFrom('article_topics')
    .select(['article_id', 'topic'])
    .where('article_id', 'in', rows.map((r) => r.id))
    .orderBy('article_id')
    .orderBy('position')
    .execute();
  const byArticle = new Map<number, string[]>();
  for (const t of topics) byArticle.set(t.article_id, [...(byArticle.get(t.article_id) ?? []), t.topic]);
  return rows.map((r) => {
    const content = JSON.parse(r.content) as ArticleContent;
    return {
      id: r.id,
      title: r.title,
      url: r.url,
      source: { name: r.source_name, url: r.source_url },
      publishedAt: r.published_at,
      collectedAt: r.collected_at,
      topics: byArticle.get(r.id) ?? [],
      hook: r.hook,
      score: r.score,
      ...content,
      // Content stored before the label existed has none.
      analysisLabel: content.analysisLabel ?? null,
    };
  });
}
