// The brief format: each story as headline, hook and one TL;DR line, the top story a little longer,
// under BRIEF_HTML_LIMIT whatever the edition holds; the text part follows the same shape.
import { describe, expect, it } from 'vitest';
import { type ArticleInput, articleSchema, type StoredArticle } from '../../src/articles/article.ts';
import { clickUrl } from '../../src/delivery/clicks.ts';
import { rankArticles, selectStories } from '../../src/editions/select.ts';
import { parseVariantKey } from '../../src/render/arrange.ts';
import { createElement } from 'react';
import { WeeklyRecap, type WeeklyRecapProps } from '../../emails/weekly-recap.tsx';
import { renderEmail } from '../../src/render/email-html.ts';
import { LONGEST_MESSAGE_TAG, personalize } from '../../src/render/personalize.ts';
import { clipText, toBriefLeadView, toBriefView, toSectionView, toStoryView } from '../../src/render/story-view.ts';
import { renderText } from '../../src/render/text.ts';
import { BRIEF_HTML_LIMIT, type EditionForRender, renderVariant } from '../../src/render/variant.ts';
import { article, sampleArticles } from '../helpers/articles.ts';

const settings = { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' };
/** The longest per-recipient values there are (the size bound assumes them). */
const longest = { name: '"'.repeat(100), email: `${'a'.repeat(64)}@${'b'.repeat(180)}.com`, unsubscribe_url: `https://recap.test/unsubscribe/${'x'.repeat(200)}`, preferences_url: `https://recap.test/preferences/${'x'.repeat(200)}`, message_tag: LONGEST_MESSAGE_TAG };

function stored(inputs: ArticleInput[]): StoredArticle[] {
  return rankArticles(inputs.map((input, i) => ({ ...articleSchema.parse(input), id: i + 1 })));
}

function edition(stories: StoredArticle[], overrides: Partial<EditionForRender> = {}): EditionForRender {
  return { listName: 'Weekly AI Recap', number: 7, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: 'A note from the editor.', stories, ...overrides };
}

const visible = (html: string) => html.replace(/<!-- -->/g, '');
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
const squash = (s: string) => s.replace(/\s+/g, ' ');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the brief', () => {
  // Short stories: the template's shape, rendered as renderVariant would before any shrinking.
  const stories = stored([1, 2, 3].map((i) => article({ score: 90 - i, topics: [i === 2 ? 'policy' : 'compute'], tldr: { whatChanged: `It changed ${i}.`, whyItMatters: `It matters ${i}.`, whatToDoNext: `Do ${i}.`, whoShouldCare: `Everyone ${i}` } })));
  const [top, ...rest] = stories as [StoredArticle, ...StoredArticle[]];
  const link = (a: StoredArticle) => `https://recap.test/c/${a.id}`;
  const props = (omitted = 0): Required<WeeklyRecapProps> => ({
    listName: 'Weekly AI Recap', editionNumber: 7, dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', greetingName: 'Ada', editorNote: 'A note from the editor.', leadTopics: [],
    topStory: toBriefLeadView(toStoryView(top, false, link(top)), 0),
    sections: [toSectionView('compute', rest.map((a) => toBriefView(toStoryView(a, false, link(a)))))],
    links: { viewInBrowser: 'https://recap.test/archive/2026-W48', preferences: 'https://recap.test/preferences/tok', unsubscribe: 'https://recap.test/unsubscribe/tok' },
    recipientEmail: 'ada@example.com', postalAddress: settings.postalAddress, webVersion: false, brief: true, omitted,
  });

  it('gives every story its linked headline, hook and one TL;DR line; the top story two; no analysis', async () => {
    const html = visible(await renderEmail(createElement(WeeklyRecap, props())));
    for (const story of stories) {
      // The counted link (settings.link), so clicks on the brief are counted too.
      expect(html).toMatch(new RegExp(`<h[23] id="story-${story.id}"[^>]*><a href="https://recap.test/c/${story.id}"`));
      expect(html).toContain(escape(story.hook));
    }
    for (const story of rest) {
      expect(html).toContain(`<strong>TL;DR:</strong> ${escape(story.tldr?.whatChanged as string)}`);
      expect(html).not.toContain(escape(story.tldr?.whyItMatters as string));
    }
    expect(html).not.toContain('Read original on');
    expect(html).toContain(`What changed:</strong> ${escape(top.tldr?.whatChanged as string)}`);
    expect(html).toContain(`Why it matters:</strong> ${escape(top.tldr?.whyItMatters as string)}`);
    expect(html).not.toContain('Who should care');
    expect(html).not.toContain('Key takeaways');
    expect(html).not.toContain('In this issue');
    // Header, editor's note and the whole footer as in the full edition.
    expect(html).toContain('#7 · 23–29 Nov 2026');
    expect(html).toContain('A note from the editor.');
    expect(html).toContain('href="https://recap.test/preferences/tok"');
    expect(html).toContain('href="https://recap.test/unsubscribe/tok"');
    expect(html).toContain(settings.postalAddress);
    expect(html).toMatch(/The full analysis of every story: <a href="https:\/\/recap.test\/archive\/2026-W48"[^>]*>read the full edition<\/a>/);
    expect(visible(await renderEmail(createElement(WeeklyRecap, props(2))))).toContain('2 more stories and the full analysis of every story:');
  });

  it('writes the same shape in its text part', () => {
    const text = renderText(props());
    const flat = squash(text);
    expect(flat).toContain(`TOP STORY: ${top.title}`);
    expect(flat).toContain(`What changed: ${top.tldr?.whatChanged}`);
    expect(flat).toContain(`Why it matters: ${top.tldr?.whyItMatters}`);
    expect(flat).not.toContain('What to do next:');
    expect(flat).not.toContain('Key takeaways');
    for (const story of rest) {
      expect(flat).toContain(`TL;DR: ${story.tldr?.whatChanged}`);
      expect(flat).not.toContain(story.tldr?.whyItMatters as string);
    }
    expect(flat).toMatch(/The full analysis of every story: read the full edition \[\d+\]/);
    expect(text).toContain('Unsubscribe: https://recap.test/unsubscribe/tok');
    expect(squash(renderText(props(1)))).toContain('One more story and the full analysis of every story:');
  });

  it('comes from a variant key with |brief: the top story in short, the rest shrunk to fit, under the bound', async () => {
    const variant = await renderVariant(edition(stories), '|brief', { ...settings, link });
    const full = await renderVariant(edition(stories), '', { ...settings, link });
    expect(variant.htmlBytes).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
    expect(variant.htmlBytes).toBeLessThan(full.htmlBytes);
    expect(full.html).toContain('Key takeaways');
    expect(variant.html).not.toContain('Key takeaways');
    expect(variant.html).toContain(`href="https://recap.test/c/${top.id}"`);
    expect(squash(variant.text)).toContain(`TOP STORY: ${top.title}`);
  });
});

describe('the brief’s size bound', () => {
  it(`keeps an edition of the most stories, every field at its limit, under ${BRIEF_HTML_LIMIT} bytes`, async () => {
    // Long words with markup and quotes among them, every field as long as an article may have it.
    const long = (n: number) => 'Nvidia & AMD\'s "Rubin" <GPUs> beat forecasts '.repeat(Math.ceil(n / 46)).slice(0, n);
    const huge = Array.from({ length: 50 }, (_, i) =>
      article({
        title: `${i} ${long(290)}`,
        hook: long(600),
        source: { name: long(120), url: null },
        topics: [`topic-${i % 5}`],
        score: 90 - i,
        tldr: { whatChanged: long(1000), whyItMatters: long(1000), whatToDoNext: long(1000), whoShouldCare: long(300) },
        takeaways: Array.from({ length: 10 }, () => long(600)),
      }),
    );
    const stories = stored(huge);
    const variant = await renderVariant(edition(stories, { editorNote: long(2000), preheader: long(200) }), 'topic-3|brief', settings);
    expect(stories.length).toBe(50);
    expect(variant.htmlBytes).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
    const { html, text } = personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, longest);
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
    expect(html).not.toContain('<GPUs>');
    // The lead (topic-3's best story) stays; the lowest-ranked stories go first, and are counted.
    const lead = stories.find((s) => s.topics.includes('topic-3')) as StoredArticle;
    expect(variant.omitted).not.toContain(lead.id);
    expect(variant.omitted).toContain((stories[stories.length - 1] as StoredArticle).id);
    expect(html).toContain(`id="story-${lead.id}"`);
    const more = `${variant.omitted.length} more stories and the full analysis of every story:`;
    expect(visible(html)).toContain(more);
    expect(squash(text)).toContain(more);
  });

  it('still renders, at its smallest, an edition whose every character grows fivefold when escaped', async () => {
    const big = (n: number) => '&"<>'.repeat(Math.ceil(n / 4)).slice(0, n);
    const stories = stored(Array.from({ length: 12 }, (_, i) => article({ title: `${i} ${big(290)}`, hook: big(600), source: { name: big(120), url: null }, score: 90 - i })));
    const variant = await renderVariant(edition(stories, { editorNote: big(2000) }), '|brief', settings);
    expect(variant.omitted).toHaveLength(11);
    expect(variant.html).not.toContain('<>');
  });

  it('still renders, at its smallest, an edition whose links are thousands of characters long', async () => {
    const stories = stored(Array.from({ length: 12 }, (_, i) => article({ url: `https://news.example/${i}/${'p'.repeat(1900)}`, score: 90 - i })));
    const variant = await renderVariant(edition(stories), '|brief', settings);
    expect(variant.omitted).toHaveLength(11);
    expect(variant.html).toContain(`id="story-${(stories[0] as StoredArticle).id}"`);
  });

  // The sample week as an edition holds it (RECAP_MAX_STORIES, RECAP_MAX_PER_TOPIC at their defaults), with
  // plain and counted links (RECAP_TRACK_CLICKS), in the longest key there is: a topic, the brief, a subject test's last arm.
  const week = () => edition(selectStories(sampleArticles().map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 })), { maxStories: 12, maxPerTopic: 4, minStories: 3 }).stories, { subjects: ['A', 'B', 'C', 'D'] });
  const tracked = { ...settings, link: (a: StoredArticle, v: { key: string; messageTag: string }) => clickUrl(settings.baseUrl, 'secret', 123456789, a, parseVariantKey(v.key), v.messageTag) };
  it.each([['plain links', '|brief', settings], ['counted links', '|brief', tracked], ['counted links', 'policy|brief|s3', tracked]] as const)(
    'sends an ordinary week of 12 stories whole: every story its headline, hook, TL;DR line and source (%s, %s)',
    async (_, key, settings) => {
      const ordinary = week();
      expect(ordinary.stories).toHaveLength(12);
      const variant = await renderVariant(ordinary, key, settings);
      expect(variant).toMatchObject({ omitted: [], compacted: [] });
      expect(variant.htmlBytes).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
      const { html, text } = personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, longest);
      expect(Buffer.byteLength(html)).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
      const lead = ordinary.stories.find((s) => html.includes(`<h2 id="story-${s.id}"`)) as StoredArticle;
      for (const story of ordinary.stories) {
        expect(html, story.title).toMatch(new RegExp(`<h[23] id="story-${story.id}"[^>]*><a href="[^"]+">${escapeRegExp(escape(story.title))}</a>`));
        expect(html, story.title).toContain(escape(clipText(story.hook, story === lead ? 400 : 200)));
        if (story !== lead) expect(html, story.title).toContain(`<strong>TL;DR:</strong> ${escape(clipText(story.tldr?.whatChanged as string, 160))}`);
        expect(squash(text), story.title).toContain(`— ${story.source.name} [`);
      }
      expect(html).toContain(`<strong>What changed:</strong> ${escape(clipText(lead.tldr?.whatChanged as string, 240))}`);
      expect(html).toContain(`<strong>Why it matters:</strong> ${escape(clipText(lead.tldr?.whyItMatters as string, 240))}`);
      expect(html).toContain('The full analysis of every story:');
      expect(html).not.toMatch(/<!-- -->/);
    },
  );
});
