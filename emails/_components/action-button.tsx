import { Button } from '@react-email/components';
import type { ReactNode } from 'react';
import { colors } from './theme.ts';

/** The one call to action of a short email: accent background, white text (readable either way). */
export function ActionButton({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Button href={href} style={{ backgroundColor: colors.accent, color: '#ffffff', padding: '12px 20px', borderRadius: '6px', fontWeight: 700, fontSize: '16px' }}>
      {children}
    </Button>
  );
}
