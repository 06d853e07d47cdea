// Feeds served from a local HTTP server: conditional GET, a failing feed that stops nothing, and
// the real cause of each failure (refused, DNS, timeout, HTTP status), each at its own time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FeedResult, pollFeeds } from '../../src/articles/feeds.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { refusedPort } from '../helpers/smtp-sink.ts';

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>Chip Wire</title><link>https://chips.example.com</link>
<item><title>HBM4 supply tightens</title><link>https://chips.example.com/hbm4</link><description>Memory is the bottleneck.</description><category>Compute</category><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>
</channel></rss>`;

const RELATIVE_RSS = `<rss version="2.0"><channel><title>Local News</title><link>/</link>
<item><title>Relative</title><link>posts/1</link></item></channel></rss>`;

let ctx: TestContext;
let server: Server;
let base: string;
const seen: Array<{ path: string; ifNoneMatch?: string; ifModifiedSince?: string }> = [];

beforeEach(async () => {
  ctx = await createTestContext();
  seen.length = 0;
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', ifNoneMatch: req.headers['if-none-match'], ifModifiedSince: req.headers['if-modified-since'] });
    if (req.url === '/hang.xml') return; // never answers
    if (req.url === '/broken.xml') {
      res.writeHead(500).end('oops');
      return;
    }
    if (req.url === '/not-a-feed') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>hello</body></html>');
      return;
    }
    if (req.url === '/news/relative.xml') {
      res.writeHead(200, { 'Content-Type': 'application/rss+xml' }).end(RELATIVE_RSS);
      return;
    }
    if (req.headers['if-none-match'] === '"v1"') {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/rss+xml', ETag: '"v1"', 'Last-Modified': 'Tue, 24 Nov 2026 10:00:00 GMT' }).end(RSS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await ctx.close();
});

describe('pollFeeds', () => {
  it('imports a feed, then asks with If-None-Match and If-Modified-Since and gets 304', async () => {
    const first = await pollFeeds(ctx.db, [`${base}/feed.xml`], ctx.clock);
    expect(first).toEqual([{ url: `${base}/feed.xml`, outcome: 'imported', detail: '1 new, 0 updated, 0 unchanged, 0 failed', at: ctx.clock.now().toISOString() }]);
    const second = await pollFeeds(ctx.db, [`${base}/feed.xml`], ctx.clock);
    expect(second[0]?.outcome).toBe('unchanged');
    expect(seen[1]).toMatchObject({ ifNoneMatch: '"v1"', ifModifiedSince: 'Tue, 24 Nov 2026 10:00:00 GMT' });
    const articles = await ctx.db.selectFrom('articles').select(['title', 'source_name']).execute();
    expect(articles).toEqual([{ title: 'HBM4 supply tightens', source_name: 'Chip Wire' }]);
  });

  it('logs a failing feed, counts its failures, and goes on with the others', async () => {
    const refused = `http://127.0.0.1:${await refusedPort()}/feed.xml`;
    const results = await pollFeeds(ctx.db, [`${base}/broken.xml`, refused, `${base}/not-a-feed`, `${base}/feed.xml`], ctx.clock);
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'failed', 'failed', 'imported']);
    expect(results[0]?.detail).toBe('HTTP 500 Internal Server Error');
    expect(results[2]?.detail).toMatch(/not an RSS or Atom feed/);
    await pollFeeds(ctx.db, [`${base}/broken.xml`], ctx.clock);
    const row = await ctx.db.selectFrom('feeds').selectAll().where('url', '=', `${base}/broken.xml`).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ failures: 2, last_status: 'failed', last_error: 'HTTP 500 Internal Server Error' });
    const good = await ctx.db.selectFrom('feeds').selectAll().where('url', '=', `${base}/feed.xml`).executeTakeFirstOrThrow();
    expect(good).toMatchObject({ failures: 0, etag: '"v1"' });
  });

  it('says why each failing feed failed, and tells and records each one at its own time, as it ends', async () => {
    const refused = `http://127.0.0.1:${await refusedPort()}/feed.xml`;
    const urls = [refused, 'http://feed.invalid/rss', `${base}/hang.xml`, `${base}/broken.xml`, `${base}/feed.xml`];
    const events: string[] = [];
    // Each fetch takes a minute of the test clock: a feed's time is when its own poll ended.
    const fetcher = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => {
      events.push(`fetch ${url}`);
      ctx.clock.advance(60_000);
      return fetch(url, init);
    };
    const start = ctx.clock.now().getTime();
    const results = await pollFeeds(ctx.db, urls, ctx.clock, { fetcher, timeoutMs: 300, onResult: (r: FeedResult) => events.push(`result ${r.url}`) });
    expect(results.map((r) => [r.outcome, r.detail])).toEqual([
      ['failed', expect.stringMatching(/^connection refused: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)],
      ['failed', expect.stringMatching(/^DNS(: no such host| lookup failed): getaddrinfo \w+ feed\.invalid$/)],
      ['failed', 'timed out after 0.3 s'],
      ['failed', 'HTTP 500 Internal Server Error'],
      ['imported', '1 new, 0 updated, 0 unchanged, 0 failed'],
    ]);
    expect(events).toEqual(urls.flatMap((u) => [`fetch ${u}`, `result ${u}`]));
    const times = urls.map((_, i) => new Date(start + (i + 1) * 60_000).toISOString());
    expect(results.map((r) => r.at)).toEqual(times);
    const rows = await ctx.db.selectFrom('feeds').select(['url', 'last_polled_at', 'last_error']).execute();
    expect(new Map(rows.map((r) => [r.url, r.last_polled_at]))).toEqual(new Map(urls.map((u, i) => [u, times[i]])));
    expect(rows.find((r) => r.url === `${base}/hang.xml`)?.last_error).toBe('timed out after 0.3 s');
  });

  it('resolves relative links against the URL the feed was fetched from', async () => {
    await pollFeeds(ctx.db, [`${base}/news/relative.xml`], ctx.clock);
    const articles = await ctx.db.selectFrom('articles').select(['url', 'source_url']).execute();
    expect(articles).toEqual([{ url: `${base}/news/posts/1`, source_url: `${base}/` }]);
  });
});
