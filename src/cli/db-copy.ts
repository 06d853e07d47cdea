// `recap db copy --to URL | --from URL` and `recap db verify …`: DATABASE_URL's database copied to
// another (or another's into it), then compared table by table.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type CopyProgress, compareDatabases, CopyRefusedError, copyDatabase, type TableCheck } from '../../db/copy.ts';
import { databaseLabel, dialectOf, openDb } from '../../db/connect.ts';
import { loadConfig, loadDotEnv } from '../config.ts';
import { EXIT, type Progress, progress, say, table } from './output.ts';

interface Direction {
  to?: string;
  from?: string;
  json?: boolean;
}

/** Source and target URLs: DATABASE_URL is the one the option does not name. */
function endpoints(options: Direction): { source: string; target: string } {
  if (Boolean(options.to) === Boolean(options.from)) throw new CopyRefusedError('give exactly one of --to URL (copy DATABASE_URL there) or --from URL (copy it into DATABASE_URL)');
  loadDotEnv();
  const here = loadConfig().databaseUrl;
  const { source, target } = options.to ? { source: here, target: options.to } : { source: options.from as string, target: here };
  const same = (url: string) => (dialectOf(url) === 'sqlite' ? resolve(url.replace(/^(sqlite|file):(\/\/)?/, '')) : new URL(url).href);
  if (same(source) === same(target)) throw new CopyRefusedError(`the source and the target are the same database (${databaseLabel(source)})`);
  return { source, target };
}

function report(checks: TableCheck[], json: boolean, extra: Record<string, unknown>): void {
  const ok = checks.every((c) => c.match);
  if (json) {
    say(JSON.stringify({ ...extra, ok, tables: checks }, null, 2));
  } else {
    const rows = checks.map((c) => [c.table, String(c.sourceRows), String(c.targetRows), c.sourceChecksum.slice(0, 16), c.match ? 'ok' : `MISMATCH (target ${c.targetChecksum.slice(0, 16)})`]);
    for (const line of table([['table', 'source rows', 'target rows', 'sha256', ''], ...rows])) say(line);
    const total = checks.reduce((n, c) => n + c.sourceRows, 0);
    const bad = checks.filter((c) => !c.match).map((c) => c.table);
    say(ok ? `all ${checks.length} tables match (${total} rows)` : `${bad.length} of ${checks.length} tables differ: ${bad.join(', ')}`);
  }
  if (!ok) process.exitCode = EXIT.partial;
}

/** A progress bar per table on a terminal, plain lines otherwise. */
function tableProgress(): { update: CopyProgress; stop(): void } {
  let current: { table: string; bar: Progress } | undefined;
  return {
    update(name, done, total) {
      if (current?.table !== name) {
        current?.bar.stop();
        current = { table: name, bar: progress(`copying ${name}`) };
      }
      current.bar.update(done, total);
    },
    stop: () => current?.bar.stop(),
  };
}

async function withBoth<T>(options: Direction, run: (source: ReturnType<typeof openDb>, target: ReturnType<typeof openDb>, labels: { source: string; target: string }) => Promise<T>): Promise<T> {
  const { source, target } = endpoints(options);
  const a = openDb(source);
  const b = openDb(target);
  try {
    return await run(a, b, { source: databaseLabel(source), target: databaseLabel(target) });
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

export function dbCopyCommands(db: Command): void {
  db.command('copy')
    .description('copy the whole database to another (SQLite ⇄ PostgreSQL, or another file), then verify it table by table')
    .option('--to <url>', 'copy DATABASE_URL into this database (a postgres:// URL or a SQLite path)')
    .option('--from <url>', 'copy this database into DATABASE_URL')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nThe target is migrated to the source\'s level and must be empty (a new database); the copy is one transaction on it.\n' +
        'Stop `recap serve` and `recap schedule` first: what they write meanwhile is not copied (and the check then says so).\n' +
        'Exit codes: 0 copied and every table matches, 1 a table differs, 2 refused (target not empty, bad URL).',
    )
    .action(async (options: Direction) => {
      await withBoth(options, async (source, target, labels) => {
        const shown = tableProgress();
        const result = await copyDatabase(source, target, { progress: shown.update }).finally(() => shown.stop());
        if (!options.json) say(`copied ${labels.source} to ${labels.target} (migrated to ${result.migration})`);
        report(result.checks, Boolean(options.json), { ...labels, migration: result.migration });
      });
    });

  db.command('verify')
    .description('compare DATABASE_URL with another database table by table (row counts and checksums), as `db copy` does after copying')
    .option('--to <url>', 'the copy to compare DATABASE_URL with')
    .option('--from <url>', 'the original DATABASE_URL was copied from')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit codes: 0 every table matches, 1 a table differs, 2 bad usage.')
    .action(async (options: Direction) => {
      await withBoth(options, async (source, target, labels) => report(await compareDatabases(source, target), Boolean(options.json), labels));
    });
}

