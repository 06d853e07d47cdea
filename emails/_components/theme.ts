// One accent colour, system fonts, and colours chosen to stay readable when a client inverts them
// for dark mode; the `dark-*` classes give clients that honour prefers-color-scheme a proper palette.
import type { CSSProperties } from 'react';

export const colors = {
  page: '#f3f4f6',
  card: '#ffffff',
  text: '#1f2328',
  muted: '#4b5563',
  rule: '#d9dde3',
  accent: '#1d4ed8',
  tint: '#eef3fd',
} as const;

export const fontStack =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif, 'Apple Color Emoji', 'Segoe UI Emoji'";

/** The one column; Outlook for Windows gets it as a fixed width (see frame.tsx). */
export const COLUMN_WIDTH = 600;

/** The `dark-*` classes: what each turns to where the reader's system is in dark mode. */
const darkClasses = {
  page: 'background-color: #111318',
  card: 'background-color: #1b1e25',
  tint: 'background-color: #222838',
  text: 'color: #e6e8eb',
  muted: 'color: #b3b9c3',
  link: 'color: #93b4ff',
  rule: 'border-color: #39404d',
} as const;
const darkRules = (names: Array<keyof typeof darkClasses>) => names.map((name) => `  .dark-${name} { ${darkClasses[name]} !important; }`).join('\n');
const padCss = `
@media only screen and (max-width: 480px) {
  .pad { padding-left: 16px !important; padding-right: 16px !important; }
}`;

// The palette and the phone padding every email has; the competitor grid only the full digest uses.
const paletteCss = `
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
${darkRules(['page', 'card', 'tint', 'text', 'muted', 'link', 'rule'])}
}${padCss}`;
const gridCss = `
@media only screen and (min-width: 481px) {
  .grid-head { display: table-header-group !important; }
  .grid-row { display: table-row !important; }
  .grid-cell { display: table-cell !important; padding: 6px 8px !important; border-bottom: 1px solid ${colors.rule}; overflow-wrap: break-word !important; word-break: normal !important; }
  .grid-label { display: none !important; }
}`;

export const darkModeCss = paletteCss + gridCss;

/**
 * The brief's style sheet, without the spaces a browser does not need: the look of its links,
 * headlines, paragraphs and rules by element, which spares each of them an inline style of its own (a client
 * without a style sheet shows its own links, headings and rules, all there), the palette and the
 * phone padding. The meta tags alone ask for dark mode (frame.tsx).
 */
export const briefCss = `
a { color: ${colors.accent}; }
h2 a, h3 a { color: ${colors.text}; text-decoration: none; }
h3 { margin: 12px 0 2px; font-size: 16px; }
p { margin: 0; }
hr { border: 0; border-top: 1px solid ${colors.rule}; margin: 16px 0; }
@media (prefers-color-scheme: dark) {
${darkRules(['page', 'card', 'tint', 'text', 'muted', 'rule'])}
  a { ${darkClasses.link} !important; }
  h2 a, h3 a { ${darkClasses.text} !important; }
}${padCss}`.replace(/\s*([{}:;,])\s*/g, '$1').replace(/;}/g, '}').trim();

/**
 * Outlook for Windows does not pass a font from a cell into the tables inside it, and falls back to
 * Times when a stack starts with a font it lacks: every element gets its fonts there.
 */
export const msoCss = "table, td, th, p, li, a, span, h1, h2, h3, h4, strong { font-family: 'Segoe UI', Arial, sans-serif !important; }";

export const s = {
  body: { backgroundColor: colors.page, margin: 0, padding: 0 },
  page: { backgroundColor: colors.page },
  pageCell: { backgroundColor: colors.page, padding: '24px 0' },
  container: { maxWidth: `${COLUMN_WIDTH}px`, width: '100%', margin: '0 auto', backgroundColor: colors.card },
  // A token longer than the line (a URL, an address) breaks rather than widening the column.
  card: { backgroundColor: colors.card, fontFamily: fontStack, overflowWrap: 'anywhere', wordBreak: 'break-word' },
  pad: { padding: '0 28px' },
  text: { color: colors.text, fontSize: '16px', lineHeight: '1.6', margin: '0 0 12px' },
  muted: { color: colors.muted, fontSize: '14px', lineHeight: '1.5', margin: '0 0 8px' },
  small: { color: colors.muted, fontSize: '13px', lineHeight: '1.5', margin: '0 0 6px' },
  link: { color: colors.accent, textDecoration: 'underline' },
  h1: { color: colors.text, fontSize: '26px', lineHeight: '1.25', margin: '0 0 4px', fontWeight: 700 },
  h2: { color: colors.text, fontSize: '22px', lineHeight: '1.3', margin: '0 0 8px', fontWeight: 700 },
  h3: { color: colors.text, fontSize: '18px', lineHeight: '1.35', margin: '20px 0 8px', fontWeight: 700 },
  h4: { color: colors.text, fontSize: '16px', lineHeight: '1.4', margin: '18px 0 6px', fontWeight: 700 },
  list: { color: colors.text, fontSize: '16px', lineHeight: '1.6', margin: '0 0 12px', paddingLeft: '22px' },
  rule: { borderTop: `1px solid ${colors.rule}`, borderBottom: 'none', margin: '24px 0' },
} satisfies Record<string, CSSProperties>;
