// Polls RSS/Atom feeds into the article store with conditional GET (ETag, Last-Modified), so an
// unchanged feed costs one 304. A failing feed is logged with its cause (refused, DNS, timeout,
// HTTP status), counted and tried again next time; it never stops the others or the daemon.
import type { Db } from '../../db/connect.ts';
import type { Clock } from '../context.ts';
import { importArticles } from './import.ts';

export interface FeedResult {
  url: string;
  outcome: 'imported' | 'unchanged' | 'failed';
  detail: string;
  /** When this feed's poll ended (feeds are polled one after the other). */
  at: string;
}

export type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export interface PollOptions {
  fetcher?: Fetch;
  timeoutMs?: number;
  /** Told of each feed as its poll ends, before the next one starts. */
  onResult?: (result: FeedResult) => void;
}

export async function pollFeeds(db: Db, urls: string[], clock: Clock, options: PollOptions = {}): Promise<FeedResult[]> {
  const { fetcher = fetch, timeoutMs = 30_000 } = options;
  const results: FeedResult[] = [];
  for (const url of urls) {
    const known = await db.selectFrom('feeds').selectAll().where('url', '=', url).executeTakeFirst();
    const headers: Record<string, string> = { 'User-Agent': 'Recap feed reader', Accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5' };
    if (known?.etag) headers['If-None-Match'] = known.etag;
    if (known?.last_modified) headers['If-Modified-Since'] = known.last_modified;
    let result: Omit<FeedResult, 'at'>;
    let fresh: { etag: string | null; lastModified: string | null } | null = null;
    try {
      const response = await fetcher(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 304) {
        result = { url, outcome: 'unchanged', detail: 'not modified' };
      } else if (!response.ok) {
        result = { url, outcome: 'failed', detail: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}` };
      } else {
        const body = await response.text();
        const report = await importArticles(db, body, { now: clock.now(), format: 'feed', documentUrl: response.url || url });
        fresh = { etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') };
        result = { url, outcome: 'imported', detail: `${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed` };
      }
    } catch (e) {
      result = { url, outcome: 'failed', detail: fetchFailure(e, timeoutMs) };
    }
    const at = clock.now().toISOString();
    const failed = result.outcome === 'failed';
    const row = {
      last_polled_at: at,
      last_status: result.outcome,
      last_error: failed ? result.detail : null,
      ...(fresh ? { etag: fresh.etag, last_modified: fresh.lastModified } : {}),
    };
    await db
      .insertInto('feeds')
      .values({ url, etag: null, last_modified: null, failures: failed ? 1 : 0, ...row })
      .onConflict((oc) => oc.column('url').doUpdateSet((eb) => ({ ...row, failures: failed ? eb(eb.ref('feeds.failures'), '+', 1) : 0 })))
      .execute();
    const done = { ...result, at };
    options.onResult?.(done);
    results.push(done);
  }
  return results;
}

// fetch() says only "fetch failed"; the cause it wraps is the system's error.
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'DNS: no such host',
  EAI_AGAIN: 'DNS lookup failed',
  EAI_FAIL: 'DNS lookup failed',
  ETIMEDOUT: 'connect timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

/** The real cause of a failed fetch, in words: "connection refused: connect ECONNREFUSED 127.0.0.1:9". */
export function fetchFailure(e: unknown, timeoutMs: number): string {
  const error = e as Error & { cause?: Error & { code?: string } };
  if (error.name === 'TimeoutError') return `timed out after ${timeoutMs / 1000} s`;
  const cause = error.cause;
  if (!cause) return error.message;
  const label = cause.code ? (CAUSES[cause.code] ?? cause.code) : null;
  return label && !cause.message.startsWith(label) ? `${label}: ${cause.message}` : cause.message;
}
