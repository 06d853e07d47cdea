import { describe, expect, it } from 'vitest';
import { type ArticleInput, articleSchema, type StoredArticle } from '../../src/articles/article.ts';
import { clickUrl } from '../../src/delivery/clicks.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { describeVariantKey, parseVariantKey, variantKey } from '../../src/render/arrange.ts';
import { personalize } from '../../src/render/personalize.ts';
import { type EditionForRender, HTML_LIMIT, renderVariant } from '../../src/render/variant.ts';
import { article, sampleArticles } from '../helpers/articles.ts';

const settings = { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' };

function stored(inputs: ArticleInput[]): StoredArticle[] {
  return rankArticles(inputs.map((input, i) => ({ ...articleSchema.parse(input), id: i + 1 })));
}

function edition(stories: StoredArticle[], overrides: Partial<EditionForRender> = {}): EditionForRender {
  return { listName: 'Weekly AI Recap', number: 7, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: null, stories, ...overrides };
}

const reader = { name: 'Ada', email: 'ada@example.com', unsubscribe_url: 'https://recap.test/unsubscribe/tok', preferences_url: 'https://recap.test/preferences/tok', message_tag: '' };

describe('the weekly recap template', () => {
  const stories = stored(sampleArticles());
  const top = stories[0] as StoredArticle;

  it('shows the top story in full: hook, all four TL;DR parts, takeaways, table, deep dive, predictions, timeline', async () => {
    const html = visible(personalize(await toRow(renderVariant(edition(stories), '', settings)), reader).html);
    for (const part of [top.tldr?.whatChanged, top.tldr?.whyItMatters, top.tldr?.whatToDoNext, top.tldr?.whoShouldCare]) {
      expect(html).toContain(escape(part as string));
    }
    expect(html).toContain('30-second TL;DR');
    for (const t of top.takeaways) expect(html).toContain(escape(t));
    for (const p of top.predictions) expect(html).toContain(escape(p.claim));
    for (const t of top.timeline) expect(html).toContain(escape(t.event));
    expect(html).toContain(`Read original on ${escape(top.source.name)}`);
  });

  it('renders the competitor table as a data table with header cells', async () => {
    const withTable = stories.find((s) => s.competitors) as StoredArticle;
    const reordered = [withTable, ...stories.filter((s) => s !== withTable)];
    const { html } = await renderVariant(edition(reordered), '', settings);
    expect(html).toMatch(/<th[^>]*scope="col"[^>]*>/);
    for (const column of withTable.competitors?.columns ?? []) expect(html).toContain(escape(column));
  });

  it('has a header with edition number and date range, the editor’s note, and a footer with every link and the postal address', async () => {
    const html = visible(personalize(await toRow(renderVariant(edition(stories, { editorNote: 'First paragraph.\n\nSecond paragraph.' }), '', settings)), reader).html);
    expect(html).toContain('#7 · 23–29 Nov 2026');
    expect(html).toContain('First paragraph.');
    expect(html).toContain('Second paragraph.');
    expect(html).toContain('href="https://recap.test/archive/2026-W48"');
    expect(html).toContain('href="https://recap.test/preferences/tok"');
    expect(html).toContain('href="https://recap.test/unsubscribe/tok"');
    expect(html).toContain(settings.postalAddress);
    expect(html).toContain('because ada@example.com subscribed to Weekly AI Recap');
  });

  it('is accessible: lang, presentation layout tables, one h1 and real headings', async () => {
    const { html } = await renderVariant(edition(stories), '', settings);
    expect(html).toMatch(/<html[^>]*lang="en"/);
    const tables = html.match(/<table[^>]*>/g) ?? [];
    const dataTables = tables.filter((t) => !t.includes('role="presentation"'));
    // Only competitor tables are data tables.
    expect(dataTables.length).toBe(stories[0]?.competitors ? 1 : 0);
    expect(html.match(/<h1[\s>]/g)).toHaveLength(1);
    expect((html.match(/<h2[\s>]/g) ?? []).length).toBeGreaterThan(2);
    expect(html).not.toMatch(/<img(?![^>]*alt=)/);
  });

  it('gives every other story a card with its source and a link to the original, grouped under topic headings', async () => {
    const html = visible((await renderVariant(edition(stories.slice(0, 12)), '', settings)).html);
    for (const story of stories.slice(1, 12)) {
      expect(html).toContain(`href="${escape(story.url)}"`);
      expect(html).toContain(`Read original on ${escape(story.source.name)}`);
    }
    expect(html).toContain('>Policy</h2>');
  });

  it('leads a variant with its readers’ topics and keeps every story', async () => {
    const policyTop = stories.find((s) => s.topics.includes('policy')) as StoredArticle;
    const safety = stories.find((s) => s.topics[0] === 'safety') as StoredArticle;
    const { html, text } = await renderVariant(edition(stories), 'policy,safety', settings);
    expect(oneLine(text)).toContain(`TOP STORY: ${policyTop.title}`);
    expect(oneLine(text)).toContain('leading with what you follow: Policy, Safety');
    // The reader's other topic comes before topics they do not follow.
    const safetyAt = html.indexOf('>Safety</h2>');
    const computeAt = html.indexOf('>Compute</h2>');
    expect(safetyAt).toBeGreaterThan(0);
    expect(computeAt === -1 || safetyAt < computeAt).toBe(true);
    for (const story of stories) expect(html).toContain(escape(story.title));
    expect(html).toContain(escape(safety.title));
  });
});

describe('hostile article text', () => {
  const evil = '<script>alert("x")</script><img src=x onerror=alert(1)> & \'q\'';
  const hostile = stored([
    article({ title: `Title ${evil}`, hook: `Hook ${evil}`, source: { name: `Src ${evil}`, url: null }, takeaways: [`Take ${evil}`], score: 99,
      competitors: { columns: ['Feature', `Col ${evil}`], rows: [[`Row ${evil}`, `Cell ${evil}`]] } }),
    article({ title: 'Forged %%recap-000000000000:unsubscribe_url%% placeholder', score: 10 }),
  ]);

  it('is escaped everywhere in the HTML', async () => {
    const { html } = await renderVariant(edition(hostile), '', settings);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('&amp;');
  });

  it('cannot forge a per-recipient placeholder: placeholders carry a random nonce', async () => {
    const variant = await renderVariant(edition(hostile), '', settings);
    const row = { html: variant.html, text: variant.text, placeholder_nonce: variant.nonce };
    const { html, text } = personalize(row, reader);
    expect(html).toContain('%%recap-000000000000:unsubscribe_url%%');
    expect(text).toContain('%%recap-000000000000:unsubscribe_url%%');
    expect(html).not.toContain(`%%recap-${variant.nonce}:`);
  });
});

describe('per-recipient values', () => {
  it('are escaped for HTML and kept on one line in text', async () => {
    const variant = await renderVariant(edition(stored(sampleArticles())), '', settings);
    const row = { html: variant.html, text: variant.text, placeholder_nonce: variant.nonce };
    const { html, text } = personalize(row, { ...reader, name: '<b>Bob</b> & "Co"\r\nBcc: x@evil.test' });
    expect(visible(html)).toContain('Hi &lt;b&gt;Bob&lt;/b&gt; &amp; &quot;Co&quot;');
    expect(html).not.toContain('<b>Bob</b>');
    expect(text).toContain('Hi <b>Bob</b> & "Co" Bcc: x@evil.test,');
  });
});

describe('the plain-text part', () => {
  it('is written from the data: underlined headings, numbered link references, wrapped lines, no HTML', async () => {
    const stories = stored(sampleArticles());
    const variant = await renderVariant(edition(stories), '', settings);
    const { text } = personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, reader);
    expect(text).not.toMatch(/<\/?[a-z][^>]*>/i);
    expect(text).toMatch(/^WEEKLY AI RECAP #7 · 23–29 Nov 2026\n={20,}$/m);
    expect(text).toMatch(/^30-second TL;DR\n-{15}$/m);
    expect(text).toContain(`What changed: ${stories[0]?.tldr?.whatChanged.split(' ').slice(0, 4).join(' ')}`);
    expect(text).toMatch(/Read original on .+ \[1\]/);
    expect(text).toContain(`[1] ${stories[0]?.url}`);
    expect(text).toContain('Unsubscribe: https://recap.test/unsubscribe/tok');
    expect(text).toContain('Hi Ada,');
    for (const line of text.split('\n')) {
      if (!/https?:\/\/\S{40,}/.test(line)) expect([...line].length, line).toBeLessThanOrEqual(78);
    }
  });
});

describe('the size bound', () => {
  // Counted links (RECAP_TRACK_CLICKS) are longer, and carry each message's tag: the bound counts the longest.
  const tracked = { ...settings, link: (a: StoredArticle, v: { key: string; messageTag: string }) => clickUrl(settings.baseUrl, 'secret', 123456789, a, parseVariantKey(v.key), v.messageTag) };
  it.each([['plain links', settings], ['counted links', tracked]] as const)('keeps the largest possible edition under 102,000 bytes by shortening the lowest-ranked stories (%s)', async (_, settings) => {
    // Every field at its limit, full of characters that grow when escaped.
    const big = (n: number) => '&"<>'.repeat(Math.ceil(n / 4)).slice(0, n);
    const huge = Array.from({ length: 12 }, (_, i) =>
      article({
        title: `${i} ${big(290)}`,
        hook: big(600),
        source: { name: big(120), url: null },
        topics: [`topic-${i % 5}`],
        score: 90 - i,
        tldr: { whatChanged: big(1000), whyItMatters: big(1000), whatToDoNext: big(1000), whoShouldCare: big(300) },
        takeaways: Array.from({ length: 10 }, () => big(600)),
        competitors: { columns: Array.from({ length: 6 }, () => big(120)), rows: Array.from({ length: 12 }, () => Array.from({ length: 6 }, () => big(200))) },
        deepDive: Array.from({ length: 10 }, () => big(800)),
        predictions: Array.from({ length: 6 }, () => ({ claim: big(300), rationale: big(800) })),
        timeline: Array.from({ length: 12 }, () => ({ date: '2026-11-01', event: big(300) })),
      }),
    );
    const stories = stored(huge);
    // The last arm of a subject test of four subjects: the longest variant part a counted link carries.
    const variant = await renderVariant(edition(stories, { editorNote: big(2000), subjects: ['A', 'B', 'C', 'D'] }), 'topic-3|s3', settings);
    expect(variant.htmlBytes).toBeLessThanOrEqual(HTML_LIMIT);
    expect(variant.compacted.length).toBeGreaterThan(0);
    // The lowest-ranked stories shrink first, and the lead (topic-3's best story) is never shrunk.
    const lowest = stories[stories.length - 1] as StoredArticle;
    expect(variant.compacted).toContain(lowest.id);
    expect(variant.compacted).not.toContain(stories.find((s) => s.topics.includes('topic-3'))?.id);
    const longest = { name: '"'.repeat(100), email: `${'a'.repeat(64)}@${'b'.repeat(180)}.com`, unsubscribe_url: `https://recap.test/unsubscribe/${'x'.repeat(200)}`, preferences_url: `https://recap.test/preferences/${'x'.repeat(200)}`, message_tag: 'x'.repeat(24) };
    const { html } = personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, longest);
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(HTML_LIMIT);
  });

  it('leaves an ordinary week whole', async () => {
    const variant = await renderVariant(edition(stored(sampleArticles()).slice(0, 12)), '', settings);
    expect(variant.compacted).toEqual([]);
    expect(variant.trimmedLeadSections).toEqual([]);
    expect(variant.htmlBytes).toBeLessThan(HTML_LIMIT);
  });
});

/** React separates adjacent text with <!-- -->; readers never see it. */
function visible(html: string): string {
  return html.replace(/<!-- -->/g, '');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

async function toRow(v: Promise<{ html: string; text: string; nonce: string }>) {
  const r = await v;
  return { html: r.html, text: r.text, placeholder_nonce: r.nonce };
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

describe('variant keys', () => {
  const editionTopics = new Set(['policy', 'safety', 'compute']);

  it('say the topics, the format and the subject arm, and read back as written', () => {
    const keys = [
      [variantKey([], editionTopics), { topics: [], format: 'full', subjectArm: null }, 'full edition'],
      [variantKey(['safety', 'policy', 'unknown'], editionTopics), { topics: ['policy', 'safety'], format: 'full', subjectArm: null }, 'policy + safety'],
      [variantKey([], editionTopics, { format: 'brief' }), { topics: [], format: 'brief', subjectArm: null }, 'full edition · brief'],
      [variantKey(['policy'], editionTopics, { format: 'brief', subjectArm: 1 }), { topics: ['policy'], format: 'brief', subjectArm: 1 }, 'policy · brief · subject B'],
      [variantKey(['compute'], editionTopics, { subjectArm: 0 }), { topics: ['compute'], format: 'full', subjectArm: 0 }, 'compute · subject A'],
    ] as const;
    expect(keys.map(([key]) => key)).toEqual(['', 'policy,safety', '|brief', 'policy|brief|s1', 'compute|s0']);
    for (const [key, choice, words] of keys) {
      expect(parseVariantKey(key)).toEqual(choice);
      expect(describeVariantKey(key)).toBe(words);
    }
  });
});
