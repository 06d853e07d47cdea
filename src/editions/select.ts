// Which of the week's articles make the edition, and in what order. Pure: the edition freezes the
// result, so the same input always gives the same edition.

export interface Candidate {
  id: number;
  topics: string[];
  score: number;
  collectedAt: string;
}

export interface SelectionRules {
  maxStories: number;
  maxPerTopic: number;
  minStories: number;
}

export type Selection<T> =
  | { ok: true; stories: T[] }
  | { ok: false; stories: T[]; reason: string };

/** Highest score first; ties go to the more recent, then to the lower id (stable across runs). */
export function rankArticles<T extends Candidate>(articles: readonly T[]): T[] {
  return [...articles].sort(
    (a, b) => b.score - a.score || b.collectedAt.localeCompare(a.collectedAt) || a.id - b.id,
  );
}

/** The topic a story is grouped and capped under: its first. */
export function primaryTopic(article: Pick<Candidate, 'topics'>): string {
  return article.topics[0] ?? '';
}

export function selectStories<T extends Candidate>(articles: readonly T[], rules: SelectionRules): Selection<T> {
  const perTopic = new Map<string, number>();
  const stories: T[] = [];
  for (const article of rankArticles(articles)) {
    if (stories.length >= rules.maxStories) break;
    const topic = primaryTopic(article);
    const taken = perTopic.get(topic) ?? 0;
    if (taken >= rules.maxPerTopic) continue;
    perTopic.set(topic, taken + 1);
    stories.push(article);
  }
  if (stories.length < rules.minStories) {
    const usable = stories.length === 1 ? '1 usable story' : `${stories.length} usable stories`;
    const capped = stories.length < articles.length ? ` (${articles.length} collected, at most ${rules.maxPerTopic} per topic)` : '';
    return { ok: false, stories, reason: `only ${usable} this week${capped}; an edition needs at least ${rules.minStories}` };
  }
  return { ok: true, stories };
}
