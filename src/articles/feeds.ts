// Polls RSS/Atom feeds into the article store with conditional GET (ETag, Last-Modified), so an
// unchanged feed costs one 304. A failing feed is logged, counted and tried again next time;
// it never stops the others or the daemon.
import type { Db } from '../../db/connect.ts';
import { importArticles } from './import.ts';

export interface FeedResult {
  url: string;
  outcome: 'imported' | 'unchanged' | 'failed';
  detail: string;
}

export type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export async function pollFeeds(db: Db, urls: string[], now: Date, fetcher: Fetch = fetch, timeoutMs = 30_000): Promise<FeedResult[]> {
  const results: FeedResult[] = [];
  for (const url of urls) {
    const known = await db.selectFrom('feeds').selectAll().where('url', '=', url).executeTakeFirst();
    const headers: Record<string, string> = { 'User-Agent': 'Recap feed reader', Accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5' };
    if (known?.etag) headers['If-None-Match'] = known.etag;
    if (known?.last_modified) headers['If-Modified-Since'] = known.last_modified;
    let result: FeedResult;
    let fresh: { etag: string | null; lastModified: string | null } | null = null;
    try {
      const response = await fetcher(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 304) {
        result = { url, outcome: 'unchanged', detail: 'not modified' };
      } else if (!response.ok) {
        result = { url, outcome: 'failed', detail: `HTTP ${response.status}` };
      } else {
        const report = await importArticles(db, await response.text(), { now, format: 'feed', documentUrl: response.url || url });
        fresh = { etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') };
        result = { url, outcome: 'imported', detail: `${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed` };
      }
    } catch (e) {
      result = { url, outcome: 'failed', detail: (e as Error).message };
    }
    const failed = result.outcome === 'failed';
    const row = {
      last_polled_at: now.toISOString(),
      last_status: result.outcome,
      last_error: failed ? result.detail : null,
      ...(fresh ? { etag: fresh.etag, last_modified: fresh.lastModified } : {}),
    };
    await db
      .insertInto('feeds')
      .values({ url, etag: null, last_modified: null, failures: failed ? 1 : 0, ...row })
      .onConflict((oc) => oc.column('url').doUpdateSet((eb) => ({ ...row, failures: failed ? eb(eb.ref('feeds.failures'), '+', 1) : 0 })))
      .execute();
    results.push(result);
  }
  return results;
}
