// Every template's HTML checked against the caniemail data set (the database behind caniemail.com)
// for the inboxes most readers use. A feature a client does not support fails the test unless it is
// allowed below, for those clients, with the reason it changes neither layout nor content there.
import { type CanIEmailOptions, caniemail, rawData } from 'caniemail';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderEveryTemplate } from '../helpers/email-samples.ts';

type EmailClient = CanIEmailOptions['clients'][number];

// Thunderbird as its macOS build: the data set has almost nothing for the Windows one (34 of 307
// features), and it is the same program.
const CLIENTS: EmailClient[] = [
  'gmail.desktop-webmail', 'gmail.ios', 'gmail.android', 'gmail.mobile-webmail',
  'outlook.windows', 'outlook.windows-mail', 'outlook.macos', 'outlook.outlook-com', 'outlook.ios', 'outlook.android',
  'apple-mail.macos', 'apple-mail.ios', 'yahoo.desktop-webmail', 'yahoo.ios', 'yahoo.android', 'samsung-email.android',
  'thunderbird.macos',
];

interface Allowed {
  feature: string;
  /** Client names, or `provider.*`. */
  clients: string[];
  reason: string;
}

const ALLOWED: Allowed[] = [
  { feature: 'target attribute', clients: ['*'], reason: 'links to articles open in a new window either way; the contents links carry no target' },
  { feature: 'color-scheme meta tag', clients: ['*'], reason: 'a hint for clients that darken emails; without it they show the light palette, which is complete' },
  { feature: 'color-scheme CSS property', clients: ['*'], reason: 'the same hint, in the style sheet' },
  { feature: '<body> element', clients: ['outlook.macos', 'yahoo.*'], reason: 'nothing rests on <body>: the page colour and its dark override sit on the wrapper table (frame.tsx)' },
  { feature: '<style> element', clients: ['gmail.mobile-webmail'], reason: 'the inline styles are the whole design; the style sheet only narrows padding on phones, adds the dark palette and the competitor grid, and gives the brief\'s links, headlines and paragraphs their colour and spacing (there: the client\'s own links and headings)' },
  { feature: 'Type selector', clients: ['gmail.mobile-webmail'], reason: 'the brief\'s style sheet (a, h3, p) is one that client has none of (see <style> element)' },
  { feature: 'Descendant combinator', clients: ['gmail.mobile-webmail'], reason: 'the same: the brief\'s headline links (h3 a)' },
  { feature: '@media', clients: ['gmail.mobile-webmail', 'outlook.windows', 'outlook.windows-mail', 'thunderbird.*'], reason: 'the same: the inline defaults (28 px padding, light palette, stacked competitor rows) read at any width' },
  { feature: 'display:none', clients: ['gmail.mobile-webmail'], reason: 'that client has no style sheet, so it shows the competitor table stacked with its column names once above (nothing lost); the preheader stays hidden by max-height:0 and overflow:hidden' },
  { feature: 'opacity', clients: ['gmail.mobile-webmail', 'outlook.windows', 'outlook.windows-mail'], reason: 'one of the preheader\'s belt-and-braces hiding styles; display:none or max-height:0 hides it there' },
  { feature: 'max-height property', clients: ['outlook.windows', 'outlook.windows-mail'], reason: 'the same preheader styles; Outlook honours its display:none' },
  { feature: 'overflow', clients: ['outlook.windows', 'outlook.windows-mail'], reason: 'the same preheader styles' },
  { feature: 'border-radius', clients: ['outlook.windows', 'outlook.windows-mail'], reason: 'the button has square corners there' },
  { feature: 'text-decoration-line', clients: ['outlook.windows', 'outlook.windows-mail'], reason: 'React Email\'s <Link> default; our text-decoration (supported) follows it' },
  { feature: 'role attribute', clients: ['outlook.windows-mail'], reason: 'role="presentation" on layout tables is for screen readers; the layout does not depend on it' },
  { feature: 'aria-hidden attribute', clients: ['outlook.windows-mail', 'yahoo.*', 'thunderbird.*'], reason: 'a screen reader there also reads the headings\' emoji; nothing is hidden from sight' },
  { feature: 'overflow-wrap', clients: ['gmail.*', 'outlook.*', 'yahoo.*'], reason: 'one of three ways a long URL breaks: word-break (Gmail, Outlook for Windows) and <wbr> (Yahoo, Outlook.com, Outlook apps) do it there' },
  { feature: 'word-break', clients: ['yahoo.*', 'outlook.windows-mail'], reason: 'long unbroken text also carries <wbr> break opportunities (src/render/email-html.ts); Windows Mail honours neither and may scroll sideways for a very long URL' },
  { feature: '<wbr> element', clients: ['gmail.ios', 'outlook.windows', 'outlook.windows-mail'], reason: 'word-break breaks long text there' },
  {
    feature: 'Local anchors',
    clients: ['gmail.ios', 'yahoo.android', 'yahoo.ios', 'samsung-email.android'],
    reason: 'the contents is one line of section names with their story counts: it tells what is in the issue even where a tap does nothing (Yahoo for iOS opens a yahoo.com page instead)',
  },
];

/**
 * Properties the data set has no entry for, per client: caniemail's checker stops at them, so they
 * are taken out of the HTML checked for that client. Listed so that a new gap shows up here.
 */
const NOT_IN_DATA_SET: Record<string, string[]> = {
  'thunderbird.macos': ['overflow-wrap'],
};

let renderings: Array<{ name: string; html: string }>;

beforeAll(async () => {
  renderings = Object.values(await renderEveryTemplate()).flat();
});

function allowed(feature: string, client: string): Allowed | undefined {
  return ALLOWED.find((a) => a.feature === feature && a.clients.some((c) => c === '*' || c === client || (c.endsWith('.*') && client.startsWith(c.slice(0, -1)))));
}

/** The CSS property a feature of the data set is about ("css-overflow-wrap" → "overflow-wrap"), if it is one. */
function propertyOf(title: string): string | undefined {
  const slug = rawData.data.find((f) => f.title === title)?.slug;
  return slug?.startsWith('css-') ? slug.slice(4) : undefined;
}

/** caniemail for one client, taking out the properties the data set knows nothing about there. */
function check(html: string, client: EmailClient): { errors: Array<{ title: string; notes: string[] }>; gaps: string[] } {
  const gaps: string[] = [];
  for (;;) {
    try {
      const { issues } = caniemail({ clients: [client], html });
      return { errors: [...issues.errors.values()].flat(), gaps };
    } catch (e) {
      const gap = /^Feature "(.+)" not found on "/.exec((e as Error).message)?.[1];
      const property = gap && propertyOf(gap);
      if (!property || gaps.includes(property)) throw e;
      gaps.push(property);
      html = html.replace(new RegExp(`(^|[;"{\\s])${property}\\s*:[^;"}]*;?`, 'g'), '$1');
    }
  }
}

describe('every template in the inboxes readers use', () => {
  it('uses only features those clients support, or ones allowed with a reason', () => {
    const found = new Set<string>();
    const used = new Set<Allowed>();
    const gaps = new Map<string, Set<string>>();
    for (const client of CLIENTS) {
      for (const { name, html } of renderings) {
        const result = check(html, client);
        for (const property of result.gaps) gaps.set(client, (gaps.get(client) ?? new Set()).add(property));
        for (const error of result.errors) {
          const allow = allowed(error.title, client);
          if (allow) used.add(allow);
          else found.add(`${name} in ${client}: ${error.title}${error.notes.length ? ` (${error.notes.join(' ')})` : ''}`);
        }
      }
    }
    expect([...found]).toEqual([]);
    // Every allowance is still needed, and every gap in the data set is known.
    expect(ALLOWED.filter((a) => !used.has(a)).map((a) => a.feature)).toEqual([]);
    expect(Object.fromEntries([...gaps].map(([c, p]) => [c, [...p].sort()]))).toEqual(NOT_IN_DATA_SET);
  });

  it('would catch a feature that changes the layout (the test can fail)', () => {
    const html = (renderings[0] as { html: string }).html.replace('<table', '<div style="display:flex;position:absolute"></div><table');
    const errors = check(html, 'outlook.windows').errors.filter((e) => !allowed(e.title, 'outlook.windows'));
    expect(errors.map((e) => e.title)).toEqual(expect.arrayContaining(['position']));
  });
});
