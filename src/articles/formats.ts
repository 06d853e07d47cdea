// Reads an import file into raw records, each labelled with where it came from (index, line or
// feed item) so a bad record can be named. Validation happens afterwards, on every format alike.
import { extname } from 'node:path';
import { decodeHTML } from 'entities';
import { parseFeed } from 'feedsmith';
import type { ArticleInput } from './article.ts';

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

export function readRecords(content: string, format: ArticleFormat, collectedAt: Date): RawRecord[] {
  const body = content.replace(/^\uFEFF/, '');
  switch (format) {
    case 'json':
      return readJsonArray(body);
    case 'ndjson':
      return readNdjson(body);
    case 'feed':
      return readFeed(body, collectedAt);
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

/** A feed item becomes an article with what the feed carries: no TL;DR, takeaways or tables. */
function readFeed(body: string, collectedAt: Date): RawRecord[] {
  let parsed: ReturnType<typeof parseFeed>;
  try {
    parsed = parseFeed(body);
  } catch (e) {
    throw new ImportFileError(`not an RSS or Atom feed: ${(e as Error).message}`);
  }
  const collected = collectedAt.toISOString();
  if (parsed.format === 'rss') {
    const channel = parsed.feed;
    const source = { name: channel.title ?? hostOf(channel.link) ?? 'unknown source', url: channel.link ?? null };
    return (channel.items ?? []).map((item, i) => ({
      where: `item ${i + 1}`,
      value: {
        title: item.title,
        url: item.link ?? (item.guid?.isPermaLink !== false ? item.guid?.value : undefined),
        source,
        publishedAt: toIso(item.pubDate),
        collectedAt: collected,
        topics: feedTopics((item.categories ?? []).map((c) => c.name)),
        hook: plainText(item.description ?? ''),
      } satisfies Partial<Record<keyof ArticleInput, unknown>>,
    }));
  }
  if (parsed.format === 'atom') {
    const feed = parsed.feed;
    const feedLink = pickLink(feed.links);
    const source = { name: feed.title?.value ?? hostOf(feedLink) ?? 'unknown source', url: feedLink ?? null };
    return (feed.entries ?? []).map((entry, i) => ({
      where: `entry ${i + 1}`,
      value: {
        title: entry.title?.value,
        url: pickLink(entry.links),
        source,
        publishedAt: toIso(entry.published ?? entry.updated),
        collectedAt: collected,
        topics: feedTopics((entry.categories ?? []).map((c) => c.term)),
        hook: plainText(entry.summary?.value ?? entry.content?.value ?? ''),
      } satisfies Partial<Record<keyof ArticleInput, unknown>>,
    }));
  }
  throw new ImportFileError(`${parsed.format} feeds are not supported; use RSS 2.0 or Atom`);
}

function pickLink(links: Array<{ href?: string; rel?: string }> | undefined): string | undefined {
  return (links?.find((l) => !l.rel || l.rel === 'alternate') ?? links?.[0])?.href;
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}

function toIso(date: unknown): string | undefined {
  if (typeof date !== 'string' || date.trim() === '') return undefined;
  const d = new Date(date);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Feeds tag freely: the first eight distinct categories, as topic slugs. */
function feedTopics(categories: Array<string | undefined>): string[] {
  return [...new Set(categories.map((c) => slugify(c ?? '')).filter(Boolean))].slice(0, 8);
}

export function slugify(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
}

/** Feed descriptions are HTML; the digest wants a short plain sentence or two. */
function plainText(html: string): string {
  // Tags out first, then every entity decoded exactly once (&amp;lt; stays a visible "&lt;").
  const text = decodeHTML(html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 600 ? `${text.slice(0, 597).replace(/\s+\S*$/, '')}…` : text;
}
