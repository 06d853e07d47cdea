import { Body, Container, Head, Html, Preview } from '@react-email/components';
import type { ReactNode } from 'react';
import { darkModeCss, s } from './theme.ts';

/** What every email shares: language, dark-mode support, the preheader, one 600 px column. */
export function Frame({ title, preview, children }: { title: string; preview: string; children: ReactNode }) {
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <title>{title}</title>
        <meta name="color-scheme" content="light dark" />
        <meta name="supported-color-schemes" content="light dark" />
        <style>{darkModeCss}</style>
      </Head>
      <Preview>{preview}</Preview>
      <Body className="dark-page" style={s.body}>
        <Container className="dark-card" style={s.container}>
          {children}
        </Container>
      </Body>
    </Html>
  );
}
