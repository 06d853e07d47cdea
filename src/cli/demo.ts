// `npm run demo`: the whole weekly job on the embedded default (a SQLite file and the outbox
// folder), on the sample week shipped in data/sample. Running it again duplicates nothing.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { databaseLabel, filesFolder, openDb } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { importArticles } from '../articles/import.ts';
import { importSubscribersCsv } from '../audience/csv-import.ts';
import { findList } from '../audience/lists.ts';
import { demoSecretPath, loadConfig, loadDotEnv } from '../config.ts';
import { type Context, processClock } from '../context.ts';
import { writePreview } from '../desk/preview-files.ts';
import { renderSettings } from '../recap.ts';
import { printImport } from './articles.ts';
import { sendAndReport } from './digest.ts';
import { EXIT, say } from './output.ts';
import { printCsvImport } from './subscribers.ts';

const SAMPLE_DIR = join(projectRoot(), 'data/sample');

/** The checkout's folder: the first above this file with a package.json (from the sources or from the build in dist/). */
function projectRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('the project folder (with package.json) was not found above src/cli/demo.ts');
  }
}
export const DEMO_WEEK = '2026-W48';
const DEMO_NOTE =
  'Infrastructure beat models again this week: export rules now reach rented GPUs, and the big platforms keep ' +
  'buying their way out of the GPU queue. Start with the top story.';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('set up the embedded default (SQLite file + outbox folder) and run the weekly job on the sample week')
    .option('--week <week>', 'the week of the sample articles', DEMO_WEEK)
    .action(async (opts: { week: string }) => {
      process.exitCode = await runDemo(opts.week);
    });
}

async function runDemo(week: string): Promise<number> {
  loadDotEnv();
  const env = { ...process.env };
  if (env.SMTP_URL) say(`(SMTP_URL is set but the demo always writes to the outbox folder)`);
  delete env.SMTP_URL;
  const dataDir = filesFolder(env.DATABASE_URL ?? 'var/recap.db');
  // Outside the demo RECAP_SECRET must be set; the demo keeps one of its own next to its database.
  env.RECAP_SECRET ??= demoSecret(demoSecretPath({ databaseUrl: env.DATABASE_URL ?? 'var/recap.db' }));
  const config = loadConfig(env);
  const db = openDb(config.databaseUrl);
  const ctx: Context = { db, config, clock: processClock(config) };
  try {
    say(`Recap demo · database ${databaseLabel(config.databaseUrl)} · outbox ${config.outboxDir}`);
    const ran = await migrateToLatest(db);
    say(`Database: ${ran.length ? `migrated (${ran.join(', ')})` : 'up to date'}`);

    const articlesFile = join(SAMPLE_DIR, 'articles.json');
    const articles = await importArticles(db, readFileSync(articlesFile, 'utf8'), { now: ctx.clock.now(), fileName: articlesFile });
    printImport('Articles: data/sample/articles.json', articles);

    const list = await findList(db, WEEKLY_AI_RECAP.slug);
    const csvFile = join(SAMPLE_DIR, 'subscribers.csv');
    const subscribers = await importSubscribersCsv(db, csvFile, { listId: list.id, now: ctx.clock.now(), confirmed: false });
    printCsvImport('Subscribers: data/sample/subscribers.csv', subscribers);
    say('');

    const report = await sendAndReport(ctx, { week, note: DEMO_NOTE });
    if (report.kind === 'too-few-stories') return EXIT.tooFewStories;

    const previewDir = join(dataDir, 'preview');
    const files = await writePreview(db, report.edition, { outDir: previewDir, settings: renderSettings(ctx), secret: undefined });
    const outbox = join(config.outboxDir, report.edition.row.week);
    const emls = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')).length : 0;
    say('');
    say(`Outbox: ${outbox}/ (${emls} .eml files, one per delivery; open one in any mail client)`);
    say(`Preview: ${files.find((f) => f.variant === 'full edition')?.html ?? previewDir} (and one file per variant in ${previewDir}/)`);
    say('Run `npm run demo` again: nothing is duplicated and nothing is sent twice.');
    return report.kind === 'sent' && report.outcome.failed > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await db.destroy();
  }
}

function demoSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
