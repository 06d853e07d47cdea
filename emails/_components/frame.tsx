import { Head, Html, Preview } from '@react-email/components';
import type { ReactNode } from 'react';
import { Mso } from './mso.tsx';
import { COLUMN_WIDTH, darkModeCss, msoCss, s } from './theme.ts';

/**
 * What every email shares: language, dark-mode support, the preheader, one 600 px column.
 * The page colour sits on a full-width wrapper table, not only on <body>: Outlook for Mac, Yahoo and
 * Outlook.com drop or replace <body>. Outlook for Windows ignores max-width, so it gets a fixed
 * 600 px table around the column that no other client sees.
 */
export function Frame({ title, preview, children }: { title: string; preview: string; children: ReactNode }) {
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <title>{title}</title>
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <style>{darkModeCss}</style>
        <Mso html={`<style>${msoCss}</style>`} />
      </Head>
      <body className="dark-page" style={s.body}>
        <Preview>{preview}</Preview>
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
