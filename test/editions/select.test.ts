import { afterEach, describe, expect, it } from 'vitest';
import type { ArticleInput } from '../../src/articles/article.ts';
import { importArticles } from '../../src/articles/import.ts';
import { articlesCollectedBetween } from '../../src/articles/repository.ts';
import { findList } from '../../src/audience/lists.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { type Candidate, rankArticles, type SelectionRules, selectStories } from '../../src/editions/select.ts';
import { weekWindow } from '../../src/editions/week.ts';
import { article, sampleArticles } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

const RULES: SelectionRules = { maxStories: 12, maxPerTopic: 4, minStories: 3 };
const NOW = new Date('2026-11-30T08:00:00Z');

function candidate(id: number, score: number, overrides: Partial<Candidate> = {}): Candidate {
  return { id, score, topics: ['compute'], collectedAt: '2026-11-25T12:00:00.000Z', ...overrides };
}

const ids = (items: readonly { id: number }[]) => items.map((a) => a.id);

describe('rankArticles', () => {
  it('puts the highest score first', () => {
    const ranked = rankArticles([candidate(1, 40), candidate(2, 90), candidate(3, 65)]);
    expect(ids(ranked)).toEqual([2, 3, 1]);
  });

  it('breaks a score tie in favour of the more recently collected article', () => {
    const ranked = rankArticles([
      candidate(1, 70, { collectedAt: '2026-11-23T08:00:00.000Z' }),
      candidate(2, 70, { collectedAt: '2026-11-27T08:00:00.000Z' }),
      candidate(3, 70, { collectedAt: '2026-11-25T08:00:00.000Z' }),
    ]);
    expect(ids(ranked)).toEqual([2, 3, 1]);
  });

  it('breaks a tie in score and collected time in favour of the lower id', () => {
    const ranked = rankArticles([candidate(9, 70), candidate(4, 70), candidate(7, 70)]);
    expect(ids(ranked)).toEqual([4, 7, 9]);
  });

  it('does not reorder the array it is given', () => {
    const input = [candidate(1, 10), candidate(2, 90)];
    rankArticles(input);
    expect(ids(input)).toEqual([1, 2]);
  });
});

describe('selectStories', () => {
  it('takes at most maxStories, the highest-ranked ones', () => {
    const articles = Array.from({ length: 8 }, (_, i) => candidate(i + 1, 10 * (i + 1), { topics: [`topic-${i}`] }));
    const selection = selectStories(articles, { maxStories: 5, maxPerTopic: 4, minStories: 3 });
    expect(selection.ok).toBe(true);
    expect(ids(selection.stories)).toEqual([8, 7, 6, 5, 4]);
  });

  it('caps stories per primary topic and lets a lower-scored story of another topic in instead', () => {
    const articles = [
      candidate(1, 95, { topics: ['compute'] }),
      candidate(2, 90, { topics: ['compute', 'policy'] }),
      candidate(3, 85, { topics: ['compute'] }),
      candidate(4, 30, { topics: ['policy'] }),
    ];
    const selection = selectStories(articles, { maxStories: 3, maxPerTopic: 2, minStories: 1 });
    expect(ids(selection.stories)).toEqual([1, 2, 4]);
  });

  it('counts a story only under its first topic', () => {
    const articles = [
      candidate(1, 95, { topics: ['policy', 'compute'] }),
      candidate(2, 90, { topics: ['compute'] }),
      candidate(3, 85, { topics: ['compute'] }),
    ];
    const selection = selectStories(articles, { maxStories: 12, maxPerTopic: 2, minStories: 1 });
    expect(ids(selection.stories)).toEqual([1, 2, 3]);
  });

  it('refuses fewer than minStories with a reason naming the number needed', () => {
    const selection = selectStories([candidate(1, 80), candidate(2, 70)], RULES);
    expect(selection.ok).toBe(false);
    if (selection.ok) return;
    expect(selection.reason).toContain('at least 3');
    expect(selection.reason).toContain('only 2 usable stories');
    expect(ids(selection.stories)).toEqual([1, 2]);
  });

  it('says "1 story" when a single story was found', () => {
    const selection = selectStories([candidate(1, 80)], RULES);
    expect(selection.ok).toBe(false);
    if (selection.ok) return;
    expect(selection.reason).toContain('only 1 usable story');
  });

  it('accepts exactly minStories', () => {
    const selection = selectStories([candidate(1, 80, { topics: ['a'] }), candidate(2, 70, { topics: ['b'] }), candidate(3, 60, { topics: ['c'] })], RULES);
    expect(selection.ok).toBe(true);
  });

  it('when the topic cap leaves too few stories, reports how many could be used rather than how many were collected', () => {
    // Four compute stories, at most two per topic: only two can be used, and three are needed.
    const articles = [candidate(1, 90), candidate(2, 80), candidate(3, 70), candidate(4, 60)];
    const selection = selectStories(articles, { maxStories: 12, maxPerTopic: 2, minStories: 3 });
    expect(selection.ok).toBe(false);
    if (selection.ok) return;
    expect(ids(selection.stories)).toEqual([1, 2]);
    expect(selection.reason).toContain('at least 3');
    // "only 4 stories collected this week; an edition needs at least 3" contradicts itself.
    expect(selection.reason).toMatch(/only 2 usable stories this week \(4 collected, at most 2 per topic\)/);
  });
});

describe('ensureEdition', () => {
  let ctx: TestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  async function setup(env: Record<string, string> = {}): Promise<TestContext> {
    ctx = await createTestContext(env);
    return ctx;
  }

  async function importAll(c: TestContext, articles: ArticleInput[]): Promise<void> {
    const report = await importArticles(c.db, JSON.stringify(articles), { now: NOW });
    expect(report.failed).toBe(0);
  }

  async function countRows(c: TestContext, table: 'editions' | 'edition_articles'): Promise<number> {
    const row = await c.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  describe('week edges in the list time zone', () => {
    // Instants around the Monday-midnight boundaries of 2026-W48 in Berlin (UTC+1), UTC and New York (UTC-5).
    const INSTANTS = [
      '2026-11-22T22:30:00Z', // Berlin Sun 23:30 (W47)
      '2026-11-22T23:00:00Z', // Berlin Mon 00:00 exactly
      '2026-11-22T23:30:00Z', // Berlin Mon 00:30; still Sunday in UTC and New York
      '2026-11-23T00:00:00Z', // UTC Mon 00:00 exactly
      '2026-11-23T04:30:00Z', // New York Sun 23:30 (W47)
      '2026-11-23T05:00:00Z', // New York Mon 00:00 exactly
      '2026-11-29T22:30:00Z', // Berlin Sun 23:30, last half hour of W48 there
      '2026-11-29T23:00:00Z', // Berlin Mon 00:00 of W49
      '2026-11-30T00:00:00Z', // UTC Mon 00:00 of W49
      '2026-11-30T04:30:00Z', // New York Sun 23:30, still W48 there
      '2026-11-30T05:00:00Z', // New York Mon 00:00 of W49
    ];
    const edgeArticles = () => INSTANTS.map((at) => article({ title: at, collectedAt: at, topics: [] }));
    const LOOSE = { RECAP_MIN_STORIES: '1', RECAP_MAX_STORIES: '50', RECAP_MAX_PER_TOPIC: '50' };

    it.each([
      ['UTC', ['2026-11-23T00:00:00Z', '2026-11-23T04:30:00Z', '2026-11-23T05:00:00Z', '2026-11-29T22:30:00Z', '2026-11-29T23:00:00Z']],
      ['Europe/Berlin', ['2026-11-22T23:00:00Z', '2026-11-22T23:30:00Z', '2026-11-23T00:00:00Z', '2026-11-23T04:30:00Z', '2026-11-23T05:00:00Z', '2026-11-29T22:30:00Z']],
      ['America/New_York', ['2026-11-23T05:00:00Z', '2026-11-29T22:30:00Z', '2026-11-29T23:00:00Z', '2026-11-30T00:00:00Z', '2026-11-30T04:30:00Z']],
    ])('with RECAP_TZ=%s, 2026-W48 holds exactly the articles collected from local Monday 00:00 up to the next', async (zone, expected) => {
      const c = await setup({ ...LOOSE, RECAP_TZ: zone });
      await importAll(c, edgeArticles());
      const list = await findList(c.db, 'weekly-ai-recap');
      const rules = { maxStories: c.config.maxStories, maxPerTopic: c.config.maxPerTopic, minStories: c.config.minStories };

      const planned = await ensureEdition(c.db, list, { week: '2026-W48', timeZone: c.config.timeZone, rules, now: NOW, persist: true });

      expect(planned.ok).toBe(true);
      if (!planned.ok) return;
      expect(planned.created).toBe(true);
      expect(planned.edition.row.starts_at).toBe(weekWindow('2026-W48', zone).start);
      const titles = planned.edition.stories.map((s) => s.title).sort();
      expect(titles).toEqual(expected);
    });

    it.each(['UTC', 'Europe/Berlin', 'America/New_York'])('with RECAP_TZ=%s, puts every article into exactly one of W47, W48 and W49', async (zone) => {
      const c = await setup({ ...LOOSE, RECAP_TZ: zone });
      await importAll(c, edgeArticles());
      const list = await findList(c.db, 'weekly-ai-recap');
      const rules = { maxStories: 50, maxPerTopic: 50, minStories: 1 };

      const seen: string[] = [];
      for (const week of ['2026-W47', '2026-W48', '2026-W49']) {
        const planned = await ensureEdition(c.db, list, { week, timeZone: zone, rules, now: NOW, persist: true });
        expect(planned.ok).toBe(true);
        if (planned.ok) seen.push(...planned.edition.stories.map((s) => s.title));
      }
      expect(seen.sort()).toEqual([...INSTANTS].sort());
    });

    it('puts Monday 00:30 Berlin (Sunday 23:30 UTC) into W48 in Berlin but W47 in UTC and New York', async () => {
      const c = await setup();
      await importAll(c, [article({ title: 'Boundary story', collectedAt: '2026-11-22T23:30:00Z' })]);
      const list = await findList(c.db, 'weekly-ai-recap');
      const rules = { maxStories: 12, maxPerTopic: 4, minStories: 1 };
      const plan = (week: string, timeZone: string) => ensureEdition(c.db, list, { week, timeZone, rules, now: NOW, persist: false });

      expect((await plan('2026-W48', 'Europe/Berlin')).ok).toBe(true);
      expect((await plan('2026-W47', 'Europe/Berlin')).ok).toBe(false);
      expect((await plan('2026-W47', 'UTC')).ok).toBe(true);
      expect((await plan('2026-W48', 'UTC')).ok).toBe(false);
      expect((await plan('2026-W47', 'America/New_York')).ok).toBe(true);
      expect((await plan('2026-W48', 'America/New_York')).ok).toBe(false);
    });
  });

  it('freezes the edition: a later, higher-scored import in the same week does not change its stories', async () => {
    const c = await setup();
    await importAll(c, sampleArticles());
    const list = await findList(c.db, 'weekly-ai-recap');
    const options = { week: '2026-W48', timeZone: 'UTC', rules: RULES, now: NOW, persist: true };

    const first = await ensureEdition(c.db, list, options);
    expect(first.ok && first.created).toBe(true);
    if (!first.ok) return;
    const frozen = ids(first.edition.stories);

    await importAll(c, [article({ title: 'Late blockbuster', score: 99, topics: ['agents'], collectedAt: '2026-11-26T10:00:00Z' })]);
    // The late article would top a fresh selection, so a recomputed edition would differ.
    const window = weekWindow('2026-W48', 'UTC');
    const fresh = selectStories(await articlesCollectedBetween(c.db, window.start, window.end), RULES);
    expect(fresh.stories[0]?.title).toBe('Late blockbuster');

    const again = await ensureEdition(c.db, list, { ...options, now: new Date('2026-11-30T09:00:00Z') });
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.created).toBe(false);
    expect(again.edition.row.id).toBe(first.edition.row.id);
    expect(ids(again.edition.stories)).toEqual(frozen);
  });

  it('stores the stories of a new edition in ranked order', async () => {
    const c = await setup();
    await importAll(c, sampleArticles());
    const list = await findList(c.db, 'weekly-ai-recap');

    const planned = await ensureEdition(c.db, list, { week: '2026-W48', timeZone: 'UTC', rules: RULES, now: NOW, persist: true });
    expect(planned.ok).toBe(true);
    if (!planned.ok) return;
    const stored = await c.db
      .selectFrom('edition_articles')
      .select(['article_id', 'position'])
      .where('edition_id', '=', planned.edition.row.id)
      .orderBy('position')
      .execute();
    expect(stored.map((r) => r.article_id)).toEqual(ids(planned.edition.stories));
    const scores = planned.edition.stories.map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(planned.edition.stories.length).toBeLessThanOrEqual(RULES.maxStories);
  });

  it('with too few stories returns ok:false and stores no edition', async () => {
    const c = await setup();
    await importAll(c, [article({ collectedAt: '2026-11-24T10:00:00Z' }), article({ collectedAt: '2026-11-25T10:00:00Z' })]);
    const list = await findList(c.db, 'weekly-ai-recap');

    const planned = await ensureEdition(c.db, list, { week: '2026-W48', timeZone: 'UTC', rules: RULES, now: NOW, persist: true });

    expect(planned.ok).toBe(false);
    if (planned.ok) return;
    expect(planned.found).toBe(2);
    expect(planned.reason).toContain('at least 3');
    expect(await countRows(c, 'editions')).toBe(0);
    expect(await countRows(c, 'edition_articles')).toBe(0);
  });

  it('numbers the editions of two different weeks 1 and 2', async () => {
    const c = await setup();
    const week47 = ['2026-11-16T10:00:00Z', '2026-11-17T10:00:00Z', '2026-11-18T10:00:00Z'].map((at, i) => article({ collectedAt: at, topics: [`t${i}`] }));
    await importAll(c, [...week47, ...sampleArticles()]);
    const list = await findList(c.db, 'weekly-ai-recap');
    const base = { timeZone: 'UTC', rules: RULES, now: NOW, persist: true };

    const first = await ensureEdition(c.db, list, { ...base, week: '2026-W47' });
    const second = await ensureEdition(c.db, list, { ...base, week: '2026-W48' });

    expect(first.ok && first.edition.row.number).toBe(1);
    expect(second.ok && second.edition.row.number).toBe(2);
    expect(await countRows(c, 'editions')).toBe(2);
  });

  it('keeps the number of an existing edition when it is asked for again', async () => {
    const c = await setup();
    await importAll(c, sampleArticles());
    const list = await findList(c.db, 'weekly-ai-recap');
    const options = { week: '2026-W48', timeZone: 'UTC', rules: RULES, now: NOW, persist: true };

    await ensureEdition(c.db, list, options);
    const again = await ensureEdition(c.db, list, options);

    expect(again.ok && again.edition.row.number).toBe(1);
    expect(await countRows(c, 'editions')).toBe(1);
  });
});
