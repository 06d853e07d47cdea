/// <reference lib="dom" />
// Every template (emails/*.tsx) in a real browser (Debian's chromium through playwright-core) at
// phone, small-phone and desktop widths, with hostile-ish data: nothing scrolls sideways, no word
// is split mid-word, the digest's top story is on the first screen, the competitor table stacks on
// a phone, and dark mode survives a client that drops <body>. Screenshots: outputDir('emails').
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.ts';
import { renderEveryTemplate, templateNames } from '../helpers/email-samples.ts';
import { outputDir } from '../helpers/output-dir.ts';

const WIDTHS = [320, 375, 1280];
const FIRST_SCREEN = { width: 375, height: 667 };

let browser: Browser;
let renderings: Record<string, Array<{ name: string; html: string }>>;
const SHOTS = outputDir('emails');

beforeAll(async () => {
  renderings = await renderEveryTemplate();
  if (chromiumAvailable) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

async function open(html: string, viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser.newPage({ viewport, colorScheme });
  await page.setContent(html);
  return page;
}

it('has sample renderings for every template in emails/', () => {
  expect(Object.keys(renderings).sort()).toEqual(templateNames());
  for (const list of Object.values(renderings)) expect(list.length).toBeGreaterThan(0);
});

describe.skipIf(!chromiumAvailable)('every email in a browser', () => {
  const cases = () => Object.values(renderings).flat();

  it.each(WIDTHS)('fits %i px: no sideways scrolling, no word split in two, a column of at most 600 px', async (width) => {
    for (const { name, html } of cases()) {
      const page = await open(html, { width, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(0);
      const column = await page.evaluate(() => (document.querySelector('table.dark-card') as Element).getBoundingClientRect().width);
      expect(column, name).toBeLessThanOrEqual(600);
      expect(await splitWords(page), `${name} at ${width} px`).toEqual([]);
      await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      await page.close();
    }
  });

  it.each(['weekly-recap', 'weekly-recap-brief', 'weekly-recap-web'])('%s: the top story starts on a 375 × 667 phone screen', async (name) => {
    const page = await open(rendering(name), FIRST_SCREEN);
    // The top story's title: the first heading of a story.
    const top = await page.evaluate(() => (document.querySelector('h2[id^="story-"]') as Element).getBoundingClientRect());
    expect(top.bottom).toBeLessThanOrEqual(FIRST_SCREEN.height);
    await page.screenshot({ path: join(SHOTS, `${name}-first-screen.png`) });
    await page.close();
  });

  it('stacks the competitor table on a phone and shows a grid on a desktop', async () => {
    const layout = async (width: number) => {
      const page = await open(rendering('weekly-recap'), { width, height: 900 });
      const result = await page.evaluate(() => {
        const table = (document.querySelector('th[scope="col"]') as Element).closest('table') as HTMLTableElement;
        const rows = [...table.tBodies[0]!.rows].map((row) => [...row.cells].map((c) => Math.round(c.getBoundingClientRect().top)));
        const head = (table.tHead as HTMLElement).getBoundingClientRect().height;
        return { rows, head };
      });
      await page.close();
      return result;
    };
    for (const width of [320, 375]) {
      const { rows, head } = await layout(width);
      expect(head, `${width} px: no header row`).toBe(0);
      // One value per line: every cell of a row below the one before it.
      for (const tops of rows) for (let i = 1; i < tops.length; i++) expect(tops[i]).toBeGreaterThan(tops[i - 1] as number);
    }
    const { rows, head } = await layout(1280);
    expect(head).toBeGreaterThan(0);
    for (const tops of rows) expect(new Set(tops).size).toBe(1);
  });

  it.each([
    ['as sent', 'dark', (html: string) => html],
    // Outlook for Mac, Yahoo and Outlook.com drop <body> or put a <div> of their own in its place.
    ['in a client that replaces <body>', 'dark-no-body', (html: string) => html.replace(/<body[^>]*>/, '<div>').replace('</body>', '</div>')],
  ])('turns the page around the card dark in dark mode, %s', async (label, shot, transform) => {
    for (const { name, html } of cases()) {
      const page = await open(transform(html), { width: 1280, height: 900 }, 'dark');
      const around = await page.evaluate(() => {
        // What is painted beside the card, left of it and below it.
        const card = (document.querySelector('table.dark-card') as Element).getBoundingClientRect();
        return [document.elementFromPoint(Math.max(1, card.left - 20), card.top + 10), document.elementFromPoint(card.left + 10, Math.max(1, card.top - 10))].map((el) => {
          let bg = 'rgba(0, 0, 0, 0)';
          for (let n: Element | null = el; n && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
          return bg;
        });
      });
      for (const bg of around) expect(luminance(bg), `${name} ${label}: ${bg}`).toBeLessThan(0.05);
      await page.screenshot({ path: join(SHOTS, `${name}-${shot}.png`) });
      await page.close();
    }
  });
});

function rendering(name: string): string {
  const found = Object.values(renderings).flat().find((r) => r.name === name);
  if (!found) throw new Error(`no rendering named ${name}`);
  return found.html;
}

/** Words of up to 20 characters that the browser laid out on two lines. */
function splitWords(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const split: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // A longer token (a URL, an address) may break anywhere; a shorter one only at its hyphens.
      for (const token of (node.textContent ?? '').matchAll(/\S{1,20}(?!\S)(?<!\S{21})/g)) {
        for (const part of token[0].matchAll(/[^-–—]+/g)) {
          const range = document.createRange();
          range.setStart(node, token.index + part.index);
          range.setEnd(node, token.index + part.index + part[0].length);
          const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
          if (lines.size > 1) split.push(part[0]);
        }
      }
    }
    return split;
  });
}

/** WCAG relative luminance of an rgb() colour. */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
    const x = Number(v) / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
