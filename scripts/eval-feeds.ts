// Measures the feed importer against Python's feedparser on the shared corpus of well-formed feeds
// (see its README): for every entry, does our title and link equal feedparser's? Run with
// `npm run eval:feeds [-- CORPUS_DIR]`; not part of `npm test`, the corpus lives outside the project.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ImportFileError, readRecords } from '../src/articles/formats.ts';
import { htmlToPlainText, looksLikeHtml } from '../src/articles/plain-text.ts';
import { childElements, firstChild, hasElementChildren, localName, namespaceOf, parseXml, rootElement } from '../src/articles/xml-tree.ts';

interface Reference {
  file: string;
  entries: Array<{ title: string | null; link: string | null }>;
}

interface Disagreement {
  file: string;
  entry: number;
  field: 'title' | 'link';
  ours: string | null;
  theirs: string | null;
}

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
// XHTML or that holds inline markup; for RSS, which declares nothing, feedparser's own guess.
const MARKUP_TYPES = ['html', 'xhtml', 'text/html', 'application/xhtml+xml'];
function feedparserTitleIsHtml(feed: string, entry: number, theirs: string): boolean {
  const root = rootElement(parseXml(feed));
  if (!root || localName(root) !== 'feed') return looksLikeHtml(theirs);
  const title = firstChild(childElements(root, namespaceOf(root), 'entry')[entry]!, namespaceOf(root), 'title');
  return !!title && (MARKUP_TYPES.includes((title.attribs.type ?? '').toLowerCase()) || hasElementChildren(title));
}
const theirTitle = (feed: string, entry: number, title: string | null) =>
  normalise(title !== null && feedparserTitleIsHtml(feed, entry, title) ? htmlToPlainText(title) : title);

const disagreements: Disagreement[] = [];
const fileErrors: string[] = [];
const counts = { entries: 0, title: { agree: 0, withValue: 0, agreeWithValue: 0 }, link: { agree: 0, withValue: 0, agreeWithValue: 0 } };

for (const reference of references) {
  const feed = readFileSync(join(corpus, 'wellformed', reference.file), 'utf8');
  let ours: Array<{ title: string | null; link: string | null }> = [];
  try {
    ours = readRecords(feed, 'feed', new Date()).map((record) => {
      const value = 'value' in record ? (record.value as { title?: unknown; url?: unknown }) : {};
      return { title: normalise(value.title), link: normalise(value.url) };
    });
  } catch (e) {
    if (!(e instanceof ImportFileError)) throw e;
    if (reference.entries.length > 0) fileErrors.push(`${reference.file}: ${e.message}`);
  }
  if (ours.length !== reference.entries.length) {
    fileErrors.push(`${reference.file}: we read ${ours.length} entries, feedparser ${reference.entries.length}`);
  }
  reference.entries.forEach((theirs, i) => {
    counts.entries += 1;
    const pairs = [
      ['title', ours[i]?.title ?? null, theirTitle(feed, i, theirs.title)],
      ['link', ours[i]?.link ?? null, normalise(theirs.link)],
    ] as const;
    for (const [field, mine, their] of pairs) {
      const agree = mine === their;
      const tally = counts[field];
      if (agree) tally.agree += 1;
      if (mine !== null || their !== null) {
        tally.withValue += 1;
        if (agree) tally.agreeWithValue += 1;
      }
      if (!agree) disagreements.push({ file: reference.file, entry: i + 1, field, ours: mine, theirs: their });
    }
  });
}

const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)} %`);
console.log(`${references.length} feeds, ${counts.entries} entries (feedparser's count)`);
for (const field of ['title', 'link'] as const) {
  const t = counts[field];
  console.log(
    `${field.padEnd(5)}: ${pct(t.agree, counts.entries)} of all entries (${t.agree}/${counts.entries}); ` +
      `${pct(t.agreeWithValue, t.withValue)} of the entries where either side has one (${t.agreeWithValue}/${t.withValue})`,
  );
}
if (fileErrors.length > 0) console.log(`\nFiles read differently as a whole:\n${fileErrors.map((e) => `  ${e}`).join('\n')}`);
console.log(`\n${disagreements.length} disagreements (file, entry, field: ours | feedparser's):`);
for (const d of disagreements) console.log(`  ${d.file} #${d.entry} ${d.field}: ${JSON.stringify(d.ours)} | ${JSON.stringify(d.theirs)}`);
