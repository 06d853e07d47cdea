// The bench's data is what it claims: valid, repeatable subscribers who all receive the edition,
// with a skewed topic mix, and weeks of articles that each make a full edition of their own.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { articlesForWeek, generateSubscribers, insertSubscribers, type SampleArticle, topicsByPopularity } from '../../bench/population.ts';
import { importArticles } from '../../src/articles/import.ts';
import { normalizeEmail } from '../../src/audience/email.ts';
import { findList } from '../../src/audience/lists.ts';
import { countQuery, eligibleMembers } from '../../src/audience/segments.ts';
import { audienceByVariant } from '../../src/delivery/variants.ts';
import { editionTopics, ensureEdition } from '../../src/editions/editions.ts';
import { weekOf } from '../../src/editions/week.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

const sample = JSON.parse(readFileSync(new URL('../../data/sample/articles.json', import.meta.url), 'utf8')) as SampleArticle[];
const topics = topicsByPopularity(sample);

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

describe('bench population', () => {
  it('generates the same valid, distinct addresses for a seed, with a skewed topic mix', () => {
    const people = [...generateSubscribers(5000, topics)];
    expect([...generateSubscribers(5000, topics)]).toEqual(people);
    expect(people.every((p) => normalizeEmail(p.email) === p.email)).toBe(true);
    expect(new Set(people.map((p) => p.email)).size).toBe(5000);
    const none = people.filter((p) => p.topics.length === 0).length / people.length;
    expect(none).toBeGreaterThan(0.12);
    expect(none).toBeLessThan(0.18);
    const followers = (t: string) => people.filter((p) => p.topics.includes(t)).length;
    expect(followers(topics[0] as string)).toBeGreaterThan(2 * followers(topics.at(-1) as string));
    expect(people.every((p) => new Set(p.topics).size === p.topics.length)).toBe(true);
  });

  it('stores every subscriber as an eligible reader and makes a full edition for each week', async () => {
    ctx = await createTestContext();
    const list = await findList(ctx.db, 'weekly-ai-recap');
    expect(await insertSubscribers(ctx.db, list.id, generateSubscribers(1200, topics), ctx.clock.now())).toBe(1200);
    expect(await countQuery(eligibleMembers(ctx.db, list.id))).toBe(1200);

    const weeks = new Set<string>();
    for (const back of [2, 1, 0]) {
      const articles = articlesForWeek(sample, back, 20);
      const report = await importArticles(ctx.db, JSON.stringify(articles), { now: ctx.clock.now(), format: 'json' });
      expect(report.failed).toBe(0);
      expect(report.inserted).toBe(20);
      const week = weekOf(new Date(articles[0]?.collectedAt as string), 'UTC');
      weeks.add(week);
      const planned = await ensureEdition(ctx.db, list, { week, timeZone: 'UTC', now: ctx.clock.now(), persist: true, rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 } });
      if (!planned.ok) throw new Error(planned.reason);
      expect(planned.edition.stories).toHaveLength(12);
      const audience = await audienceByVariant(ctx.db, planned.edition, editionTopics(planned.edition));
      expect([...audience.values()].reduce((a, b) => a + b, 0)).toBe(1200);
      expect(audience.size).toBeGreaterThan(20);
    }
    expect(weeks).toEqual(new Set(['2026-W46', '2026-W47', '2026-W48']));
  });
});
