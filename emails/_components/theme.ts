// One accent colour, system fonts, and colours chosen to stay readable when a client inverts them
// for dark mode; the `dark-*` classes give clients that honour prefers-color-scheme a proper palette.
// (React Email's <Body> puts its style on a wrapper cell, hence the `.dark-page > table … td` rule.)
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

export const darkModeCss = `
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .dark-page, .dark-page > table > tbody > tr > td { background-color: #111318 !important; }
  .dark-card { background-color: #1b1e25 !important; }
  .dark-tint { background-color: #222838 !important; }
  .dark-text { color: #e6e8eb !important; }
  .dark-muted { color: #b3b9c3 !important; }
  .dark-link { color: #93b4ff !important; }
  .dark-rule { border-color: #39404d !important; }
}
@media only screen and (max-width: 480px) {
  .pad { padding-left: 16px !important; padding-right: 16px !important; }
}`;

export const s = {
  body: { backgroundColor: colors.page, margin: 0, padding: '24px 0', fontFamily: fontStack },
  container: { maxWidth: '600px', width: '100%', margin: '0 auto', backgroundColor: colors.card },
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
