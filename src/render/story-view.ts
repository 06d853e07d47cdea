// From stored articles to what the templates show. Pure.
import type { SectionView, StoryView } from '../../emails/_components/types.ts';
import type { StoredArticle } from '../articles/article.ts';

/** `link` is the URL readers follow: the article's own, or a counted redirect to it. */
export function toStoryView(article: StoredArticle, compact = false, link = article.url): StoryView {
  return {
    anchor: `story-${article.id}`,
    title: article.title,
    url: link,
    sourceName: article.source.name,
    hook: article.hook,
    topics: article.topics,
    compact,
    tldr: article.tldr,
    takeaways: article.takeaways,
    competitors: article.competitors,
    deepDive: article.deepDive,
    predictions: article.predictions,
    timeline: article.timeline,
  };
}

const ACRONYMS = new Set(['ai', 'eu', 'us', 'uk', 'llm', 'gpu', 'tpu', 'api', 'ml']);

/** `data-center` → "Data Center"; '' (no topic) → "More news". */
export function topicLabel(topic: string): string {
  if (topic === '') return 'More news';
  return topic
    .split('-')
    .map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}

export function toSectionView(topic: string, stories: StoryView[]): SectionView {
  return { topic, label: topicLabel(topic), stories };
}
