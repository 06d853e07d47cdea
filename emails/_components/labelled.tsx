import type { ReactNode } from 'react';
import { s } from './theme.ts';

/** Deep-dive points come as "Label: explanation"; the label is set in bold. */
export function LabelledPoint({ point }: { point: string }) {
  const m = /^([^:]{2,60}):\s+(.+)$/s.exec(point);
  if (!m) return <>{point}</>;
  return (
    <>
      <strong>{m[1]}:</strong> {m[2]}
    </>
  );
}

export function Bullets({ items, render }: { items: string[]; render?: (item: string) => ReactNode }) {
  return (
    <ul className="dark-text" style={s.list}>
      {items.map((item, i) => (
        <li key={i} style={{ margin: '0 0 6px' }}>{render ? render(item) : item}</li>
      ))}
    </ul>
  );
}
