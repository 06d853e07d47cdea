// How a variant orders the edition for readers of some topics. Pure. Every variant carries every
// story of the edition; it only leads with what its readers follow.
import { primaryTopic } from '../editions/select.ts';

export interface Arrangeable {
  id: number;
  topics: string[];
}

export interface Arrangement<T> {
  lead: T;
  sections: Array<{ topic: string; stories: T[] }>;
}

/** The variant key of a reader: the topics they follow that the edition has, sorted; '' for all. */
export function variantKey(followed: Iterable<string>, editionTopics: ReadonlySet<string>): string {
  return [...new Set(followed)].filter((t) => editionTopics.has(t)).sort().join(',');
}

export function topicsOfKey(key: string): string[] {
  return key === '' ? [] : key.split(',');
}

/** `ranked` is the edition's frozen order; a `pinnedId` story in it leads whatever the readers follow. */
export function arrangeVariant<T extends Arrangeable>(ranked: readonly T[], readerTopics: readonly string[], pinnedId: number | null = null): Arrangement<T> {
  if (ranked.length === 0) throw new Error('an edition has at least one story');
  const follows = new Set(readerTopics);
  const matches = (s: T) => s.topics.some((t) => follows.has(t));
  const lead = ranked.find((s) => s.id === pinnedId) ?? ranked.find(matches) ?? (ranked[0] as T);
  const sections = new Map<string, T[]>();
  for (const story of ranked) {
    if (story === lead) continue;
    const topic = story.topics.find((t) => follows.has(t)) ?? primaryTopic(story);
    sections.set(topic, [...(sections.get(topic) ?? []), story]);
  }
  // Sections keep the rank of their best story, with the reader's own topics first.
  const ordered = [...sections.entries()].sort(
    ([a], [b]) => Number(follows.has(b)) - Number(follows.has(a)),
  );
  return { lead, sections: ordered.map(([topic, stories]) => ({ topic, stories })) };
}
