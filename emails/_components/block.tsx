import type { CSSProperties, ReactNode } from 'react';

/**
 * A full-width layout row. Padding, background and borders go on the cell, never on the <table>:
 * Outlook for Windows ignores padding on tables (React Email's <Section> puts its style there).
 */
export function Block({ className, style, spacing, children }: { className?: string; style?: CSSProperties; spacing?: string; children: ReactNode }) {
  return (
    <table role="presentation" width="100%" cellPadding={0} cellSpacing={0} border={0} style={spacing ? { margin: spacing } : undefined}>
      <tbody>
        <tr>
          <td className={className} style={style}>{children}</td>
        </tr>
      </tbody>
    </table>
  );
}
