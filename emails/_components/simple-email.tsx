import { Heading, Text } from '@react-email/components';
import type { ReactNode } from 'react';
import { Block } from './block.tsx';
import { Frame } from './frame.tsx';
import { colors, s } from './theme.ts';

/** The short one-off emails (confirmation, welcome): the digest's frame, a title, a footer line. */
export function SimpleEmail({ title, preview, children, footer }: { title: string; preview: string; children: ReactNode; footer: string }) {
  return (
    <Frame title={title} preview={preview}>
      <Block className="pad" style={{ ...s.pad, padding: '28px' }}>
        <Heading as="h1" className="dark-text" style={s.h1}>{title}</Heading>
        {children}
        <Text className="dark-muted" style={{ ...s.small, marginTop: '24px', borderTop: `1px solid ${colors.rule}`, paddingTop: '12px' }}>{footer}</Text>
      </Block>
    </Frame>
  );
}
