// Click weighting, the pure part: each topic's factor from its clicks, bounded and shrunk.
import { describe, expect, it } from 'vitest';
import { CLICK_FACTOR_MAX, CLICK_FACTOR_MIN, CLICK_PRIOR_CLICKS, storyFactor, type TopicClicks, topicWeights, weighted } from '../../src/editions/click-weights.ts';
import { rankArticles } from '../../src/editions/select.ts';

const topic = (name: string, clicks: number, exposures: number, deliveries = exposures): TopicClicks => ({ topic: name, clicks, exposures, deliveries });
const factors = (topics: TopicClicks[]) => Object.fromEntries(topicWeights(topics).map((w) => [w.topic, w.factor]));

describe('topic weights', () => {
  it('are all 1 with no clicks anywhere, or nothing sent', () => {
    expect(factors([topic('agents', 0, 400), topic('compute', 0, 400)])).toEqual({ agents: 1, compute: 1 });
    expect(factors([topic('agents', 0, 0), topic('compute', 0, 0)])).toEqual({ agents: 1, compute: 1 });
    expect(topicWeights([])).toEqual([]);
  });

  it('stay within the bound for the most extreme rates: every click on one topic', () => {
    const w = topicWeights([topic('agents', 100_000, 100_000), topic('compute', 0, 100_000), topic('policy', 0, 5)]);
    expect(w.map((x) => [x.topic, x.factor, x.rate])).toEqual([['agents', CLICK_FACTOR_MAX, 1], ['compute', CLICK_FACTOR_MIN, 0], ['policy', 0.8, 0]].map(([t, f, r]) => [t, t === 'policy' ? expect.closeTo((0 + CLICK_PRIOR_CLICKS) / ((100_000 / 200_005) * 5 + CLICK_PRIOR_CLICKS), 9) : f, r]));
    // A topic shown five times has too little to say: it stays near 1 even with no clicks.
    expect(w[2]?.factor).toBeGreaterThan(0.85);
  });

  it('hold the bound whatever the counts', () => {
    let seed = 11;
    const next = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    for (let run = 0; run < 500; run++) {
      const topics = Array.from({ length: 1 + next(8) }, (_, i) => {
        const exposures = next(5000);
        return topic(`t${i}`, next(3) === 0 ? 0 : next(exposures + 1), exposures);
      });
      for (const w of topicWeights(topics)) {
        expect(w.factor).toBeGreaterThanOrEqual(CLICK_FACTOR_MIN);
        expect(w.factor).toBeLessThanOrEqual(CLICK_FACTOR_MAX);
      }
    }
  });

  it('shrink a topic with few clicks towards 1: a handful cannot swing it, the same rate with many clicks can', () => {
    // Three times the average rate on three clicks.
    const few = factors([topic('agents', 3, 10), topic('compute', 3, 290)]);
    // (3 + 20) / (0.2 + 20): about 1.14, not the 3× its rate says.
    expect(few.agents).toBeCloseTo((3 + CLICK_PRIOR_CLICKS) / ((6 / 300) * 10 + CLICK_PRIOR_CLICKS), 9);
    expect(few.agents).toBeLessThan(1.15);
    const many = factors([topic('agents', 300, 1000), topic('compute', 300, 29_000)]);
    expect(many.agents).toBe(CLICK_FACTOR_MAX);
    // Half the average rate: between the bound and 1, closer to 1 with fewer clicks.
    const lowFew = factors([topic('agents', 2, 40), topic('compute', 8, 80)]).agents as number;
    const lowMany = factors([topic('agents', 200, 4000), topic('compute', 800, 8000)]).agents as number;
    expect(lowFew).toBeLessThan(1);
    expect(lowFew).toBeGreaterThan(lowMany);
    expect(lowMany).toBe(CLICK_FACTOR_MIN);
  });

  it('explain themselves: clicks, deliveries, exposures and the rate behind each factor', () => {
    // The average rate is 40 / 400: each topic was expected to get 20 clicks.
    expect(topicWeights([topic('agents', 24, 200, 100), topic('compute', 16, 200, 100)])).toEqual([
      { topic: 'agents', clicks: 24, deliveries: 100, exposures: 200, rate: 0.12, factor: expect.closeTo((24 + 20) / (20 + 20), 12) },
      { topic: 'compute', clicks: 16, deliveries: 100, exposures: 200, rate: 0.08, factor: expect.closeTo((16 + 20) / (20 + 20), 12) },
    ]);
  });

  it('multiply each candidate by its primary topic’s factor (1 for a topic without history) and so reorder', () => {
    const weights = topicWeights([topic('agents', 100_000, 100_000), topic('compute', 0, 100_000)]);
    const at = '2026-12-02T12:00:00Z';
    const candidates = [
      { id: 1, topics: ['compute'], score: 50, collectedAt: at },
      { id: 2, topics: ['agents', 'compute'], score: 50, collectedAt: at },
      { id: 3, topics: ['compute'], score: 79, collectedAt: at },
      { id: 4, topics: ['compute'], score: 78, collectedAt: at },
      { id: 5, topics: ['policy'], score: 55, collectedAt: at },
    ];
    expect(storyFactor(weights, { topics: ['policy'] })).toBe(1);
    const ranked = rankArticles(weighted(candidates, weights));
    // 79 × 0.8 = 63.2 stays above 50 × 1.25 = 62.5, which overtakes 78 × 0.8 = 62.4: exactly the bound, no more.
    expect(ranked.map((c) => [c.id, Math.round(c.score * 1e9) / 1e9])).toEqual([[3, 63.2], [2, 62.5], [4, 62.4], [5, 55], [1, 40]]);
    expect(candidates[0]?.score).toBe(50);
  });
});
