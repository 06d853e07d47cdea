// Reads an import file into raw records, each labelled with where it came from (index, line or
// feed item) so a bad record can be named. Validation happens afterwards, on every format alike.
import { extname } from 'node:path';
import { readFeedItems } from './feed-items.ts';

export const ARTICLE_FORMATS = ['json', 'ndjson', 'feed'] as const;
export type ArticleFormat = (typeof ARTICLE_FORMATS)[number];

export type RawRecord = { where: string; value: unknown } | { where: string; error: string };

export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

/** By extension first, then by the first meaningful character. */
export function detectFormat(content: string, fileName = ''): ArticleFormat {
  const ext = extname(fileName).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (['.xml', '.rss', '.atom'].includes(ext)) return 'feed';
  const start = content.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('<')) return 'feed';
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) return 'ndjson';
  if (ext === '.json') return 'json';
  throw new ImportFileError('cannot tell the format: expected a JSON array, NDJSON, or an RSS/Atom feed (use --format)');
}

/** `documentUrl`: where a feed came from, the base of its relative links. */
export function readRecords(content: string, format: ArticleFormat, collectedAt: Date, documentUrl?: string): RawRecord[] {
  const body = content.replace(/^\uFEFF/, '');
  switch (format) {
    case 'json':
      return readJsonArray(body);
    case 'ndjson':
      return readNdjson(body);
    case 'feed':
      return readFeed(body, collectedAt, documentUrl);
  }
}

function readJsonArray(body: string): RawRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new ImportFileError(`not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ImportFileError('expected a JSON array of articles');
  return parsed.map((value, i) => ({ where: `index ${i}`, value }));
}

function readNdjson(body: string): RawRecord[] {
  const records: RawRecord[] = [];
  body.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    try {
      records.push({ where, value: JSON.parse(line) });
    } catch (e) {
      records.push({ where, error: `not valid JSON: ${(e as Error).message}` });
    }
  });
  return records;
}

function readFeed(body: string, collectedAt: Date, documentUrl: string | undefined): RawRecord[] {
  const reading = readFeedItems(body, collectedAt, documentUrl);
  if ('problem' in reading) throw new ImportFileError(`not an RSS or Atom feed: ${reading.problem}`);
  return reading.records;
}
