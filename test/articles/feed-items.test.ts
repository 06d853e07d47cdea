// What the feed reader extracts from each shape of RSS and Atom: text constructs by type and mode,
// the alternate link, xml:base, guids, RSS 1.0. Storage and per-item errors are in import.test.ts.
import { describe, expect, it } from 'vitest';
import { type FeedRecord, readFeedItems } from '../../src/articles/feed-items.ts';

const NOW = new Date('2026-11-30T08:00:00Z');

function read(body: string, documentUrl?: string): FeedRecord['value'][] {
  const reading = readFeedItems(body, NOW, documentUrl);
  if ('problem' in reading) throw new Error(reading.problem);
  return reading.records.map((r) => r.value);
}

function only(body: string, documentUrl?: string): FeedRecord['value'] {
  const values = read(body, documentUrl);
  expect(values).toHaveLength(1);
  return values[0]!;
}

const atom = (entries: string, feedAttrs = '', head = '<title>Atom Wire</title>') =>
  `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" ${feedAttrs}>${head}${entries}</feed>`;
const atom03 = (entries: string) => `<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old Wire</title>${entries}</feed>`;
const rss = (items: string, channelHead = '<title>Chip Wire</title><link>https://chips.example.com/</link>', rssAttrs = '') =>
  `<rss version="2.0" ${rssAttrs}><channel>${channelHead}${items}</channel></rss>`;

const atomTitle = (title: string) => only(atom(`<entry><title ${title}</title><link href="https://atom.example.com/a"/></entry>`)).title;

describe('titles are stored as plain text, read as the feed declares them', () => {
  it('decodes an Atom type="html" title: tags stripped, entities decoded once', () => {
    expect(atomTitle('type="html">&lt;em&gt;Rubin&lt;/em&gt; ships &amp;amp; sells &amp;lt;3')).toBe('Rubin ships & sells <3');
  });

  it('drops script from an HTML title instead of keeping it as text', () => {
    expect(atomTitle('type="html">safe&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('safe');
  });

  it('keeps an Atom type="text" title literally: "&lt;div&gt;" is the text "<div>"', () => {
    expect(atomTitle('type="text">Use &lt;div&gt; &amp;amp; CSS')).toBe('Use <div> &amp; CSS');
    expect(atomTitle('>No type is text: &lt;b&gt;')).toBe('No type is text: <b>');
  });

  it('reads an Atom type="xhtml" title from its div: markup dropped, escaped brackets kept as text', () => {
    expect(atomTitle('type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Chips <b>and</b> &lt;tags&gt;</div>')).toBe('Chips and <tags>');
  });

  it('separates words at block elements and collapses whitespace', () => {
    expect(atomTitle('type="html">&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;br/&gt;Three&lt;/p&gt;\n   four')).toBe('One Two Three four');
  });

  it('takes an RSS title as HTML when it looks like HTML (a closing tag or an entity), as text otherwise', () => {
    const title = (t: string) => only(rss(`<item><title>${t}</title><link>https://chips.example.com/a</link></item>`)).title;
    expect(title('&lt;b&gt;Bold&lt;/b&gt; move')).toBe('Bold move');
    expect(title('AT&amp;amp;T earnings')).toBe('AT&T earnings');
    expect(title('<![CDATA[<i>Inline</i> CDATA]]>')).toBe('Inline CDATA');
    expect(title('Why a &lt; b matters for &lt;blink&gt;')).toBe('Why a < b matters for <blink>');
  });

  it('decodes the source name the same way: channel and feed titles', () => {
    const [item] = read(rss('<item><title>T</title><link>https://chips.example.com/a</link></item>', '<title>Chip &lt;i&gt;Wire&lt;/i&gt;</title>'));
    expect(item?.source).toEqual({ name: 'Chip Wire', url: null });
    const [entry] = read(atom('<entry><title>T</title><link href="https://atom.example.com/a"/></entry>', '', '<title type="html">Atom &amp;amp; &lt;b&gt;Co&lt;/b&gt;</title>'));
    expect(entry?.source).toEqual({ name: 'Atom & Co', url: null });
  });
});

describe('Atom 0.3 modes and encoded content', () => {
  it('decodes mode="escaped" text by its type', () => {
    const entry = only(atom03(`<entry><title type="text/html" mode="escaped">&lt;b&gt;Escaped&lt;/b&gt; title</title>
      <link rel="alternate" type="text/html" href="https://old.example.com/1"/>
      <summary type="text/html" mode="escaped">&lt;p&gt;Hello &amp;amp; bye&lt;/p&gt;</summary></entry>`));
    expect(entry.title).toBe('Escaped title');
    expect(entry.hook).toBe('Hello & bye');
  });

  it('decodes mode="base64": HTML as HTML, the default text/plain literally', () => {
    const entry = only(atom03(`<entry><title mode="base64">UGxhaW4gPGI+IHN0YXlz</title>
      <link href="https://old.example.com/2"/>
      <content type="text/html" mode="base64">
        PHA+Q2Fmw6kgPGI+bmV3czwvYj4gJmFtcDsgbW9yZTwvcD4=
      </content></entry>`));
    expect(entry.title).toBe('Plain <b> stays');
    expect(entry.hook).toBe('Caf\u00e9 news & more');
  });

  it('reads inline markup (mode="xml", the default) as markup', () => {
    const entry = only(atom03('<entry><title>Naked <b>bold</b> markup</title><link href="https://old.example.com/3"/></entry>'));
    expect(entry.title).toBe('Naked bold markup');
  });

  it('takes publishedAt from issued, then modified', () => {
    const entry = only(atom03(`<entry><title>T</title><link href="https://old.example.com/4"/>
      <modified>2026-11-26T09:00:00Z</modified><issued>2026-11-25T09:00:00+01:00</issued></entry>`));
    expect(entry.publishedAt).toBe('2026-11-25T08:00:00.000Z');
  });

  it('decodes Atom 1.0 content of another media type from base64 when it is UTF-8 text, and skips binary', () => {
    const entry = (content: string) =>
      only(atom(`<entry><title>T</title><link href="https://atom.example.com/b"/><content type="application/octet-stream">${content}</content></entry>`));
    expect(entry('UGxhaW4gPGI+IHN0YXlz').hook).toBe('Plain <b> stays');
    expect(entry('//4AgA==').hook).toBe('');
  });

  it('prefers the summary to the content, and never reads out-of-line content', () => {
    const entry = only(atom(`<entry><title>T</title><link href="https://atom.example.com/c"/>
      <content type="text/html" src="https://atom.example.com/c.html"/></entry>`));
    expect(entry.hook).toBe('');
  });
});

describe('the article link', () => {
  it('is the alternate link, an HTML one first, whatever other links come before', () => {
    const entry = only(atom(`<entry><title>T</title>
      <link rel="enclosure" type="audio/mpeg" href="https://atom.example.com/talk.mp3"/>
      <link rel="self" href="https://atom.example.com/entry.atom"/>
      <link rel="via" href="https://elsewhere.example.com/"/>
      <link rel="related" href="https://atom.example.com/related"/>
      <link rel="license" href="https://creativecommons.org/licenses/by/4.0/"/>
      <link rel="edit" href="https://atom.example.com/edit/1"/>
      <link rel="alternate" type="application/atom+xml" href="https://atom.example.com/alt.atom"/>
      <link rel="alternate" type="text/html" href="https://atom.example.com/page"/>
    </entry>`));
    expect(entry.url).toBe('https://atom.example.com/page');
  });

  it('takes a link without rel as the alternate one, and falls back to a non-HTML alternate', () => {
    expect(only(atom('<entry><title>T</title><link rel="self" href="https://a.example.com/s"/><link href="https://a.example.com/p"/></entry>')).url).toBe(
      'https://a.example.com/p',
    );
    expect(only(atom('<entry><title>T</title><link rel="alternate" type="application/pdf" href="https://a.example.com/p.pdf"/></entry>')).url).toBe(
      'https://a.example.com/p.pdf',
    );
  });

  it('has none when the entry links only to other resources (enclosure, related…) and its id is no URL', () => {
    const entry = only(atom(`<entry><title>T</title><id>tag:atom.example.com,2026:1</id>
      <link rel="enclosure" href="https://atom.example.com/a.mp3"/><link rel="related" href="https://atom.example.com/r"/></entry>`));
    expect(entry.url).toBeUndefined();
  });

  it('resolves relative links against xml:base, inherited from feed to entry to link (RFC 3986)', () => {
    const entries = read(
      atom(
        `<link href="/"/>
        <entry xml:base="2026/"><title>A</title><link href="hbm4.html"/></entry>
        <entry><title>B</title><link xml:base="/other/" href="x?y=1"/></entry>
        <entry xml:base="https://mirror.example.org/"><title>C</title><link href="../up"/></entry>
        <entry><title>D</title><link href="https://absolute.example.net/Keep.html"/></entry>`,
        'xml:base="https://ex.example.com/blog/"',
      ),
    );
    expect(entries.map((e) => e.url)).toEqual([
      'https://ex.example.com/blog/2026/hbm4.html',
      'https://ex.example.com/other/x?y=1',
      'https://mirror.example.org/up',
      'https://absolute.example.net/Keep.html',
    ]);
    expect(entries[0]?.source).toEqual({ name: 'Atom Wire', url: 'https://ex.example.com/' });
  });

  it('resolves against the document URL when the feed gives no xml:base, RSS links too', () => {
    expect(only(atom('<entry><title>T</title><link href="/posts/1"/></entry>'), 'https://feeds.example.com/atom.xml').url).toBe(
      'https://feeds.example.com/posts/1',
    );
    expect(only(rss('<item><title>T</title><link>story/2</link></item>', ''), 'https://chips.example.com/feeds/rss.xml').url).toBe(
      'https://chips.example.com/feeds/story/2',
    );
  });

  it('matches Atom elements by namespace, not by prefix', () => {
    const entry = only(`<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:x="urn:example:other"><a:title>Prefixed</a:title>
      <a:entry><a:title>Prefixed entry</a:title><x:link href="https://wrong.example.com/"/><a:link href="https://right.example.com/"/></a:entry></a:feed>`);
    expect(entry).toMatchObject({ title: 'Prefixed entry', url: 'https://right.example.com/', source: { name: 'Prefixed' } });
  });

  it('reads a <feed> in a namespace of the Atom drafts, and a channel named only by dc:title', () => {
    const draft = only('<feed version="0.3" xmlns="http://purl.org/pie/"><title>Pie</title><entry><title>Draft</title><link href="https://pie.example.com/1"/></entry></feed>');
    expect(draft).toMatchObject({ title: 'Draft', url: 'https://pie.example.com/1', source: { name: 'Pie' } });
    const dc = only(rss('<item><title>T</title><link>https://dc.example.com/1</link></item>', '<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">DC Wire</dc:title>'));
    expect(dc.source).toEqual({ name: 'DC Wire', url: null });
  });

  it('falls back to an RSS guid only when it is a permalink, and prefers the link', () => {
    const urls = read(
      rss(`<item><title>1</title><guid>https://chips.example.com/guid</guid></item>
        <item><title>2</title><guid isPermaLink="false">https://chips.example.com/not-a-page</guid></item>
        <item><title>3</title><link>https://chips.example.com/link</link><guid>https://chips.example.com/guid3</guid></item>
        <item><title>4</title><guid isPermaLink="true">/relative-guid</guid></item>`, '', 'xml:base="https://chips.example.com/"'),
    ).map((v) => v.url);
    expect(urls).toEqual(['https://chips.example.com/guid', undefined, 'https://chips.example.com/link', 'https://chips.example.com/relative-guid']);
  });
});

describe('an Atom entry without a link', () => {
  it('takes its id as the link only when the id is an http(s) URL, and prefers a real link', () => {
    const urls = read(
      atom(`<entry><title>1</title><id>https://atom.example.com/2026/rubin</id></entry>
        <entry><title>2</title><id>tag:atom.example.com,2026:rubin</id></entry>
        <entry><title>3</title><id>https://atom.example.com/id</id><link href="https://atom.example.com/page"/></entry>
        <entry><title>4</title><id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id><link rel="enclosure" href="https://atom.example.com/a.mp3"/></entry>`),
    ).map((v) => v.url);
    expect(urls).toEqual(['https://atom.example.com/2026/rubin', undefined, 'https://atom.example.com/page', undefined]);
  });
});

describe('RSS shapes', () => {
  it('reads RSS 1.0 (RDF): items beside the channel, Dublin Core dates and subjects', () => {
    const values = read(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://rdf.example.com/"><title>RDF Wire</title><link>https://rdf.example.com/</link></channel>
      <item rdf:about="https://rdf.example.com/1"><title>First</title><link>https://rdf.example.com/1</link>
        <dc:date>2026-11-24T10:00:00Z</dc:date><dc:subject>Policy</dc:subject><description>One &amp;amp; only</description></item>
      <item rdf:about="https://rdf.example.com/2"><title>Second</title><link>https://rdf.example.com/2</link></item>
    </rdf:RDF>`);
    expect(values.map((v) => v.title)).toEqual(['First', 'Second']);
    expect(values[0]).toMatchObject({
      url: 'https://rdf.example.com/1',
      source: { name: 'RDF Wire', url: 'https://rdf.example.com/' },
      publishedAt: '2026-11-24T10:00:00.000Z',
      topics: ['policy'],
      hook: 'One & only',
    });
  });

  it('reads RSS 0.9x in the Userland namespace, and items outside a channel', () => {
    expect(only('<rss xmlns="http://backend.userland.com/rss2"><channel><title>U</title><item><title>Userland</title><link>https://u.example.com/</link></item></channel></rss>').title).toBe('Userland');
    expect(only('<rss version="0.91"><item><title>Loose</title><link>https://l.example.com/</link></item></rss>').url).toBe('https://l.example.com/');
  });

  it('reads items that carry other vocabularies (dc:creator, xhtml:body, unknown elements) like any other', () => {
    const entry = only(rss(`<item><title>Full</title><link>https://chips.example.com/full</link>
      <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Ada</dc:creator>
      <fullitem>&lt;p&gt;Everything&lt;/p&gt;</fullitem><expirationDate>Wed, 31 Dec 2026 00:00:00 GMT</expirationDate>
      <body xmlns="http://www.w3.org/1999/xhtml"><p>Inline <b>XHTML</b> body</p></body></item>`));
    expect(entry).toMatchObject({ title: 'Full', url: 'https://chips.example.com/full', hook: 'Inline XHTML body' });
  });

  it('says why a document is not a feed', () => {
    expect(readFeedItems('<html><body>hi</body></html>', NOW)).toEqual({ problem: 'its root element is <html>, not <rss>, <rdf:RDF> or <feed>' });
    expect(readFeedItems('just text', NOW)).toEqual({ problem: 'no XML element in it' });
  });
});
