// What every story owes the aggregator and its publishers: the rights line with the link to the
// original (top story, cards, compact cards; HTML, text part and web version), and the analysis
// label where the article has one. Rendered by the product's own renderVariant and renderWebVersion.
import type { Element } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { RIGHTS_NOTICE } from '../../emails/_components/rights-line.tsx';
import { type ArticleInput, articleSchema, type StoredArticle } from '../../src/articles/article.ts';
import { personalize } from '../../src/render/personalize.ts';
import { type EditionForRender, renderVariant, renderWebVersion } from '../../src/render/variant.ts';
import { article, sampleArticles } from '../helpers/articles.ts';

const settings = { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' };
const reader = { name: 'Ada', email: 'ada@example.com', unsubscribe_url: 'https://recap.test/unsubscribe/tok', preferences_url: 'https://recap.test/preferences/tok', message_tag: '' };
const LABEL = 'AI-generated analysis for this event.';

/** In the order given: index 0 is the top story. */
function stored(inputs: ArticleInput[]): StoredArticle[] {
  return inputs.map((input, i) => ({ ...articleSchema.parse(input), id: i + 1 }));
}

function edition(stories: StoredArticle[]): EditionForRender {
  return { listName: 'Weekly AI Recap', number: 7, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: null, stories };
}

async function rendered(stories: StoredArticle[], key = '') {
  const v = await renderVariant(edition(stories), key, settings);
  return { ...personalize({ html: v.html, text: v.text, placeholder_nonce: v.nonce }, reader), compacted: v.compacted, omitted: v.omitted };
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The paragraphs that carry the rights notice: their text and links, entities decoded. */
function rightsParagraphs(html: string) {
  const paragraphs = DomUtils.findAll((el) => el.name === 'p' && squash(DomUtils.textContent(el)).startsWith(RIGHTS_NOTICE), parseDocument(html).children);
  return paragraphs.map((p) => ({
    text: squash(DomUtils.textContent(p)),
    links: DomUtils.findAll((el) => el.name === 'a', p.children).map((a: Element) => ({ href: a.attribs.href, text: squash(DomUtils.textContent(a)) })),
  }));
}

/** The text part's numbered references: [n] → URL. */
function references(text: string): Map<string, number> {
  return new Map([...text.matchAll(/^\[(\d+)\] (\S+)$/gm)].map((m) => [m[2] as string, Number(m[1])]));
}

function expectRightsInEveryStory(html: string, text: string, stories: StoredArticle[]): void {
  const inHtml = rightsParagraphs(html);
  expect(inHtml).toHaveLength(stories.length);
  const refs = references(text);
  for (const story of stories) {
    const source = squash(story.source.name);
    expect(inHtml, story.title).toContainEqual({ text: `${RIGHTS_NOTICE} Original source: ${source}`, links: [{ href: story.url, text: source }] });
    expect(squash(text), story.title).toContain(`${RIGHTS_NOTICE} Original source: ${source} [${refs.get(story.url)}]`);
  }
  expect(squash(text).split(RIGHTS_NOTICE)).toHaveLength(stories.length + 1);
}

/**
 * The brief's credits: every story's part (its heading up to the next story's) ends with "— Source",
 * the source linking to the original, in the HTML and the text part; the rights notice said once in each.
 */
function expectBriefCredits(html: string, text: string, stories: StoredArticle[]): void {
  const doc = parseDocument(html);
  const headings = DomUtils.findAll((el) => /^h[23]$/.test(el.name) && /^story-/.test(el.attribs.id ?? ''), doc.children);
  expect(headings.map((h) => h.attribs.id)).toEqual(expect.arrayContaining(stories.map((s) => `story-${s.id}`)));
  const refs = references(text);
  for (const story of stories) {
    const heading = headings.find((h) => h.attribs.id === `story-${story.id}`) as Element;
    // The story's part: what follows its heading up to the next heading or rule (the top story's: up to its row's end).
    const part: Element[] = [];
    for (let el = DomUtils.nextElementSibling(heading); el && !/^(h[123]|hr)$/.test(el.name); el = DomUtils.nextElementSibling(el)) part.push(el);
    const last = part.at(-1) as Element;
    const source = squash(story.source.name);
    expect(squash(DomUtils.textContent(last)), story.title).toMatch(new RegExp(`— ${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    const links = DomUtils.findAll((el) => el.name === 'a', last.children);
    expect(links.at(-1) && { href: links.at(-1)?.attribs.href, text: squash(DomUtils.textContent(links.at(-1) as Element)) }, story.title).toEqual({ href: story.url, text: source });
    expect(squash(text), story.title).toContain(`— ${source} [${refs.get(story.url)}]`);
  }
  for (const part of [squash(DomUtils.textContent(doc)), squash(text)]) expect(part.split(RIGHTS_NOTICE)).toHaveLength(2);
  expect(squash(text).split(' — ').length - 1).toBe(stories.length);
}

describe('the rights line', () => {
  it('ends the top story and every card with the publisher and a link to the original, in the HTML and the text part', async () => {
    const stories = stored(sampleArticles());
    const { html, text, compacted } = await rendered(stories);
    expect(compacted).toEqual([]);
    expectRightsInEveryStory(html, text, stories);
  });

  it('is not claimed for an editor’s item (a negative id, see editions.ts): the editors’ own link carries none', async () => {
    const stories = stored(sampleArticles());
    const item = { ...(stories[1] as StoredArticle), id: -1, title: 'Our pick: a long read', url: 'https://editors.example/pick', source: { name: 'Weekly AI Recap’s editors', url: null } };
    const { html, text } = await rendered([...stories, item]);
    expect(html).toContain('Our pick: a long read');
    expectRightsInEveryStory(html, text, stories);
  });

  it('ends the stories shrunk to title and link as well', async () => {
    // Stories at their limits, so the lowest-ranked shrink to keep the email under Gmail's clipping size.
    const long = (n: number) => '&"<>'.repeat(Math.ceil(n / 4)).slice(0, n);
    const stories = stored(
      Array.from({ length: 12 }, (_, i) =>
        article({
          source: { name: `Publisher ${i} “Zoë & Co” <b>`, url: null },
          hook: long(600),
          tldr: { whatChanged: long(1000), whyItMatters: long(1000), whatToDoNext: long(1000), whoShouldCare: long(300) },
          takeaways: Array.from({ length: 10 }, () => long(600)),
          deepDive: Array.from({ length: 10 }, () => long(800)),
          predictions: Array.from({ length: 6 }, () => ({ claim: long(300), rationale: long(800) })),
        }),
      ),
    );
    const { html, text, compacted } = await rendered(stories);
    expect(compacted.length).toBeGreaterThan(0);
    expectRightsInEveryStory(html, text, stories);
    expect(html).not.toContain('<b>');
  });

  it('ends every story of the brief, whole or shrunk to its headline, with its source linked; the notice said once; none for a story it left out', async () => {
    const stories = stored(sampleArticles()).slice(0, 12);
    const whole = await rendered(stories, '|brief');
    expect(whole).toMatchObject({ compacted: [], omitted: [] });
    expectBriefCredits(whole.html, whole.text, stories);
    // Stories at their limits: the lowest-ranked shrink to headline and source, then are left out.
    const long = (n: number) => '&"<>'.repeat(Math.ceil(n / 4)).slice(0, n);
    const big = stored(Array.from({ length: 12 }, (_, i) => article({ title: `${i} ${long(200)}`, source: { name: `Publisher ${i} “Zoë & Co” <b>`, url: null }, hook: long(600), tldr: { whatChanged: long(1000), whyItMatters: long(1000), whatToDoNext: 'Do this.', whoShouldCare: 'Everyone' } })));
    const tight = await rendered(big, '|brief');
    expect(tight.compacted.length).toBeGreaterThan(0);
    expect(tight.omitted.length).toBeGreaterThan(0);
    expectBriefCredits(tight.html, tight.text, big.filter((s) => !tight.omitted.includes(s.id)));
    expect(tight.html).not.toContain('<b>');
  });

  it('is not claimed in the brief for an editor’s item either', async () => {
    const stories = stored(sampleArticles()).slice(0, 11);
    const item = { ...(stories[1] as StoredArticle), id: -1, title: 'Our pick: a long read', url: 'https://editors.example/pick', source: { name: 'Weekly AI Recap’s editors', url: null } };
    const { html, text } = await rendered([...stories, item], '|brief');
    expect(html).toContain('Our pick: a long read');
    expectBriefCredits(html, text, stories);
  });

  it('is in the web version of every story too', async () => {
    const stories = stored(sampleArticles());
    const html = await renderWebVersion(edition(stories), settings);
    const inHtml = rightsParagraphs(html);
    expect(inHtml).toHaveLength(stories.length);
    for (const story of stories) expect(inHtml.map((p) => p.links[0]?.href)).toContain(story.url);
  });
});

describe('the analysis label', () => {
  const sample = sampleArticles();
  const seed = sample.find((a) => a.url.includes('tmtpost.com')) as ArticleInput;
  const others = sample.filter((a) => a !== seed);

  it('heads the top story’s analysis where the seed article has it: after the TL;DR, before the takeaways', async () => {
    const { html, text } = await rendered(stored([seed, ...others]));
    const page = squash(DomUtils.textContent(parseDocument(html)));
    expect(page).toContain(`🧠 ${LABEL}`);
    expect(page.indexOf('30-second TL;DR')).toBeLessThan(page.indexOf(LABEL));
    expect(page.indexOf(LABEL)).toBeLessThan(page.indexOf('Key takeaways'));
    expect(text.indexOf('30-second TL;DR')).toBeLessThan(text.indexOf(LABEL));
    expect(text.indexOf(LABEL)).toBeLessThan(text.indexOf('Key takeaways'));
    const web = await renderWebVersion(edition(stored([seed, ...others])), settings);
    expect(squash(DomUtils.textContent(parseDocument(web)))).toContain(LABEL);
  });

  it('is not shown for an article without one, nor on a card, which shows no analysis', async () => {
    const { html, text } = await rendered(stored([others[0] as ArticleInput, seed, ...others.slice(1)]));
    expect(html).not.toContain(LABEL);
    expect(text).not.toContain(LABEL);
  });

  it('goes with the analysis: a top story without takeaways, table, deep dive or predictions shows none', async () => {
    const bare = { ...seed, takeaways: [], competitors: null, deepDive: [], predictions: [] };
    const { html, text } = await rendered(stored([bare, ...others]));
    expect(html).not.toContain(LABEL);
    expect(text).not.toContain(LABEL);
  });

  it('is plain text: markup shows as typed, bidi overrides and line breaks are gone', async () => {
    const hostile = { ...seed, analysisLabel: '<b>AI</b> & "analysis"\u202e\r\nBcc: x@evil.test' };
    const { html, text } = await rendered(stored([hostile, ...others]));
    expect(html).toContain('&lt;b&gt;AI&lt;/b&gt; &amp; &quot;analysis&quot; Bcc: x@evil.test');
    expect(html).not.toContain('<b>AI</b>');
    expect(text).toContain('<b>AI</b> & "analysis" Bcc: x@evil.test');
    expect(html + text).not.toContain('\u202e');
  });
});
