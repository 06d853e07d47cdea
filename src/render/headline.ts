// What an inbox list shows of a variant before it is opened: the subject and the preheader, both
// taken from the story the variant leads with unless an editor wrote them. Pure.
import type { StoredArticle } from '../articles/article.ts';
import { headerSafe } from '../plain-text.ts';
import { clipText } from './story-view.ts';

/** One line, no control characters, at most `max` characters (cut at a word, with an ellipsis). */
export function oneLine(value: string, max: number): string {
  return clipText(headerSafe(value), max);
}

/**
 * The headline alone: the sender line already shows the list's name, and a phone's inbox shows
 * only the first 35 or so characters of the subject.
 */
export function leadSubject(lead: Pick<StoredArticle, 'title'>): string {
  return oneLine(lead.title, 120);
}

export function leadPreheader(lead: Pick<StoredArticle, 'title' | 'hook'>): string {
  return oneLine(lead.hook || lead.title, 150);
}
