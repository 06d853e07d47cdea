import { Body, Container, Head, Heading, Html, Preview, Section, Text } from '@react-email/components';
import type { ReactNode } from 'react';
import { colors, darkModeCss, s } from './theme.ts';

/** The frame of the short one-off emails (confirmation, welcome): same look as the digest. */
export function SimpleEmail({ title, preview, children, footer }: { title: string; preview: string; children: ReactNode; footer: string }) {
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
          <Section className="pad" style={{ ...s.pad, padding: '28px' }}>
            <Heading as="h1" className="dark-text" style={s.h1}>{title}</Heading>
            {children}
            <Text className="dark-muted" style={{ ...s.small, marginTop: '24px', borderTop: `1px solid ${colors.rule}`, paddingTop: '12px' }}>{footer}</Text>
          </Section>
        </Container>
      </Body>
    </Html>
  );
}
