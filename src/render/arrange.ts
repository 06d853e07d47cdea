// How a variant orders the edition for readers of some topics. Pure. Every variant carries every
// story of the edition; it only leads with what its readers follow.
import type { Format } from '../../db/schema.ts';
import { primaryTopic } from '../editions/select.ts';
import { armLetter } from '../editions/subject-stats.ts';

export interface Arrangeable {
  id: number;
  topics: string[];
}

export interface Arrangement<T> {
  lead: T;
  sections: Array<{ topic: string; stories: T[] }>;
}

/**
 * What one variant is made for: the edition's topics its readers follow, the format they chose and
 * the subject they were given (an arm of a subject test; null: the edition's own).
 */
export interface VariantChoice {
  topics: string[];
  format: Format;
  subjectArm: number | null;
}

/**
 * The variant key of a reader, as stored (variants.topics_key): the topics they follow that the
 * edition has, sorted and joined by commas, then `|brief` for the brief format and `|s<n>` for arm
 * n of a subject test. '' is the full edition with its own subject. (Topic slugs have no `|`.)
 */
export function variantKey(followed: Iterable<string>, editionTopics: ReadonlySet<string>, choice: { format?: Format; subjectArm?: number | null } = {}): string {
  const topics = [...new Set(followed)].filter((t) => editionTopics.has(t)).sort().join(',');
  return topics + (choice.format === 'brief' ? '|brief' : '') + (choice.subjectArm == null ? '' : `|s${choice.subjectArm}`);
}

export function parseVariantKey(key: string): VariantChoice {
  const [topics = '', ...parts] = key.split('|');
  const arm = parts.find((p) => /^s\d+$/.test(p));
  return { topics: topics === '' ? [] : topics.split(','), format: parts.includes('brief') ? 'brief' : 'full', subjectArm: arm ? Number(arm.slice(1)) : null };
}

/** A variant in words: "full edition", "policy + safety", "full edition · brief", "policy · subject B" (`label` names a topic). */
export function describeVariantKey(key: string, label: (topic: string) => string = (t) => t): string {
  const { topics, format, subjectArm } = parseVariantKey(key);
  return `${topics.length ? topics.map(label).join(' + ') : 'full edition'}${format === 'brief' ? ' · brief' : ''}${subjectArm === null ? '' : ` · subject ${armLetter(subjectArm)}`}`;
}

export function topicsOfKey(key: string): string[] {
  return parseVariantKey(key).topics;
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
