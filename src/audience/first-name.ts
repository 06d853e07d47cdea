// Whom a greeting names: "Hi Chidi". The first name a subscriber set (preferences page, CLI, CSV)
// comes first; otherwise it is taken from their name, written "Ada Lindqvist" or "Okafor, Chidi";
// when neither gives one, the greeting is neutral ("Hi there"). The result is plain text on one line;
// each writer escapes it where it lands (the splice in src/render/personalize.ts, React, the text part).
import { headerSafe } from '../plain-text.ts';

/** Longest first name we store; a longer word of a name is no first name to greet by. */
export const MAX_FIRST_NAME_LENGTH = 50;
export const NEUTRAL_GREETING = 'there';

/** Written before a name, these are not the first name: "Dr. Ada Lindqvist". Compared lower-cased, dots removed. */
const TITLES = new Set(['dr', 'mr', 'mrs', 'ms', 'mx', 'miss', 'prof', 'sir', 'dame', 'rev', 'herr', 'frau', 'mme', 'mlle']);
/** Written after a comma, these are not the given names: "Ada Lindqvist, PhD". */
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md', 'esq', 'mba', 'msc', 'bsc', 'ma', 'ba', 'cpa', 'obe', 'mbe', 'cbe']);

const key = (word: string) => word.toLowerCase().replace(/\./g, '');
const words = (text: string) => text.split(/\s+/).filter(Boolean);
/** A word to greet by has a letter and is no address, link or markup. */
const isNameWord = (word: string) => /\p{L}/u.test(word) && !/[@/:<>]/.test(word);
/** Punctuation and symbols around the word go ("Ada," "“Ada”" "Ada😀"); inside it they stay (O'Brien, Ada-Marie). */
const trimEdges = (word: string) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}\p{M}]+$/gu, '');

/** The first name in a full name, or null when none can be told. */
export function firstNameOf(name: string | null): string | null {
  const parts = headerSafe(name ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !words(part).every((w) => SUFFIXES.has(key(w))));
  // "Okafor, Chidi": the family name first, the given names after the comma.
  const given = parts.length >= 2 ? parts[1] : parts[0];
  const word = words(given ?? '').find((w) => isNameWord(w) && !TITLES.has(key(w)));
  const first = word === undefined ? '' : trimEdges(word);
  return first !== '' && first.length <= MAX_FIRST_NAME_LENGTH ? first : null;
}

/** The name a greeting uses: the subscriber's first name, else one taken from their name, else "there". */
export function greetingName(subscriber: { firstName: string | null; name: string | null }): string {
  return headerSafe(subscriber.firstName ?? '') || firstNameOf(subscriber.name) || NEUTRAL_GREETING;
}
