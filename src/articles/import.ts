// `recap articles import` and, later, the aggregator's HTTP intake: one validation and upsert path
// for every format. Each record stands alone: a bad one is reported and the good ones are kept.
import type { Db } from '../../db/connect.ts';
import { articleSchema, describeIssues } from './article.ts';
import { type ArticleFormat, detectFormat, readRecords } from './formats.ts';
import { upsertArticle } from './repository.ts';

export interface RecordResult {
  where: string;
  outcome: 'inserted' | 'updated' | 'unchanged' | 'failed';
  title?: string;
  errors?: string[];
}

export interface ImportReport {
  format: ArticleFormat;
  results: RecordResult[];
  inserted: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export async function importArticles(
  db: Db,
  content: string,
  /** `documentUrl`: where a feed was fetched from, so its relative links resolve. */
  options: { now: Date; format?: ArticleFormat; fileName?: string; documentUrl?: string },
): Promise<ImportReport> {
  const format = options.format ?? detectFormat(content, options.fileName);
  const results: RecordResult[] = [];
  for (const record of readRecords(content, format, options.now, options.documentUrl)) {
    if ('error' in record) {
      results.push({ where: record.where, outcome: 'failed', errors: [record.error] });
      continue;
    }
    const parsed = articleSchema.safeParse(record.value);
    if (!parsed.success) {
      results.push({ where: record.where, outcome: 'failed', errors: describeIssues(parsed.error) });
      continue;
    }
    const outcome = await upsertArticle(db, parsed.data, options.now);
    results.push({ where: record.where, outcome, title: parsed.data.title });
  }
  const count = (o: RecordResult['outcome']) => results.filter((r) => r.outcome === o).length;
  return { format, results, inserted: count('inserted'), updated: count('updated'), unchanged: count('unchanged'), failed: count('failed') };
}
