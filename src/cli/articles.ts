import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { ARTICLE_FORMATS, type ArticleFormat } from '../articles/formats.ts';
import { importArticles, type ImportReport } from '../articles/import.ts';
import { articlesCollectedBetween } from '../articles/repository.ts';
import { previousWeek, weekWindow } from '../editions/week.ts';
import { withContext } from './context.ts';
import { EXIT, plural, say, table, warn } from './output.ts';

export function articlesCommand(program: Command): void {
  const articles = program.command('articles').description('the stored articles the digest is made of');

  articles
    .command('import')
    .description('import articles from a JSON array, NDJSON, or an RSS 2.0 / Atom feed; re-imports update')
    .argument('<file>', 'the file to read')
    .addOption(new Option('--format <format>', 'skip detection').choices(ARTICLE_FORMATS))
    .action(async (file: string, opts: { format?: ArticleFormat }) => {
      const content = await readFile(file, 'utf8');
      const report = await withContext((ctx) => importArticles(ctx.db, content, { now: ctx.clock.now(), format: opts.format, fileName: file }));
      printImport(file, report);
      process.exitCode = report.failed > 0 ? EXIT.partial : EXIT.ok;
    });

  articles
    .command('list')
    .description('articles collected in an ISO week, highest score first')
    .option('--week <week>', 'ISO week such as 2026-W48 (default: the week that ended last)')
    .action(async (opts: { week?: string }) => {
      await withContext(async (ctx) => {
        const week = opts.week ?? previousWeek(ctx.clock.now(), ctx.config.timeZone);
        const window = weekWindow(week, ctx.config.timeZone);
        const found = await articlesCollectedBetween(ctx.db, window.start, window.end);
        say(`${window.week} (${window.label}, ${ctx.config.timeZone}): ${plural(found.length, 'article')}`);
        const rows = found
          .sort((a, b) => b.score - a.score)
          .map((a) => [String(a.score), a.collectedAt.slice(0, 16).replace('T', ' '), a.topics.join(',') || '-', a.title]);
        for (const line of table([['score', 'collected (UTC)', 'topics', 'title'], ...rows])) say(`  ${line}`);
      });
    });
}

export function printImport(file: string, report: ImportReport): void {
  say(`${file} (${report.format}): ${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed`);
  for (const r of report.results.filter((x) => x.outcome === 'failed')) {
    warn(`  ${r.where}: ${(r.errors ?? []).join('; ')}`);
  }
}
