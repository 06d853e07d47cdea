// The structure of every template's HTML, read back with htmlparser2: headings in order with their
// emoji hidden from screen readers, contents links that lead somewhere in every client that follows
// anchors, and what Outlook for Windows needs (padding on cells, a fixed-width column, fonts on
// every element). The layout itself is checked in chromium (emails.browser.test.ts).
import type { Element } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';
import { beforeAll, describe, expect, it } from 'vitest';
import { msoCss } from '../../emails/_components/theme.ts';
import { breakLongRuns } from '../../src/render/email-html.ts';
import { articleSchema } from '../../src/articles/article.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { renderVariant } from '../../src/render/variant.ts';
import { article } from '../helpers/articles.ts';
import { hostileEdition, renderEveryTemplate } from '../helpers/email-samples.ts';

let renderings: Array<{ name: string; html: string }>;

beforeAll(async () => {
  renderings = Object.values(await renderEveryTemplate()).flat();
});

const elements = (html: string) => DomUtils.findAll(() => true, parseDocument(html).children);
const style = (el: Element) => (el.attribs.style ?? '').toLowerCase();
const settings = { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' };

describe('every template', () => {
  it('has one h1 and headings that go down one level at a time', () => {
    for (const { name, html } of renderings) {
      const levels = elements(html).filter((el) => /^h[1-6]$/.test(el.name)).map((el) => Number(el.name[1]));
      expect(levels[0], name).toBe(1);
      expect(levels.filter((l) => l === 1), name).toHaveLength(1);
      levels.forEach((level, i) => {
        if (i > 0) expect(level, `${name}: heading ${i} after h${levels[i - 1]}`).toBeLessThanOrEqual((levels[i - 1] as number) + 1);
      });
    }
  });

  it('hides the emoji of headings from screen readers', () => {
    let emoji = 0;
    for (const { name, html } of renderings) {
      for (const heading of elements(html).filter((el) => /^h[1-6]$/.test(el.name))) {
        const spoken = DomUtils.textContent(withoutHidden(heading));
        expect(spoken, name).not.toMatch(/\p{Extended_Pictographic}/u);
        if (/\p{Extended_Pictographic}/u.test(DomUtils.textContent(heading))) emoji++;
      }
    }
    expect(emoji).toBeGreaterThan(0);
  });

  it('puts padding on cells, never on tables (Outlook for Windows ignores it there)', () => {
    for (const { name, html } of renderings) {
      for (const table of elements(html).filter((el) => el.name === 'table')) expect(style(table), name).not.toContain('padding');
    }
  });

  it('gives Outlook for Windows a fixed 600 px table around the column, and fonts on every element that holds text', () => {
    const msoTags = new Set(msoCss.slice(0, msoCss.indexOf('{')).split(',').map((t) => t.trim()));
    for (const { name, html } of renderings) {
      expect(html, name).toMatch(/<!--\[if mso\]><table role="presentation" width="600"[^>]*><tr><td><!\[endif\]--><table[^>]*class="dark-card"[\s\S]*<!--\[if mso\]><\/td><\/tr><\/table><!\[endif\]-->/);
      expect(html, name).toContain(`<!--[if mso]><style>${msoCss}</style><![endif]-->`);
      expect(html, name).not.toContain('<x-mso');
      const body = DomUtils.findOne((el) => el.name === 'body', parseDocument(html).children) as Element;
      const holdingText = DomUtils.findAll((el) => el.children.some((c) => c.type === 'text' && c.data.trim() !== ''), body.children);
      for (const el of holdingText) if (el.name !== 'div') expect(msoTags, `${name}: <${el.name}>`).toContain(el.name);
    }
  });

  it('paints the page colour on a wrapper table, not only on <body>', () => {
    for (const { name, html } of renderings) {
      const body = DomUtils.findOne((el) => el.name === 'body', parseDocument(html).children) as Element;
      const wrapper = DomUtils.findOne((el) => el.name === 'table', body.children, false) as Element;
      expect(wrapper.attribs.class, name).toContain('dark-page');
      expect(style(wrapper), name).toContain('background-color');
      const cell = DomUtils.findOne((el) => el.name === 'td', wrapper.children) as Element;
      expect(cell.attribs.class, name).toContain('dark-page');
    }
  });
});

describe('long unbroken text', () => {
  it('gets <wbr> break opportunities in the body’s text, leaving attributes, entities, the head and placeholders whole', () => {
    const url = 'https://recap.example.com/confirm/k7Qx2mZp9k7Qx2mZp9k7Qx2mZp9?a=1&amp;b=2';
    const placeholder = '%%recap-0123456789ab:unsubscribe_url%%';
    const html = `<html><head><title>${url}</title></head><body><a href="${url}">${url}</a> <p>${placeholder}${'x'.repeat(45)} short words stay</p></body></html>`;
    const out = breakLongRuns(html);
    expect(out).toContain(`<title>${url}</title>`);
    expect(out).toContain(`href="${url}"`);
    expect(out).toContain(placeholder);
    expect(out).toContain('&amp;<wbr>');
    expect(out).toContain('short words stay');
    const text = /<a [^>]*>(.*?)<\/a>/.exec(out)?.[1] ?? '';
    expect(text.replace(/<wbr>/g, '')).toBe(url);
    // No stretch of more than 20 characters without a break opportunity.
    for (const piece of text.split('<wbr>')) expect(piece.replace(/&amp;/g, '&').length).toBeLessThanOrEqual(20);
    expect(/<p>(.*?)<\/p>/.exec(out)?.[1]).toMatch(/^%%recap-0123456789ab:unsubscribe_url%%x{20}<wbr>x{20}<wbr>x{5} short/);
  });
});

describe('the digest', () => {
  const digest = () => renderings.find((r) => r.name === 'weekly-recap')?.html as string;

  it('has a short contents of its topic sections, whose links stay in the email and land on <a name> and id alike', () => {
    const all = elements(digest());
    const inPage = all.filter((el) => el.name === 'a' && el.attribs.href?.startsWith('#'));
    // One link per topic section: every h2 but the top story's.
    const sections = all.filter((el) => el.name === 'h2').length - 1;
    expect(inPage.length).toBeGreaterThan(1);
    expect(inPage.length).toBe(sections);
    for (const link of inPage) {
      expect(link.attribs.target).toBeUndefined();
      const target = (link.attribs.href as string).slice(1);
      expect(all.filter((el) => el.name === 'a' && el.attribs.name === target)).toHaveLength(1);
      expect(all.filter((el) => el.attribs.id === target)).toHaveLength(1);
    }
  });

  it('leads to the top story: contents before it, the editor’s note after it', () => {
    const html = digest();
    const topStory = html.indexOf('<h2');
    expect(html.indexOf('In this issue')).toBeGreaterThan(0);
    expect(html.indexOf('In this issue')).toBeLessThan(topStory);
    expect(html.indexOf('From the editor')).toBeGreaterThan(topStory);
  });

  it('has no contents when the edition is short', async () => {
    const stories = rankArticles([article({ score: 9, topics: ['policy'] }), article({ score: 8 }), article({ score: 7, topics: ['safety'] })].map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 })));
    const { html } = await renderVariant({ ...hostileEdition(), stories }, '', settings);
    expect(html).not.toContain('In this issue');
  });

  it('names its competitor table with the heading above it, not a caption repeating it', () => {
    expect(digest()).toContain('scope="col"');
    expect(digest()).not.toContain('<caption');
  });
});

describe('the text part', () => {
  it('lines up the timeline: every event and its wrapped lines start in the same column, whatever the dates', async () => {
    const story = hostileEdition().stories.at(-1);
    const long = { ...story, timeline: [...story!.timeline, { date: '2026-12', event: 'An event long enough to wrap onto a second line of the plain-text part, which is 76 columns wide.' }, { date: 'In the second half of 2027', event: 'A date too long for the column gets a line of its own.' }] };
    const { text } = await renderVariant({ ...hostileEdition(), stories: [long as NonNullable<typeof story>] }, '', settings);
    const lines = text.slice(text.indexOf('Timeline\n--------\n\n')).split('\n').slice(3);
    const block = lines.slice(0, lines.indexOf(''));
    const columns = long.timeline.map((t) => {
      const line = block.find((l) => l.includes(t.event.slice(0, 20))) as string;
      return line.indexOf(t.event.slice(0, 20));
    });
    const continued = block.filter((l) => l.startsWith(' ') && !long.timeline.some((t) => l.includes(t.event.slice(0, 20))));
    expect(continued.length).toBeGreaterThan(0);
    for (const l of continued) columns.push(/^ */.exec(l)?.[0].length as number);
    // The column is as wide as the longest date that fits in 20 characters, plus a space.
    expect(columns[0]).toBe(21);
    expect(block).toContain('In the second half of 2027');
    expect(new Set(columns)).toEqual(new Set([columns[0]]));
  });
});

/** A copy of the element without the parts marked aria-hidden. */
function withoutHidden(el: Element): Element {
  const copy = el.cloneNode(true);
  for (const hidden of DomUtils.findAll((e) => e.attribs['aria-hidden'] === 'true', copy.children)) DomUtils.removeElement(hidden);
  return copy;
}
