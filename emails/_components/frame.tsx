import { Head, Html, Preview } from '@react-email/components';
import type { ReactNode } from 'react';
import { Mso } from './mso.tsx';
import { briefCss, COLUMN_WIDTH, darkModeCss, msoCss, s } from './theme.ts';

/**
 * What every email shares: language, dark-mode support, the preheader, one 600 px column.
 * The page colour sits on a full-width wrapper table, not only on <body>: Outlook for Mac, Yahoo and
 * Outlook.com drop or replace <body>. Outlook for Windows ignores max-width, so it gets a fixed
 * 600 px table around the column that no other client sees.
 * `brief`: the brief's lighter head, its style sheet without the competitor grid and the preheader's
 * filler in fewer bytes (see Preheader), as it must stay under 15,000 bytes.
 */
export function Frame({ title, preview, brief = false, children }: { title: string; preview: string; brief?: boolean; children: ReactNode }) {
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <title>{title}</title>
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <style>{brief ? briefCss : darkModeCss}</style>
        <Mso html={`<style>${msoCss}</style>`} />
      </Head>
      <body className="dark-page" style={s.body}>
        {brief ? <Preheader text={preview} /> : <Preview>{preview}</Preview>}
        <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} border={0} className="dark-page" style={s.page}>
          <tbody>
            <tr>
              <td align="center" className="dark-page" style={s.pageCell}>
                <Mso html={`<table role="presentation" width="${COLUMN_WIDTH}" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td>`} />
                <table role="presentation" width="100%" align="center" cellPadding={0} cellSpacing={0} border={0} className="dark-card" style={s.container}>
                  <tbody>
                    <tr>
                      <td className="dark-card" style={s.card}>{children}</td>
                    </tr>
                  </tbody>
                </table>
                <Mso html="</td></tr></table>" />
              </td>
            </tr>
          </tbody>
        </table>
      </body>
    </Html>
  );
}

/** React Email's <Preview>: the preheader, hidden, then filler up to this many characters. */
const PREVIEW_LENGTH = 150;

/**
 * As React Email's <Preview>, with a filler that keeps inbox lists from showing the email's first
 * lines after the preheader in 3 bytes a character (a combining grapheme joiner and a space, which
 * do not collapse) where <Preview> takes 20.
 */
function Preheader({ text }: { text: string }) {
  const shown = text.slice(0, PREVIEW_LENGTH);
  return (
    <div style={{ display: 'none', overflow: 'hidden', lineHeight: '1px', opacity: 0, maxHeight: 0, maxWidth: 0 }}>
      {shown}
      {shown.length < PREVIEW_LENGTH ? <div>{'\u034f '.repeat(PREVIEW_LENGTH - shown.length)}</div> : null}
    </div>
  );
}
