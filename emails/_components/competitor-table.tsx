import type { CSSProperties } from 'react';
import type { ArticleContent } from '../../src/articles/article.ts';
import { colors } from './theme.ts';

type Table = NonNullable<ArticleContent['competitors']>;

/**
 * A real data table (header cells with scope; the heading above names it, so no caption). Rows are
 * stacked by default — one block per competitor, each value under its column's name — so it reads
 * at 320 px in every client; the `grid-*` rules (theme.ts) turn it into a grid where a client
 * honours media queries and the screen is wider than a phone. Outlook for Windows ignores
 * `display` and draws the grid anyway, so the repeated column names are hidden from it.
 */
export function CompetitorTable({ table }: { table: Table }) {
  const text = { fontSize: '13px', lineHeight: '1.4', verticalAlign: 'top' as const, color: colors.text, textAlign: 'left' as const };
  return (
    <table width="100%" cellPadding={0} cellSpacing={0} border={0} style={{ borderCollapse: 'collapse', margin: '0 0 12px', width: '100%' }}>
      <thead className="grid-head" style={{ display: 'none' }}>
        <tr>
          {table.columns.map((column, i) => (
            <th key={i} scope="col" className="grid-cell dark-text dark-rule" style={{ ...text, fontWeight: 700, borderBottom: `2px solid ${colors.rule}` }}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((row, r) => (
          <tr key={r} className="grid-row" style={{ display: 'block', borderTop: `1px solid ${colors.rule}`, padding: '6px 0' }}>
            {row.map((value, c) =>
              c === 0 ? (
                <th key={c} scope="row" className="grid-cell dark-text dark-rule" style={{ ...text, display: 'block', fontSize: '14px', fontWeight: 700 }}>{value}</th>
              ) : (
                <td key={c} className="grid-cell dark-text dark-rule" style={{ ...text, display: 'block' }}>
                  <span className="grid-label dark-muted" style={{ color: colors.muted, fontWeight: 600, msoHide: 'all' } as CSSProperties}>{table.columns[c]}: </span>
                  {value}
                </td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
