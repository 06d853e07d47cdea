import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArticleInput } from '../../src/articles/article.ts';
import { canonicalUrl } from '../../src/articles/canonical-url.ts';
import { detectFormat, ImportFileError } from '../../src/articles/formats.ts';
import { type ImportReport, importArticles, type RecordResult } from '../../src/articles/import.ts';
import { articlesCollectedBetween } from '../../src/articles/repository.ts';
import { article, sampleArticles } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

const NOW = new Date('2026-11-30T08:00:00Z');
const WEEK_START = '2026-11-23T00:00:00.000Z';
const WEEK_END = '2026-11-30T00:00:00.000Z';

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(async () => {
  await ctx.close();
});

const importJson = (records: unknown[], now = NOW) => importArticles(ctx.db, JSON.stringify(records), { now });

async function articleCount(): Promise<number> {
  const row = await ctx.db.selectFrom('articles').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function storedTitles(): Promise<string[]> {
  const rows = await ctx.db.selectFrom('articles').select('title').orderBy('id').execute();
  return rows.map((r) => r.title);
}

function resultAt(report: ImportReport, where: string): RecordResult {
  const result = report.results.find((r) => r.where === where);
  if (!result) throw new Error(`no result for ${where}; have ${report.results.map((r) => r.where).join(', ')}`);
  return result;
}

/** The errors of the record at `where`, which must have failed. */
function errorsAt(report: ImportReport, where: string): string[] {
  const result = resultAt(report, where);
  expect(result.outcome).toBe('failed');
  return result.errors ?? [];
}

describe('JSON array import', () => {
  it('imports every sample article', async () => {
    const report = await importJson(sampleArticles());
    expect(report.format).toBe('json');
    expect(report.inserted).toBe(14);
    expect(report.updated).toBe(0);
    expect(report.failed).toBe(0);
    expect(await articleCount()).toBe(14);
  });

  it('stores each sample article with its topics in the given order, readable by collected time', async () => {
    const samples = sampleArticles();
    await importJson(samples);

    const stored = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);

    expect(stored).toHaveLength(14);
    for (const input of samples) {
      const found = stored.find((s) => s.title === input.title.trim());
      expect(found, input.title).toBeDefined();
      expect(found?.topics).toEqual(input.topics);
      expect(found?.url).toBe(input.url);
      expect(found?.score).toBe(input.score);
    }
  });

  it('returns articles collected in [start, end), oldest first', async () => {
    await importJson([
      article({ title: 'Late', collectedAt: '2026-11-27T10:00:00Z' }),
      article({ title: 'At start', collectedAt: '2026-11-23T00:00:00Z' }),
      article({ title: 'At end', collectedAt: '2026-11-30T00:00:00Z' }),
      article({ title: 'Early', collectedAt: '2026-11-24T10:00:00Z' }),
    ]);
    const stored = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored.map((s) => s.title)).toEqual(['At start', 'Early', 'Late']);
  });

  it('stores the structured content of an article', async () => {
    const input = article({
      title: 'With a table',
      competitors: { columns: ['Vendor', 'Chip'], rows: [['Nvidia', 'Rubin'], ['AMD', 'MI400']] },
      takeaways: ['First.', 'Second.'],
    });
    await importJson([input]);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored?.competitors).toEqual(input.competitors);
    expect(stored?.takeaways).toEqual(['First.', 'Second.']);
    expect(stored?.tldr).toEqual(input.tldr);
  });

  it('normalises collectedAt with an offset to UTC', async () => {
    await importJson([article({ collectedAt: '2026-11-25T09:00:00+01:00' })]);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored?.collectedAt).toBe('2026-11-25T08:00:00.000Z');
  });

  describe('a bad record among good ones', () => {
    const { title: _title, ...untitled } = article();

    it('reports a missing title by index and field, and keeps the good records', async () => {
      const report = await importJson([article({ title: 'Good one' }), untitled, article({ title: 'Good two' })]);
      expect(report.inserted).toBe(2);
      expect(report.failed).toBe(1);
      expect(errorsAt(report, 'index 1').some((e) => e.startsWith('title:'))).toBe(true);
      expect(await storedTitles()).toEqual(['Good one', 'Good two']);
    });

    it('reports an empty title as empty', async () => {
      const report = await importJson([article({ title: '   ' })]);
      expect(errorsAt(report, 'index 0')).toContain('title: is empty');
    });

    it.each(['ftp://news.example.com/a', 'javascript:alert(1)', 'not a url', 'mailto:editor@example.com'])(
      'rejects the url %s as not http(s)',
      async (url) => {
        const report = await importJson([article(), article({ url })]);
        expect(report.inserted).toBe(1);
        expect(report.failed).toBe(1);
        expect(errorsAt(report, 'index 1')).toContain('url: is not an http(s) URL');
      },
    );

    it('rejects a collectedAt that is not a date-time', async () => {
      const report = await importJson([article({ collectedAt: 'last Tuesday' }), article()]);
      expect(report.inserted).toBe(1);
      expect(errorsAt(report, 'index 0')).toContainEqual(expect.stringMatching(/^collectedAt: is not an ISO-8601 date-time/));
    });

    it('rejects a collectedAt without a time-zone offset', async () => {
      const report = await importJson([article({ collectedAt: '2026-11-25T12:00:00' })]);
      expect(errorsAt(report, 'index 0')).toContainEqual(expect.stringMatching(/^collectedAt: /));
    });

    it('rejects a competitor row whose length differs from the columns, naming competitors.rows', async () => {
      const bad = article({ competitors: { columns: ['Vendor', 'Chip', 'Year'], rows: [['Nvidia', 'Rubin', '2026'], ['AMD', 'MI400']] } });
      const report = await importJson([article(), bad, article()]);
      expect(report.inserted).toBe(2);
      expect(report.failed).toBe(1);
      const errors = errorsAt(report, 'index 1');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^competitors\.rows: /);
      expect(errors[0]).toContain('as many cells as there are columns');
    });

    it('names a nested field path with its array index', async () => {
      const report = await importJson([article({ timeline: [{ date: '2026-11', event: 'ok' }, { date: '2026-11', event: '' }] })]);
      expect(errorsAt(report, 'index 0')).toContain('timeline[1].event: is empty');
    });

    it('rejects a topic that is not a slug', async () => {
      const report = await importJson([article({ topics: ['compute', 'Data Center!'] })]);
      expect(errorsAt(report, 'index 0')).toContain('topics[1]: is not a topic slug such as data-center');
    });

    it('rejects a score above 100', async () => {
      const report = await importJson([article({ score: 101 })]);
      expect(errorsAt(report, 'index 0')).toContainEqual(expect.stringMatching(/^score: /));
    });

    it('reports a record that is not an object', async () => {
      const report = await importJson([article(), 42, null]);
      expect(report.inserted).toBe(1);
      expect(report.failed).toBe(2);
      expect(errorsAt(report, 'index 1')[0]).toMatch(/^\(record\): /);
      expect(errorsAt(report, 'index 2')[0]).toMatch(/^\(record\): /);
    });

    it('reports every problem of one record', async () => {
      const report = await importJson([{ ...untitled, url: 'ftp://x.example.com', collectedAt: 'soon' }]);
      const errors = errorsAt(report, 'index 0');
      expect(errors.map((e) => e.split(':')[0]).sort()).toEqual(['collectedAt', 'title', 'url']);
    });

    it('lists the results in file order with the right outcomes', async () => {
      const report = await importJson([article(), untitled, article()]);
      expect(report.results.map((r) => [r.where, r.outcome])).toEqual([
        ['index 0', 'inserted'],
        ['index 1', 'failed'],
        ['index 2', 'inserted'],
      ]);
    });
  });
});

describe('NDJSON import', () => {
  const line = (a: ArticleInput) => JSON.stringify(a);

  it('reports a malformed line by its line number and stores the others', async () => {
    const content = [line(article({ title: 'First' })), '{"title": "broken', line(article({ title: 'Third' }))].join('\n');
    const report = await importArticles(ctx.db, content, { now: NOW, fileName: 'week.ndjson' });
    expect(report.format).toBe('ndjson');
    expect(report.inserted).toBe(2);
    expect(report.failed).toBe(1);
    expect(errorsAt(report, 'line 2')[0]).toMatch(/^not valid JSON/);
    expect(await storedTitles()).toEqual(['First', 'Third']);
  });

  it('ignores blank lines but keeps counting them for line numbers', async () => {
    const content = ['', line(article({ title: 'A' })), '   ', '', '{oops', line(article({ title: 'B' })), ''].join('\n');
    const report = await importArticles(ctx.db, content, { now: NOW, format: 'ndjson' });
    expect(report.results.map((r) => r.where)).toEqual(['line 2', 'line 5', 'line 6']);
    expect(resultAt(report, 'line 5').outcome).toBe('failed');
    expect(report.inserted).toBe(2);
  });

  it('accepts CRLF line ends', async () => {
    const content = `${line(article({ title: 'Windows one' }))}\r\n${line(article({ title: 'Windows two' }))}\r\n`;
    const report = await importArticles(ctx.db, content, { now: NOW, format: 'ndjson' });
    expect(report.inserted).toBe(2);
    expect(report.failed).toBe(0);
    expect(await storedTitles()).toEqual(['Windows one', 'Windows two']);
  });

  it('reports an invalid article on a valid JSON line with its field', async () => {
    const content = [line(article()), line(article({ url: 'ftp://example.com/x' }))].join('\n');
    const report = await importArticles(ctx.db, content, { now: NOW, format: 'ndjson' });
    expect(errorsAt(report, 'line 2')).toContain('url: is not an http(s) URL');
    expect(report.inserted).toBe(1);
  });

  it('is detected from content starting with "{"', async () => {
    const report = await importArticles(ctx.db, `${line(article())}\n${line(article())}\n`, { now: NOW });
    expect(report.format).toBe('ndjson');
    expect(report.inserted).toBe(2);
  });
});

describe('re-import', () => {
  it('updates the article instead of adding a duplicate when the URL differs only by tracking, fragment and www.', async () => {
    await importJson([article({ title: 'Original title', url: 'https://example.com/ai/story' })]);
    const report = await importJson([
      article({ title: 'Corrected title', url: 'https://www.example.com/ai/story?utm_source=x&utm_medium=y#fragment' }),
    ]);
    expect(report.results[0]?.outcome).toBe('updated');
    expect(report.updated).toBe(1);
    expect(report.inserted).toBe(0);
    expect(await articleCount()).toBe(1);
    expect(await storedTitles()).toEqual(['Corrected title']);
  });

  it('treats two records with one canonical URL in the same file as one article', async () => {
    const report = await importJson([
      article({ url: 'https://example.com/a?id=1&fbclid=abc' }),
      article({ url: 'http://example.com/a/?gclid=def&id=1' }),
    ]);
    expect(report.results.map((r) => r.outcome)).toEqual(['inserted', 'updated']);
    expect(await articleCount()).toBe(1);
  });

  it('keeps URLs that differ in a non-tracking parameter apart', async () => {
    const report = await importJson([article({ url: 'https://example.com/a?id=1' }), article({ url: 'https://example.com/a?id=2' })]);
    expect(report.inserted).toBe(2);
  });

  it('keeps the first collected time when re-imported later', async () => {
    await importJson([article({ url: 'https://example.com/kept', collectedAt: '2026-11-24T10:00:00Z' })]);
    await importJson([article({ url: 'https://example.com/kept', collectedAt: '2026-11-28T10:00:00Z' })]);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored?.collectedAt).toBe('2026-11-24T10:00:00.000Z');
  });

  it('replaces the topics with the new ones, in their new order', async () => {
    await importJson([article({ url: 'https://example.com/t', topics: ['compute', 'policy'] })]);
    await importJson([article({ url: 'https://example.com/t', topics: ['agents', 'compute'] })]);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored?.topics).toEqual(['agents', 'compute']);
  });
});

describe('canonicalUrl', () => {
  it('drops utm_*, fbclid and gclid and sorts the remaining parameters', () => {
    expect(canonicalUrl('https://example.com/p?b=2&utm_source=x&a=1&fbclid=abc&utm_campaign=w&gclid=def')).toBe('https://example.com/p?a=1&b=2');
  });

  it('drops the fragment, www. and a trailing slash', () => {
    expect(canonicalUrl('https://www.Example.com/p/?id=7#comments')).toBe('https://example.com/p?id=7');
  });

  it('leaves no dangling "?" when every parameter was tracking', () => {
    expect(canonicalUrl('https://example.com/p?utm_source=x&utm_medium=y')).toBe('https://example.com/p');
  });

  it('treats http and https as one page', () => {
    expect(canonicalUrl('http://example.com/p')).toBe(canonicalUrl('https://example.com/p'));
  });

  it('keeps the path case, which can matter to the server', () => {
    expect(canonicalUrl('https://example.com/Articles/AI')).toBe('https://example.com/Articles/AI');
  });
});

describe('RSS 2.0 import', () => {
  const rss = (items: string) => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Chip Wire</title>
    <link>https://chips.example.com/</link>
    <description>Semiconductor news</description>
    ${items}
  </channel>
</rss>`;

  const FULL_ITEM = `<item>
      <title>HBM4 supply tightens</title>
      <link>https://chips.example.com/hbm4</link>
      <pubDate>Tue, 24 Nov 2026 06:25:00 GMT</pubDate>
      <category>Data Center</category>
      <category>Compute</category>
      <description><![CDATA[<p>Memory makers &amp; <b>GPU vendors</b> &lt;finally&gt; agree&nbsp;on &quot;HBM4&quot;.</p>]]></description>
    </item>`;

  async function importRss(items: string) {
    return importArticles(ctx.db, rss(items), { now: NOW, fileName: 'chips.xml' });
  }

  async function onlyStored() {
    const rows = await articlesCollectedBetween(ctx.db, '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z');
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it('turns an item into an article with title, link and the channel as source', async () => {
    const report = await importRss(FULL_ITEM);
    expect(report.format).toBe('feed');
    expect(report.inserted).toBe(1);
    const stored = await onlyStored();
    expect(stored.title).toBe('HBM4 supply tightens');
    expect(stored.url).toBe('https://chips.example.com/hbm4');
    expect(stored.source).toEqual({ name: 'Chip Wire', url: 'https://chips.example.com/' });
  });

  it('takes publishedAt from pubDate and collectedAt from the import time', async () => {
    await importRss(FULL_ITEM);
    const stored = await onlyStored();
    expect(stored.publishedAt).toBe('2026-11-24T06:25:00.000Z');
    expect(stored.collectedAt).toBe(NOW.toISOString());
  });

  it('slugifies categories into topics, in order', async () => {
    await importRss(FULL_ITEM);
    expect((await onlyStored()).topics).toEqual(['data-center', 'compute']);
  });

  it('makes the hook plain text: tags stripped, entities decoded, whitespace collapsed', async () => {
    await importRss(FULL_ITEM);
    expect((await onlyStored()).hook).toBe('Memory makers & GPU vendors <finally> agree on "HBM4".');
  });

  it('drops script content from the description', async () => {
    await importRss(`<item><title>T</title><link>https://chips.example.com/s</link>
      <description><![CDATA[<script>alert("x")</script><p>Safe text</p>]]></description></item>`);
    expect((await onlyStored()).hook).toBe('Safe text');
  });

  it('decodes numeric character references in the description', async () => {
    await importRss(`<item><title>T</title><link>https://chips.example.com/n</link>
      <description><![CDATA[<p>It&#8217;s here &#x2014; finally</p>]]></description></item>`);
    expect((await onlyStored()).hook).toBe('It\u2019s here \u2014 finally');
  });

  it('decodes each entity once, so an escaped "&lt;" stays literal text', async () => {
    // The HTML "&amp;lt;div&amp;gt;" displays as "&lt;div&gt;"; decoding twice would turn it into a tag-like "<div>".
    await importRss(`<item><title>T</title><link>https://chips.example.com/e</link>
      <description><![CDATA[<p>Write &amp;lt;div&amp;gt; in HTML</p>]]></description></item>`);
    expect((await onlyStored()).hook).toBe('Write &lt;div&gt; in HTML');
  });

  it('cuts a long category to a valid topic slug of at most 40 characters', async () => {
    // Cut at 40 characters, this slug would end in "-".
    const report = await importRss(`<item><title>T</title><link>https://chips.example.com/c</link>
      <category>Generative AI for large enterprise tech teams</category></item>`);
    expect(report.failed).toBe(0);
    const [topic] = (await onlyStored()).topics;
    expect(topic).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    expect(topic!.length).toBeLessThanOrEqual(40);
  });

  it('uses a permalink guid as the URL when an item has no link', async () => {
    await importRss('<item><title>Guid only</title><guid>https://chips.example.com/guid</guid></item>');
    expect((await onlyStored()).url).toBe('https://chips.example.com/guid');
  });

  it('reports an item without a link as "item N" with a url error and keeps the other items', async () => {
    const report = await importRss(`${FULL_ITEM}
      <item><title>No link</title><guid isPermaLink="false">tag:chips.example.com,2026:42</guid></item>
      <item><title>Third</title><link>https://chips.example.com/third</link></item>`);
    expect(report.inserted).toBe(2);
    expect(report.failed).toBe(1);
    expect(errorsAt(report, 'item 2').some((e) => e.startsWith('url:'))).toBe(true);
    expect(await storedTitles()).toEqual(['HBM4 supply tightens', 'Third']);
  });

  it('reports an item without a title as "item N" with a title error', async () => {
    const report = await importRss('<item><link>https://chips.example.com/untitled</link></item>');
    expect(errorsAt(report, 'item 1').some((e) => e.startsWith('title:'))).toBe(true);
  });

  it('reports a broken item by number with its field and reason, and stores the good items around it', async () => {
    const report = await importRss(`${FULL_ITEM}
      <item><title>${'Too long '.repeat(40)}</title><link>https://chips.example.com/long</link></item>
      <item><title>Scripted link</title><link>javascript:alert(1)</link></item>
      <item><title>Rich item</title><link>https://chips.example.com/rich</link>
        <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Ada</dc:creator><fullitem>&lt;p&gt;All of it&lt;/p&gt;</fullitem>
        <description>${'A long description. '.repeat(60)}</description></item>
      <item><title>Last</title><link>https://chips.example.com/last</link></item>`);
    expect(report.results.map((r) => [r.where, r.outcome])).toEqual([
      ['item 1', 'inserted'],
      ['item 2', 'failed'],
      ['item 3', 'failed'],
      ['item 4', 'inserted'],
      ['item 5', 'inserted'],
    ]);
    expect(errorsAt(report, 'item 2')).toEqual(['title: longer than 300 characters']);
    expect(errorsAt(report, 'item 3')).toEqual(['url: is not an http(s) URL']);
    expect(await storedTitles()).toEqual(['HBM4 supply tightens', 'Rich item', 'Last']);
    const rich = await ctx.db.selectFrom('articles').select('hook').where('title', '=', 'Rich item').executeTakeFirstOrThrow();
    expect(rich.hook.length).toBeLessThanOrEqual(600);
    expect(rich.hook).toMatch(/^A long description\. .*…$/);
  });

  it('reports an item of only unknown elements by its own number, rather than dropping it or the whole file', async () => {
    const feed = `<rss version="0.93"><channel>
      <item><fullitem>&lt;p&gt;No title, no link&lt;/p&gt;</fullitem><expirationDate>Thu, 31 Dec 2026 00:00:00 GMT</expirationDate></item>
      <item><title>Kept</title><link>https://chips.example.com/kept</link></item></channel></rss>`;
    const report = await importArticles(ctx.db, feed, { now: NOW, format: 'feed' });
    expect(report.results.map((r) => [r.where, r.outcome])).toEqual([
      ['item 1', 'failed'],
      ['item 2', 'inserted'],
    ]);
    expect(errorsAt(report, 'item 1').map((e) => e.split(':')[0]).sort()).toEqual(['title', 'url']);
    expect(await storedTitles()).toEqual(['Kept']);
  });

  it("keeps every item when the channel's own title or link is unusable: the name shortened, the link dropped", async () => {
    const feed = `<rss version="2.0"><channel><title>${'Chip Wire '.repeat(20)}</title><link>/relative/home</link>
      <item><title>One</title><link>https://chips.example.com/one</link></item></channel></rss>`;
    const report = await importArticles(ctx.db, feed, { now: NOW, format: 'feed' });
    expect(report).toMatchObject({ inserted: 1, failed: 0 });
    const { source } = await onlyStored();
    expect(source.url).toBeNull();
    expect(source.name.length).toBeLessThanOrEqual(120);
    expect(source.name).toMatch(/^Chip Wire Chip Wire .*…$/);
  });

  it('stores an HTML title and channel name as plain text, not as markup', async () => {
    await importArticles(
      ctx.db,
      `<rss version="2.0"><channel><title>Chip &lt;b&gt;Wire&lt;/b&gt;</title><link>https://chips.example.com/</link>
        <item><title>safe&lt;script&gt;alert(1)&lt;/script&gt; &lt;em&gt;HBM4&lt;/em&gt; &amp;amp; more</title><link>https://chips.example.com/x</link></item>
      </channel></rss>`,
      { now: NOW, format: 'feed' },
    );
    const stored = await onlyStored();
    expect(stored.title).toBe('safe HBM4 & more');
    expect(stored.source.name).toBe('Chip Wire');
  });

  it('leaves an item polled again as it was instead of duplicating it', async () => {
    await importRss(FULL_ITEM);
    const later = await importArticles(ctx.db, rss(FULL_ITEM), { now: new Date('2026-12-01T08:00:00Z'), format: 'feed' });
    expect(later).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    expect(await articleCount()).toBe(1);
    expect((await onlyStored()).collectedAt).toBe(NOW.toISOString());
  });
});

describe('Atom import', () => {
  const atom = (entries: string) => `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom AI News</title>
  <link rel="self" href="https://atom.example.com/feed.xml"/>
  <link rel="alternate" href="https://atom.example.com/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-11-26T10:00:00Z</updated>
  ${entries}
</feed>`;

  const ENTRY = `<entry>
    <title>Agents get audit trails</title>
    <link rel="edit" href="https://atom.example.com/edit/1"/>
    <link rel="alternate" href="https://atom.example.com/agents-audit"/>
    <id>urn:uuid:1</id>
    <published>2026-11-25T09:00:00Z</published>
    <updated>2026-11-26T09:00:00Z</updated>
    <summary type="html">&lt;p&gt;Every agent gets an &lt;em&gt;identity&lt;/em&gt; &amp;amp; a log.&lt;/p&gt;</summary>
    <category term="Agents"/>
    <category term="Enterprise IT"/>
  </entry>`;

  async function importAtom(entries: string) {
    return importArticles(ctx.db, atom(entries), { now: NOW });
  }

  it('turns an entry into an article using its alternate link, title and the feed as source', async () => {
    const report = await importAtom(ENTRY);
    expect(report.format).toBe('feed');
    expect(report.inserted).toBe(1);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, '2026-12-07T00:00:00.000Z');
    expect(stored?.title).toBe('Agents get audit trails');
    expect(stored?.url).toBe('https://atom.example.com/agents-audit');
    expect(stored?.source).toEqual({ name: 'Atom AI News', url: 'https://atom.example.com/' });
  });

  it('takes the hook from the summary, the topics from category terms and publishedAt from published', async () => {
    await importAtom(ENTRY);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, '2026-12-07T00:00:00.000Z');
    expect(stored?.hook).toBe('Every agent gets an identity & a log.');
    expect(stored?.topics).toEqual(['agents', 'enterprise-it']);
    expect(stored?.publishedAt).toBe('2026-11-25T09:00:00.000Z');
    expect(stored?.collectedAt).toBe(NOW.toISOString());
  });

  it('stores HTML-typed titles as plain text and text-typed ones literally', async () => {
    await importArticles(
      ctx.db,
      `<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Atom &lt;i&gt;AI&lt;/i&gt; News</title>
        <entry><title type="html">&lt;b&gt;Agents&lt;/b&gt; &amp;amp; audits</title><link href="https://atom.example.com/1"/></entry>
        <entry><title type="text">Why &lt;div&gt; soup &amp;amp; agents</title><link href="https://atom.example.com/2"/></entry>
      </feed>`,
      { now: NOW, format: 'feed' },
    );
    const stored = await ctx.db.selectFrom('articles').select(['title', 'source_name']).orderBy('id').execute();
    expect(stored).toEqual([
      { title: 'Agents & audits', source_name: 'Atom AI News' },
      { title: 'Why <div> soup &amp; agents', source_name: 'Atom AI News' },
    ]);
  });

  it('takes the alternate link, not an enclosure, self or related link listed first', async () => {
    const report = await importAtom(`<entry><title>Podcast</title>
      <link rel="enclosure" type="audio/mpeg" href="https://atom.example.com/ep1.mp3"/>
      <link rel="related" href="https://atom.example.com/related"/>
      <link href="https://atom.example.com/ep1"/></entry>
      <entry><title>Only an enclosure</title><link rel="enclosure" href="https://atom.example.com/ep2.mp3"/></entry>`);
    expect(resultAt(report, 'entry 1').outcome).toBe('inserted');
    const stored = await ctx.db.selectFrom('articles').select('url').executeTakeFirstOrThrow();
    expect(stored.url).toBe('https://atom.example.com/ep1');
    expect(errorsAt(report, 'entry 2').some((e) => e.startsWith('url:'))).toBe(true);
  });

  it('reports an entry without a link as "entry N" and keeps the others', async () => {
    const report = await importAtom(`${ENTRY}
      <entry><title>Linkless</title><id>urn:uuid:2</id><updated>2026-11-26T09:00:00Z</updated></entry>`);
    expect(report.inserted).toBe(1);
    expect(report.failed).toBe(1);
    expect(errorsAt(report, 'entry 2').some((e) => e.startsWith('url:'))).toBe(true);
    expect(resultAt(report, 'entry 1').outcome).toBe('inserted');
  });
});

describe('files that are not articles', () => {
  it('rejects HTML that is not a feed with ImportFileError', async () => {
    const result = importArticles(ctx.db, '<html><body><p>Hello</p></body></html>', { now: NOW });
    await expect(result).rejects.toBeInstanceOf(ImportFileError);
    await expect(importArticles(ctx.db, '<html><body></body></html>', { now: NOW })).rejects.toThrow(/not an RSS or Atom feed/);
  });

  it('rejects broken JSON with ImportFileError', async () => {
    const result = importArticles(ctx.db, '[{"title": "unterminated', { now: NOW });
    await expect(result).rejects.toBeInstanceOf(ImportFileError);
    await expect(importArticles(ctx.db, '[{"title": ', { now: NOW })).rejects.toThrow(/^not valid JSON/);
  });

  it('rejects a JSON file that is not an array', async () => {
    await expect(importArticles(ctx.db, '{"title": "x"}', { now: NOW, format: 'json' })).rejects.toThrow('expected a JSON array of articles');
  });

  it('rejects content of no known format, suggesting --format', async () => {
    const result = importArticles(ctx.db, 'title,url\nA,https://example.com', { now: NOW, fileName: 'articles.csv' });
    await expect(result).rejects.toBeInstanceOf(ImportFileError);
    await expect(importArticles(ctx.db, 'hello', { now: NOW })).rejects.toThrow(/cannot tell the format.*--format/);
  });

  it('stores nothing when the file is rejected', async () => {
    await importArticles(ctx.db, '[{"title": ', { now: NOW }).catch(() => undefined);
    expect(await articleCount()).toBe(0);
  });
});

describe('detectFormat', () => {
  it.each([
    ['week.ndjson', 'ndjson'],
    ['week.jsonl', 'ndjson'],
    ['feed.xml', 'feed'],
    ['feed.rss', 'feed'],
    ['feed.atom', 'feed'],
    ['FEED.XML', 'feed'],
  ] as const)('detects %s by its extension', (fileName, format) => {
    // Content that would point elsewhere: the extension wins.
    expect(detectFormat('[]', fileName)).toBe(format);
  });

  it.each([
    ['[{"title": "a"}]', 'json'],
    ['{"title": "a"}\n{"title": "b"}', 'ndjson'],
    ['<?xml version="1.0"?><rss/>', 'feed'],
    ['\uFEFF  \n [ ]', 'json'],
  ] as const)('detects %j by its first meaningful character', (content, format) => {
    expect(detectFormat(content)).toBe(format);
  });

  it('falls back to the .json extension for content it cannot tell', () => {
    expect(detectFormat('', 'articles.json')).toBe('json');
  });

  it('throws ImportFileError when neither extension nor content tells', () => {
    expect(() => detectFormat('plain text', 'notes.txt')).toThrow(ImportFileError);
  });
});

describe('hostile content', () => {
  it('stores markup in text fields as given, leaving escaping to the renderer', async () => {
    const title = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
    const hook = '"><a href="javascript:alert(1)">click</a>';
    await importJson([article({ title, hook })]);
    const [stored] = await articlesCollectedBetween(ctx.db, WEEK_START, WEEK_END);
    expect(stored?.title).toBe(title);
    expect(stored?.hook).toBe(hook);
  });

  it('rejects a 10,000-character title as longer than 300 characters', async () => {
    const report = await importJson([article({ title: 'A'.repeat(10_000) }), article()]);
    expect(errorsAt(report, 'index 0')).toContain('title: longer than 300 characters');
    expect(report.inserted).toBe(1);
    expect(await articleCount()).toBe(1);
  });

  it('accepts a title of exactly 300 characters', async () => {
    const report = await importJson([article({ title: 'B'.repeat(300) })]);
    expect(report.inserted).toBe(1);
  });

  it('rejects a hook longer than 600 characters', async () => {
    const report = await importJson([article({ hook: 'h'.repeat(601) })]);
    expect(errorsAt(report, 'index 0')).toContain('hook: longer than 600 characters');
  });

  it('rejects more than 8 topics', async () => {
    const report = await importJson([article({ topics: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] })]);
    expect(errorsAt(report, 'index 0')).toContainEqual(expect.stringMatching(/^topics: /));
  });
});

describe('the analysis label', () => {
  const all = () => articlesCollectedBetween(ctx.db, '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z');

  it('is stored from the aggregator’s analysisLabel, as the seed article carries it', async () => {
    const seed = sampleArticles().find((a) => a.url.includes('tmtpost.com')) as ArticleInput;
    expect(seed.analysisLabel).toBe('AI-generated analysis for this event.');
    await importJson([seed, article({ title: 'Unlabelled' })]);
    const [labelled, unlabelled] = await all();
    expect(labelled?.analysisLabel).toBe('AI-generated analysis for this event.');
    expect(unlabelled?.analysisLabel).toBeNull();
  });

  it('is none when empty, and reported by index and field when too long; the other records are kept', async () => {
    const report = await importJson([article({ analysisLabel: '   ' }), article({ analysisLabel: 'x'.repeat(121) }), article({ analysisLabel: 'AI analysis grounded in cited sources' })]);
    expect(errorsAt(report, 'index 1')).toEqual(['analysisLabel: longer than 120 characters']);
    expect((await all()).map((a) => a.analysisLabel)).toEqual([null, 'AI analysis grounded in cited sources']);
  });

  it('changes on a re-import that brings another one', async () => {
    const first = article({ analysisLabel: 'AI-generated analysis for this event.' });
    await importJson([first]);
    expect((await importJson([{ ...first, analysisLabel: 'AI-generated analysis.' }])).updated).toBe(1);
    expect((await all())[0]?.analysisLabel).toBe('AI-generated analysis.');
  });

  it('is none for an article stored before the label existed', async () => {
    await importJson([article()]);
    const row = await ctx.db.selectFrom('articles').select(['id', 'content']).executeTakeFirstOrThrow();
    const { analysisLabel: _, ...before } = JSON.parse(row.content) as Record<string, unknown>;
    await ctx.db.updateTable('articles').set({ content: JSON.stringify(before) }).where('id', '=', row.id).execute();
    expect((await all())[0]?.analysisLabel).toBeNull();
  });
});
