import { type Command, InvalidArgumentError } from 'commander';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { describeIssues } from '../articles/article.ts';
import { type CsvImportReport, importSubscribersCsv } from '../audience/csv-import.ts';
import { CSV_DELIMITERS, type CsvDelimiter } from '../audience/csv-records.ts';
import { findList } from '../audience/lists.ts';
import { findSegment } from '../audience/segments.ts';
import { EXPORT_FORMATS, type ExportFormat, writeSubscribersExport } from '../audience/subscriber-export.ts';
import { subscriberInputSchema, subscribersPage, upsertSubscriber } from '../audience/subscribers.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from '../../db/schema.ts';
import { withContext } from './context.ts';
import { EXIT, say, warn } from './output.ts';

const listOption = ['--list <slug>', 'the list', WEEKLY_AI_RECAP.slug] as const;

export function subscribersCommand(program: Command): void {
  const subscribers = program.command('subscribers').description('the people who receive the recap');

  subscribers
    .command('add')
    .description('add a subscriber (active and confirmed: you assert their consent) or update one')
    .argument('<email>', 'their address')
    .option('--name <name>', 'their name ("Ada Lindqvist", "Okafor, Chidi")')
    .option('--first-name <name>', 'what the greeting calls them (default: taken from --name)')
    .option('--time-zone <zone>', 'the IANA zone of their morning for RECAP_LOCAL_SEND_TIME, e.g. Asia/Tokyo (default: the list\'s, RECAP_TZ)')
    .option('--topics <topics>', 'comma-separated topics they follow (none: the full edition)')
    .option('--format <format>', 'full (the whole digest; the default for a new subscriber) or brief (headlines, hooks, one TL;DR line)')
    .option('--pending', 'add unconfirmed; they receive nothing until they confirm')
    .option(...listOption)
    .action(async (email: string, opts: { name?: string; firstName?: string; format?: string; timeZone?: string; topics?: string; pending?: boolean; list: string }) => {
      await withContext(async (ctx) => {
        const list = await findList(ctx.db, opts.list);
        const now = ctx.clock.now().toISOString();
        const parsed = subscriberInputSchema.safeParse({
          email,
          name: opts.name ?? null,
          firstName: opts.firstName ?? null,
          timeZone: opts.timeZone ?? null,
          format: opts.format ?? null,
          topics: opts.topics === undefined ? undefined : opts.topics.split(',').map((t) => t.trim()).filter(Boolean),
          status: opts.pending ? 'pending' : 'active',
          consent: opts.pending ? { source: 'cli' } : { at: now, source: 'cli', confirmedAt: now },
        });
        if (!parsed.success) {
          warn(`not added: ${describeIssues(parsed.error).join('; ')}`);
          process.exitCode = EXIT.usage;
          return;
        }
        const outcome = await ctx.db.transaction().execute((trx) => upsertSubscriber(trx, list.id, parsed.data, ctx.clock.now()));
        say(`${parsed.data.email}: ${{ inserted: 'added to', updated: 'updated in', unchanged: 'already in' }[outcome]} ${list.name}`);
      });
    });

  subscribers
    .command('import')
    .description('import subscribers from a CSV file with a header row (email, name, topics, status, consent_*, …)')
    .argument('<file>', 'the CSV file')
    .option('--confirmed', 'rows without consent columns are active and confirmed (you hold their consent)')
    .option('--delimiter <char>', 'the field delimiter: "," ";" or "tab" (default: found in the header line)', parseDelimiter)
    .option(...listOption)
    .action(async (file: string, opts: { confirmed?: boolean; delimiter?: CsvDelimiter; list: string }) => {
      const report = await withContext(async (ctx) => {
        const list = await findList(ctx.db, opts.list);
        return importSubscribersCsv(ctx.db, file, {
          listId: list.id,
          now: ctx.clock.now(),
          confirmed: opts.confirmed ?? false,
          delimiter: opts.delimiter,
        });
      });
      printCsvImport(file, report);
      process.exitCode = report.fatal ? EXIT.usage : report.errors.length > 0 ? EXIT.partial : EXIT.ok;
    });

  subscribers
    .command('export')
    .description('write the list\'s subscribers to stdout with every column an import takes (consent, topics, first_name, format, status, attributes)')
    .option('--status <statuses>', `only these statuses, comma-separated (${SUBSCRIBER_STATUSES.join(', ')})`, parseStatuses)
    .option('--segment <name>', "only the segment's members (of the segment's list)")
    .option('--format <format>', 'csv (what `subscribers import` reads) or ndjson', parseFormat, 'csv' as ExportFormat)
    .option(...listOption)
    .action(async (opts: { status?: SubscriberStatus[]; segment?: string; format: ExportFormat; list: string }) => {
      await withContext(async (ctx) => {
        const segment = opts.segment === undefined ? undefined : await findSegment(ctx.db, opts.segment);
        const listId = segment?.list_id ?? (await findList(ctx.db, opts.list)).id;
        const count = await writeSubscribersExport(ctx.db, { listId, statuses: opts.status, rules: segment?.parsedRules }, opts.format, process.stdout);
        warn(`exported ${count} subscribers (${opts.format})`);
      });
    });

  subscribers
    .command('list')
    .description("the list's subscribers, oldest first")
    .option(...listOption)
    .action(async (opts: { list: string }) => {
      await withContext(async (ctx) => {
        const list = await findList(ctx.db, opts.list);
        const row = (cells: string[]) => say(cells.map((c, i) => (i < 4 ? c.padEnd([36, 13, 10, 13][i] ?? 0) : c)).join(' ').trimEnd());
        row(['email', 'status', 'confirmed', 'member', 'topics', 'name']);
        // Paged in id order: the list can be longer than memory.
        for (let after = 0; ; ) {
          const page = await subscribersPage(ctx.db, list.id, after, 500);
          if (page.length === 0) break;
          after = (page[page.length - 1] as { id: number }).id;
          for (const s of page) {
            row([s.email, s.status, s.confirmed ? 'yes' : 'no', s.memberStatus ?? '-', s.topics.join(',') || '(all)', s.name ?? '']);
          }
        }
      });
    });
}

function parseDelimiter(value: string): CsvDelimiter {
  const delimiter = CSV_DELIMITERS.find((d) => d === (value === 'tab' ? '\t' : value));
  if (!delimiter) throw new InvalidArgumentError('Use "," ";" or "tab".');
  return delimiter;
}

function parseStatuses(value: string): SubscriberStatus[] {
  const given = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = given.filter((s) => !(SUBSCRIBER_STATUSES as readonly string[]).includes(s));
  if (bad.length > 0 || given.length === 0) throw new InvalidArgumentError(`Not a status: ${bad.join(', ') || '(none)'}. Use ${SUBSCRIBER_STATUSES.join(', ')}.`);
  return given as SubscriberStatus[];
}

function parseFormat(value: string): ExportFormat {
  const format = EXPORT_FORMATS.find((f) => f === value);
  if (!format) throw new InvalidArgumentError(`Use ${EXPORT_FORMATS.join(' or ')}.`);
  return format;
}

export function printCsvImport(file: string, report: CsvImportReport): void {
  say(`${file}: ${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.duplicates.length} duplicate rows, ${report.errors.length} rejected`);
  for (const d of report.duplicates) warn(`  line ${d.line}: ${d.email} already appears on line ${d.firstLine}; row skipped`);
  for (const e of report.errors) warn(`  line ${e.line}: ${e.message}`);
  if (report.fatal) warn(`  stopped: ${report.fatal}`);
}
