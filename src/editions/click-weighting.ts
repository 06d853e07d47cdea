// The database side of click weighting (src/editions/click-weights.ts): the counts it is computed
// from, the desk's switch per list, and what an edition recorded when it was made.
import { sql } from 'kysely';
import type { Db } from '../../db/connect.ts';
import { articlesByIds } from '../articles/repository.ts';
import { CLICK_EDITIONS, type TopicClicks, type TopicWeight } from './click-weights.ts';
import { primaryTopic } from './select.ts';

/**
 * Every count of clicks reads them here (selection, most read, subject tests): the clicks of
 * messages not marked as a link scanner's (src/delivery/clicks.ts marks them as clicks come in).
 */
export function countedClicks(db: Db) {
  return db.selectFrom('message_clicks as mc').where('mc.scanner', '=', 0);
}

/**
 * Per topic, its counted clicks, deliveries and exposures over the list's last CLICK_EDITIONS sent
 * editions that started before `before`. A message's clicks on one story count once (a reader
 * clicking again is no second reader); clicks of links that carried no message tag count as they were.
 */
export async function recentTopicClicks(db: Db, listId: number, before: string, editions = CLICK_EDITIONS): Promise<TopicClicks[]> {
  const recent = await db
    .selectFrom('editions as e')
    .select((eb) => [
      'e.id',
      eb.selectFrom('deliveries as d').select((d) => d.fn.countAll<number>().as('n')).whereRef('d.edition_id', '=', 'e.id').where('d.status', '=', 'submitted').as('deliveries'),
    ])
    .where('e.list_id', '=', listId)
    .where('e.status', '=', 'sent')
    .where('e.starts_at', '<', before)
    .orderBy('e.starts_at', 'desc')
    .limit(editions)
    .execute();
  if (recent.length === 0) return [];
  const ids = recent.map((e) => e.id);
  const stories = await db.selectFrom('edition_articles').select(['edition_id', 'article_id']).where('edition_id', 'in', ids).execute();
  const clicks = await countedClicks(db)
    .select(['mc.edition_id', 'mc.article_id', sql<number>`sum(case when mc.message_tag = '' then mc.clicks else 1 end)`.as('clicks')])
    .where('mc.edition_id', 'in', ids)
    .groupBy(['mc.edition_id', 'mc.article_id'])
    .execute();
  const clicked = new Map(clicks.map((c) => [`${c.edition_id}:${c.article_id}`, Number(c.clicks)]));
  const topicOf = new Map((await articlesByIds(db, [...new Set(stories.map((s) => s.article_id))])).map((a) => [a.id, primaryTopic(a)]));
  const deliveries = new Map(recent.map((e) => [e.id, Number(e.deliveries ?? 0)]));
  const byTopic = new Map<string, TopicClicks & { editions: Set<number> }>();
  for (const s of stories) {
    const topic = topicOf.get(s.article_id) ?? '';
    const t = byTopic.get(topic) ?? { topic, clicks: 0, deliveries: 0, exposures: 0, editions: new Set<number>() };
    const sent = deliveries.get(s.edition_id) ?? 0;
    t.clicks += clicked.get(`${s.edition_id}:${s.article_id}`) ?? 0;
    t.exposures += sent;
    if (!t.editions.has(s.edition_id)) t.deliveries += sent;
    t.editions.add(s.edition_id);
    byTopic.set(topic, t);
  }
  return [...byTopic.values()].map(({ editions: _, ...t }) => t).sort((a, b) => a.topic.localeCompare(b.topic));
}

/** The desk's switch: whether the list's next editions are weighted by clicks (with RECAP_TRACK_CLICKS). */
export async function clickWeightingOn(db: Db, listId: number): Promise<boolean> {
  const row = await db.selectFrom('lists').select('click_weighting').where('id', '=', listId).executeTakeFirstOrThrow();
  return Number(row.click_weighting) === 1;
}

export async function setClickWeighting(db: Db, listId: number, on: boolean): Promise<void> {
  await db.updateTable('lists').set({ click_weighting: on ? 1 : 0 }).where('id', '=', listId).execute();
}

export interface EditionWeights {
  /** Whether the edition was weighted when it was made. */
  weighted: boolean;
  topics: TopicWeight[];
  /** Per story, the factor its score got. */
  factors: Map<number, number>;
}

/** What click rates did to an edition when it was made. */
export async function editionWeights(db: Db, editionId: number): Promise<EditionWeights> {
  const topics = await db.selectFrom('edition_topic_clicks').select(['topic', 'clicks', 'deliveries', 'exposures', 'rate', 'factor']).where('edition_id', '=', editionId).orderBy('topic').execute();
  const stories = await db.selectFrom('edition_articles').select(['article_id', 'click_factor']).where('edition_id', '=', editionId).where('click_factor', 'is not', null).execute();
  const factors = new Map(stories.map((s) => [s.article_id, Number(s.click_factor)]));
  return { weighted: factors.size > 0, topics: topics.map((t) => ({ ...t, rate: Number(t.rate), factor: Number(t.factor) })), factors };
}
