// What readers read shapes next week (RECAP_TRACK_CLICKS): a topic's click rate over the recent
// editions, relative to the average topic's, multiplies its stories' scores, within a bound. Pure:
// the counts come from src/editions/click-weighting.ts, and the edition records what each story got.
import { type Candidate, primaryTopic } from './select.ts';

/**
 * The bound of the factor: at most a quarter up, a fifth down (the same step either way, 1.25 =
 * 1/0.8). Enough for a topic readers keep choosing to overtake a story scored a little higher,
 * never enough to bury a strong story or to let clicks decide the edition instead of the editors'
 * scores; and clicks are biased by position (the top story gets more), which a small bound keeps small.
 */
export const CLICK_FACTOR_MIN = 0.8;
export const CLICK_FACTOR_MAX = 1.25;
/**
 * Shrinkage, in clicks: a topic's clicks are weighed as if it had this many more at the average
 * rate, so a handful of clicks moves its factor a few percent, and only a few dozen reach the bound.
 */
export const CLICK_PRIOR_CLICKS = 20;
/** How many of the list's last sent editions the rates are taken over. */
export const CLICK_EDITIONS = 4;

/** A topic's clicks in the recent editions. */
export interface TopicClicks {
  topic: string;
  /** Counted clicks on its stories (scanners' left out). */
  clicks: number;
  /** Deliveries submitted of the editions it had stories in. */
  deliveries: number;
  /** Chances to be clicked: per edition, its deliveries times the topic's stories in it. */
  exposures: number;
}

export interface TopicWeight extends TopicClicks {
  /** clicks / exposures (0 without exposures). */
  rate: number;
  /** What its stories' scores are multiplied by, within [CLICK_FACTOR_MIN, CLICK_FACTOR_MAX]. */
  factor: number;
}

/**
 * Each topic's factor: (clicks + prior) / (expected + prior), where expected is what it would have
 * had at the average rate over all topics (total clicks / total exposures), clamped to the bound.
 * No clicks anywhere: every factor is 1.
 */
export function topicWeights(topics: readonly TopicClicks[]): TopicWeight[] {
  const clicks = topics.reduce((n, t) => n + t.clicks, 0);
  const exposures = topics.reduce((n, t) => n + t.exposures, 0);
  const average = exposures > 0 ? clicks / exposures : 0;
  return topics.map((t) => {
    const expected = average * t.exposures;
    const relative = (t.clicks + CLICK_PRIOR_CLICKS) / (expected + CLICK_PRIOR_CLICKS);
    return { ...t, rate: t.exposures > 0 ? t.clicks / t.exposures : 0, factor: Math.min(CLICK_FACTOR_MAX, Math.max(CLICK_FACTOR_MIN, relative)) };
  });
}

/** A story's factor: its primary topic's (1 for a topic the recent editions did not have). */
export function storyFactor(weights: readonly TopicWeight[], story: Pick<Candidate, 'topics'>): number {
  return weights.find((w) => w.topic === primaryTopic(story))?.factor ?? 1;
}

/** The candidates with their scores multiplied by their factors: what selection ranks. */
export function weighted<T extends Candidate>(candidates: readonly T[], weights: readonly TopicWeight[]): T[] {
  return candidates.map((c) => ({ ...c, score: c.score * storyFactor(weights, c) }));
}
