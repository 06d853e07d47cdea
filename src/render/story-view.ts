// From stored articles to what the templates show. Pure. Every stored string passes through
// headerSafe here, once, so the HTML, the web version and the text part all get plain text.
import type { SectionView, StoryView } from '../../emails/_components/types.ts';
import { noAnalysis, type StoredArticle } from '../articles/article.ts';
import { headerSafe as line } from '../plain-text.ts';

/** `link` is the URL readers follow: the article's own, or a counted redirect to it. */
export function toStoryView(article: StoredArticle, compact = false, link = article.url): StoryView {
  const anchor = `story-${article.id}`;
  return {
    anchor,
    title: line(article.title),
    // The story's own URL decides (a counted redirect would lead to it); anything but http(s) links nowhere.
    url: (httpUrl(article.url) && httpUrl(link)) ?? `#${anchor}`,
    sourceName: line(article.source.name),
    hook: line(article.hook),
    topics: article.topics.map(line),
    compact,
    // An editor's item carries a negative id (editions.ts): no article of the aggregator's.
    fromPublisher: article.id > 0,
    analysisLabel: article.analysisLabel && line(article.analysisLabel),
    tldr: article.tldr && {
      whatChanged: line(article.tldr.whatChanged),
      whyItMatters: line(article.tldr.whyItMatters),
      whatToDoNext: line(article.tldr.whatToDoNext),
      whoShouldCare: line(article.tldr.whoShouldCare),
    },
    takeaways: article.takeaways.map(line),
    competitors: article.competitors && { columns: article.competitors.columns.map(line), rows: article.competitors.rows.map((r) => r.map(line)) },
    deepDive: article.deepDive.map(line),
    predictions: article.predictions.map((p) => ({ claim: line(p.claim), rationale: line(p.rationale) })),
    timeline: article.timeline.map((t) => ({ date: line(t.date), event: line(t.event) })),
  };
}

/** Stories of the brief: the hook and the one TL;DR line (what changed) are cut at these lengths. */
const BRIEF_HOOK_LENGTH = 200;
const BRIEF_TLDR_LENGTH = 160;
/** The brief's top story, a little longer: its hook and two lines of its TL;DR. */
const BRIEF_LEAD_HOOK_LENGTH = 400;
const BRIEF_LEAD_TLDR_LENGTH = 240;

/** A story of the brief (not its top one): headline, hook, and what changed as its one TL;DR line. */
export function toBriefView(story: StoryView): StoryView {
  return {
    ...story,
    hook: clipText(story.hook, BRIEF_HOOK_LENGTH),
    tldr: story.tldr && { ...story.tldr, whatChanged: clipText(story.tldr.whatChanged, BRIEF_TLDR_LENGTH) },
  };
}

/** How far the brief's top story shrank to fit: 0 not at all, 1 to one TL;DR line, 2 to a short hook. */
export type BriefLeadCut = 0 | 1 | 2;

/**
 * The brief's top story: its hook and two lines of its TL;DR, what changed and why it matters; as it
 * has to shrink, only what changed, then no TL;DR and a shorter hook. No analysis.
 */
export function toBriefLeadView(story: StoryView, cut: BriefLeadCut): StoryView {
  return {
    ...story,
    hook: clipText(story.hook, cut === 2 ? BRIEF_HOOK_LENGTH : BRIEF_LEAD_HOOK_LENGTH),
    tldr: story.tldr && cut < 2 ? {
      whatChanged: clipText(story.tldr.whatChanged, BRIEF_LEAD_TLDR_LENGTH),
      whyItMatters: cut === 1 ? '' : clipText(story.tldr.whyItMatters, BRIEF_LEAD_TLDR_LENGTH),
      whatToDoNext: '',
      whoShouldCare: '',
    } : null,
    ...noAnalysis(),
  };
}

/** At most `max` characters, cut at a word with an ellipsis. */
export function clipText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
}

/**
 * The URL as a browser would send it, when it is http(s); otherwise null. Intake refuses other
 * schemes already; this keeps a stored `javascript:` or `data:` URL from ever becoming a link.
 */
export function httpUrl(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

const ACRONYMS = new Set(['ai', 'eu', 'us', 'uk', 'llm', 'gpu', 'tpu', 'api', 'ml']);

/** `data-center` → "Data Center"; '' (no topic) → "More news". */
export function topicLabel(topic: string): string {
  if (topic === '') return 'More news';
  return line(topic)
    .split('-')
    .map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}

export function toSectionView(topic: string, stories: StoryView[]): SectionView {
  return { topic, label: topicLabel(topic), stories };
}
