/// <reference lib="dom" />
// The digest in a real browser (Debian's chromium through playwright-core): readable from 320 to
// 600 px without sideways scrolling, and legible in dark mode. Screenshots land in var/screenshots
// for people to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articleSchema } from '../../src/articles/article.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { personalize } from '../../src/render/personalize.ts';
import { renderVariant } from '../../src/render/variant.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { chromiumAvailable, launchChromium } from '../helpers/browser.ts';

const SHOTS = join(import.meta.dirname, '../../var/screenshots');
const available = chromiumAvailable;

let browser: Browser;
/** The digest in each format, by variant key. */
const FORMATS = [{ format: 'full', key: '' }, { format: 'brief', key: '|brief' }] as const;
const htmls = new Map<string, string>();

beforeAll(async () => {
  if (!available) return;
  browser = await launchChromium();
  const stories = rankArticles(sampleArticles().map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 }))).slice(0, 12);
  for (const { key } of FORMATS) {
    const variant = await renderVariant(
      { listName: 'Weekly AI Recap', number: 48, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote: 'A note from the editor.', stories },
      key,
      { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' },
    );
    htmls.set(key, personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, {
      name: 'Ada', email: 'ada@example.com', unsubscribe_url: 'https://recap.test/unsubscribe/t', preferences_url: 'https://recap.test/preferences/t', message_tag: '',
    }).html);
  }
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

/** WCAG relative luminance contrast of two rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe.skipIf(!available).each(FORMATS)('the $format digest in a browser', ({ format, key }) => {
  const html = () => htmls.get(key) as string;
  it.each([320, 375, 600, 1024])('fits %i px without horizontal scrolling', async (width) => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.setContent(html());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // The content column never exceeds 600 px.
    const column = await page.evaluate(() => Math.max(...[...document.querySelectorAll('table.dark-card')].map((t) => t.getBoundingClientRect().width)));
    expect(column).toBeLessThanOrEqual(600);
    await page.screenshot({ path: join(SHOTS, `digest-${format}-${width}.png`), fullPage: true });
    await page.close();
  });

  it.each(['light', 'dark'] as const)('keeps body text legible in %s mode', async (scheme) => {
    const page = await browser.newPage({ viewport: { width: 600, height: 900 }, colorScheme: scheme });
    await page.setContent(html());
    const pairs = await page.evaluate(() =>
      // Every element that shows text of its own.
      [...document.querySelectorAll('body *')].filter((el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim())).map((el) => {
        let bg = 'rgba(0, 0, 0, 0)';
        for (let n: Element | null = el; n && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
        return { text: (el.textContent ?? '').slice(0, 40), fg: getComputedStyle(el).color, bg };
      }),
    );
    expect(pairs.length).toBeGreaterThan(50);
    for (const p of pairs) expect(contrast(p.fg, p.bg), `${p.text}: ${p.fg} on ${p.bg}`).toBeGreaterThanOrEqual(4.5);
    if (scheme === 'dark') {
      // The card and the page around it both turn dark.
      const card = await page.evaluate(() => getComputedStyle(document.querySelector('table.dark-card') as Element).backgroundColor);
      const around = await page.evaluate(() => getComputedStyle(document.querySelector('body > table td') as Element).backgroundColor);
      expect(contrast(card, 'rgb(0, 0, 0)')).toBeLessThan(2);
      expect(contrast(around, 'rgb(0, 0, 0)')).toBeLessThan(2);
    }
    await page.screenshot({ path: join(SHOTS, `digest-${format}-${scheme}.png`) });
    await page.close();
  });
});
