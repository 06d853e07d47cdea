// `recap subscribers import FILE.csv`: streams the file (memory stays flat on large lists), takes a
// header row in any order, a BOM, `,` `;` or tab as the delimiter, quoted fields with delimiters
// and line breaks, and reports every bad row by its line number while keeping the good ones (see
// csv-records.ts for broken records). Rows are written in batches, one transaction each.
import { createReadStream } from 'node:fs';
import { z } from 'zod';
import type { Db } from '../../db/connect.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from '../../db/schema.ts';
import { describeIssues } from '../articles/article.ts';
import { CSV_DELIMITERS, type CsvDelimiter, csvFields, csvRecords, type TextLine } from './csv-records.ts';
import { subscriberInputSchema, upsertSubscriber, type ValidSubscriber } from './subscribers.ts';

const ALIASES: Record<string, string> = {
  'e-mail': 'email',
  'email address': 'email',
  email_address: 'email',
  'full name': 'name',
  // "first name" and "First_Name" need none: spaces become underscores and case is ignored.
  firstname: 'first_name',
  'given name': 'first_name',
  given_name: 'first_name',
  forename: 'first_name',
  timezone: 'time_zone',
  tz: 'time_zone',
  consented_at: 'consent_at',
  opt_in_at: 'consent_at',
  confirmed: 'confirmed_at',
};
/** The columns an import reads as such; any other column is an attribute. `subscribers export` writes these. */
export const SUBSCRIBER_COLUMNS = ['email', 'name', 'first_name', 'format', 'time_zone', 'topics', 'status', 'consent_at', 'consent_source', 'consent_ip', 'consent_user_agent', 'confirmed_at'] as const;
const KNOWN = new Set<string>(SUBSCRIBER_COLUMNS);
const DELIMITER_NAMES: Record<CsvDelimiter, string> = { ',': '","', ';': '";"', '\t': 'tab' };

export interface CsvRowError {
  line: number;
  message: string;
}

export interface CsvImportReport {
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: Array<{ line: number; email: string; firstLine: number }>;
  errors: CsvRowError[];
  /** Set when the header row is missing or unusable; nothing was imported. */
  fatal?: string;
}

export interface CsvImportOptions {
  listId: number;
  now: Date;
  /** Rows without consent columns become active and confirmed (the operator asserts consent). */
  confirmed: boolean;
  /** Overrides the delimiter found in the header line. */
  delimiter?: CsvDelimiter;
  batchSize?: number;
}

/** The header line could not be read as a subscriber header with any delimiter. */
class CsvHeaderError extends Error {}

export async function importSubscribersCsv(db: Db, path: string, options: CsvImportOptions): Promise<CsvImportReport> {
  const report: CsvImportReport = { inserted: 0, updated: 0, unchanged: 0, duplicates: [], errors: [] };
  // Addresses seen in this file (first line of each); a hash of a few MB even for a million rows.
  const seen = new Map<string, number>();
  let header: string[] | undefined;
  let batch: ValidSubscriber[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    await db.transaction().execute(async (trx) => {
      for (const row of rows) report[await upsertSubscriber(trx, options.listId, row, options.now)]++;
    });
  };
  try {
    for await (const record of csvRecords(createReadStream(path), options.delimiter ?? detectDelimiter)) {
      const { line } = record;
      if (!header) {
        if ('error' in record) {
          report.fatal = `line ${line}: the header row ${record.error}`;
          return report;
        }
        header = columnNames(record.fields);
        if (!header.includes('email')) {
          report.fatal = `line ${line}: the header row has no "email" column (found: ${record.fields.join(', ')})`;
          return report;
        }
        continue;
      }
      if ('error' in record) {
        report.errors.push({ line, message: record.error });
        continue;
      }
      if (record.fields.length !== header.length) {
        report.errors.push({ line, message: `has ${record.fields.length} fields, the header has ${header.length}` });
        continue;
      }
      const row = Object.fromEntries(header.map((h, i) => [h, record.fields[i] ?? '']));
      const parsed = subscriberInputSchema.safeParse(toInput(row, header, options.confirmed, options.now));
      if (!parsed.success) {
        report.errors.push({ line, message: describeIssues(asColumns(parsed.error)).join('; ') });
        continue;
      }
      const firstLine = seen.get(parsed.data.email);
      if (firstLine !== undefined) {
        report.duplicates.push({ line, email: parsed.data.email, firstLine });
        continue;
      }
      seen.set(parsed.data.email, line);
      batch.push(parsed.data);
      if (batch.length >= (options.batchSize ?? 500)) await flush();
    }
  } catch (e) {
    if (!(e instanceof CsvHeaderError)) throw e;
    report.fatal = e.message;
  }
  await flush();
  if (!header && !report.fatal) report.fatal = 'the file is empty: expected a header row with an "email" column';
  return report;
}

/**
 * The delimiter is the one of `,` `;` tab that splits the header line into columns with "email"
 * among them; Excel writes `;` where the decimal separator is a comma.
 */
function detectDelimiter(header: TextLine): CsvDelimiter {
  const present = CSV_DELIMITERS.filter((d) => header.text.includes(d));
  // One column (no delimiter at all) reads the same with any of them.
  if (present.length === 0) return ',';
  const fitting = present.filter((d) => columnNames(csvFields(header.text, d) ?? []).includes('email'));
  const names = (ds: CsvDelimiter[]) => ds.map((d) => DELIMITER_NAMES[d]).join(' or ');
  if (fitting.length === 1) return fitting[0] as CsvDelimiter;
  if (fitting.length > 1) {
    throw new CsvHeaderError(`line ${header.line}: the header row has an "email" column when split at ${names(fitting)}: pass --delimiter`);
  }
  throw new CsvHeaderError(`line ${header.line}: the header row has no "email" column when split at ${names(present)} (found: ${header.text.trim()})`);
}

function columnNames(fields: string[]): string[] {
  return fields.map((h) => {
    const key = h.trim().toLowerCase();
    return ALIASES[key] ?? key.replace(/\s+/g, '_');
  });
}

function toInput(row: Record<string, string>, header: string[], confirmed: boolean, now: Date) {
  const status = (row.status || '').toLowerCase();
  const consentAt = row.consent_at || null;
  const confirmedAt = row.confirmed_at || consentAt;
  // A row is active when it carries consent or says so; otherwise it waits for confirmation,
  // unless the operator asserts consent for the whole file with --confirmed.
  let effective: SubscriberStatus;
  if (status !== '') effective = status as SubscriberStatus;
  else effective = confirmedAt || confirmed ? 'active' : 'pending';
  const confirmedTime = effective === 'pending' ? null : confirmedAt ?? (confirmed || status === 'active' ? now.toISOString() : null);
  return {
    email: row.email ?? '',
    name: row.name || null,
    firstName: row.first_name || null,
    timeZone: row.time_zone || null,
    format: row.format || null,
    topics: 'topics' in row ? splitList(row.topics ?? '') : undefined,
    attributes: Object.fromEntries(header.filter((h) => !KNOWN.has(h) && row[h]).map((h) => [h, row[h] as string])),
    status: SUBSCRIBER_STATUSES.includes(effective) ? effective : status,
    consent: {
      at: consentAt,
      source: row.consent_source || 'import',
      ip: row.consent_ip || null,
      userAgent: row.consent_user_agent || null,
      confirmedAt: confirmedTime,
    },
  };
}

/** Input fields spelled as the file's columns, so an error names the column ("time_zone: …"). */
const COLUMN_OF: Record<string, string> = { firstName: 'first_name', timeZone: 'time_zone' };
function asColumns(error: z.ZodError): z.ZodError {
  return new z.ZodError(error.issues.map((i) => ({ ...i, path: i.path.map((p, n) => (n === 0 ? (COLUMN_OF[String(p)] ?? p) : p)) })));
}

function splitList(value: string): string[] {
  return value.split(/[,;|\s]+/).map((t) => t.trim().toLowerCase()).filter(Boolean);
}
