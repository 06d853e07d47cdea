import type { ArticleContent } from '../../src/articles/article.ts';
import { colors, s } from './theme.ts';

type Table = NonNullable<ArticleContent['competitors']>;

/** A real data table (not a layout table): header cells with scope, a caption for screen readers. */
export function CompetitorTable({ table }: { table: Table }) {
  const cell = { padding: '6px 8px', fontSize: '13px', lineHeight: '1.4', verticalAlign: 'top' as const, borderBottom: `1px solid ${colors.rule}`, color: colors.text, wordBreak: 'break-word' as const };
  return (
    <table width="100%" cellPadding={0} cellSpacing={0} style={{ borderCollapse: 'collapse', margin: '0 0 12px', tableLayout: 'fixed', width: '100%' }}>
      <caption className="dark-muted" style={{ ...s.small, textAlign: 'left', captionSide: 'top' }}>Competitor analysis</caption>
      <thead>
        <tr>
          {table.columns.map((column, i) => (
            <th key={i} scope="col" className="dark-text dark-rule" style={{ ...cell, textAlign: 'left', fontWeight: 700, borderBottom: `2px solid ${colors.rule}` }}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((row, r) => (
          <tr key={r}>
            {row.map((value, c) =>
              c === 0 ? (
                <th key={c} scope="row" className="dark-text dark-rule" style={{ ...cell, textAlign: 'left', fontWeight: 600 }}>{value}</th>
              ) : (
                <td key={c} className="dark-text dark-rule" style={cell}>{value}</td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
