// Measures the feed importer against Python's feedparser on the shared corpus of well-formed feeds
// (see its README): for every entry, does our title and link equal feedparser's? And the feed's own
// title, which becomes the source name. Run with `npm run eval:feeds [-- CORPUS_DIR]`; not part of
// `npm test`: the corpus lives outside the project.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFeedItems } from '../src/articles/feed-items.ts';
import { htmlToPlainText, looksLikeHtml } from '../src/articles/plain-text.ts';
import { childElements, type Element, firstChild, hasElementChildren, localName, namespaceOf, parseXml, rootElement } from '../src/articles/xml-tree.ts';

interface Reference {
  file: string;
  feed_title: string | null;
  entries: Array<{ title: string | null; link: string | null }>;
}

type Field = 'title' | 'link' | 'feed title';

const corpus = resolve(process.argv[2] ?? '../shared/corpora/feeds');
const references: Reference[] = readFileSync(join(corpus, 'feedparser-reference.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Reference);

// Only what is fair to normalise: whitespace, and "no value" written as null or "".
const normalise = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const collapsed = value.replace(/\s+/g, ' ').trim();
  return collapsed === '' ? null : collapsed;
};

// feedparser hands HTML titles back as (sanitised) HTML, text ones as text; we store plain text. So
// its HTML titles are compared as plain text, through the same conversion. Which titles are HTML is
// read from the feed, not guessed from either answer: an Atom title whose declared type is HTML or
// XHTML, or that holds inline markup; for RSS, which declares nothing, feedparser's own guess.
const MARKUP_TYPES = ['html', 'xhtml', 'text/html', 'application/xhtml+xml'];
function theirTitle(atom: boolean, element: Element | undefined, title: string | null): string | null {
  if (title === null) return null;
  const html = atom
    ? !!element && (MARKUP_TYPES.includes((element.attribs.type ?? '').toLowerCase()) || hasElementChildren(element))
    : looksLikeHtml(title);
  return normalise(html ? htmlToPlainText(title) : title);
}

const tallies = Object.fromEntries(
  (['title', 'link', 'feed title'] as const).map((f) => [f, { compared: 0, agree: 0, withValue: 0, agreeWithValue: 0 }]),
) as Record<Field, { compared: number; agree: number; withValue: number; agreeWithValue: number }>;
const disagreements: string[] = [];
const fileProblems: string[] = [];

function compare(file: string, where: string, field: Field, ours: string | null, theirs: string | null): void {
  const t = tallies[field];
  const agree = ours === theirs;
  t.compared += 1;
  if (agree) t.agree += 1;
  if (ours !== null || theirs !== null) {
    t.withValue += 1;
    if (agree) t.agreeWithValue += 1;
  }
  if (!agree) disagreements.push(`  ${file}${where} ${field}: ${JSON.stringify(ours)} | ${JSON.stringify(theirs)}`);
}

for (const reference of references) {
  const body = readFileSync(join(corpus, 'wellformed', reference.file), 'utf8');
  const reading = readFeedItems(body, new Date());
  const records = 'problem' in reading ? [] : reading.records.map((r) => r.value);
  if ('problem' in reading) fileProblems.push(`${reference.file}: ${reading.problem}`);
  else if (records.length !== reference.entries.length) fileProblems.push(`${reference.file}: we read ${records.length} entries, feedparser ${reference.entries.length}`);

  const root = rootElement(parseXml(body));
  const atom = !!root && localName(root) === 'feed';
  const ns = root ? namespaceOf(root) : '';
  const entryElements = root && atom ? childElements(root, ns, 'entry') : [];

  compare(reference.file, '', 'feed title', 'problem' in reading ? null : normalise(reading.title), theirTitle(atom, root && firstChild(root, ns, 'title'), reference.feed_title));
  reference.entries.forEach((theirs, i) => {
    const entry = entryElements[i];
    compare(reference.file, ` #${i + 1}`, 'title', normalise(records[i]?.title), theirTitle(atom, entry && firstChild(entry, ns, 'title'), theirs.title));
    compare(reference.file, ` #${i + 1}`, 'link', normalise(records[i]?.url), normalise(theirs.link));
  });
}

const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)} %`);
const entries = references.reduce((n, r) => n + r.entries.length, 0);
console.log(`${references.length} feeds, ${entries} entries (feedparser's count)`);
for (const field of ['title', 'link', 'feed title'] as const) {
  const t = tallies[field];
  const over = field === 'feed title' ? 'feeds' : 'entries';
  console.log(
    `${field.padEnd(10)}: ${pct(t.agree, t.compared)} of all ${over} (${t.agree}/${t.compared}); ` +
      `${pct(t.agreeWithValue, t.withValue)} of the ${over} where either side has one (${t.agreeWithValue}/${t.withValue})`,
  );
}
if (fileProblems.length > 0) console.log(`\nFiles read differently as a whole:\n${fileProblems.map((p) => `  ${p}`).join('\n')}`);
console.log(`\n${disagreements.length} disagreements (file #entry field: ours | feedparser's):\n${disagreements.join('\n')}`);
