// `recap subscribers import FILE.csv`: streams the file (memory stays flat on large lists), takes a
// header row in any order, a BOM, quoted fields with commas and newlines, and reports every bad row
// by its line number while keeping the good ones. Rows are written in batches, one transaction each.
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import type { Db } from '../../db/connect.ts';
import { SUBSCRIBER_STATUSES, type SubscriberStatus } from '../../db/schema.ts';
import { describeIssues } from '../articles/article.ts';
import { subscriberInputSchema, upsertSubscriber, type ValidSubscriber } from './subscribers.ts';

const ALIASES: Record<string, string> = {
  'e-mail': 'email',
  'email address': 'email',
  email_address: 'email',
  'full name': 'name',
  consented_at: 'consent_at',
  opt_in_at: 'consent_at',
  confirmed: 'confirmed_at',
};
const KNOWN = new Set(['email', 'name', 'topics', 'status', 'consent_at', 'consent_source', 'consent_ip', 'consent_user_agent', 'confirmed_at']);

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
  /** Set when the file itself is broken (an unclosed quote); rows before it were kept. */
  fatal?: string;
}

export interface CsvImportOptions {
  listId: number;
  now: Date;
  /** Rows without consent columns become active and confirmed (the operator asserts consent). */
  confirmed: boolean;
  batchSize?: number;
}

export async function importSubscribersCsv(db: Db, path: string, options: CsvImportOptions): Promise<CsvImportReport> {
  const report: CsvImportReport = { inserted: 0, updated: 0, unchanged: 0, duplicates: [], errors: [] };
  const parser = createReadStream(path)
    .pipe(crlfToLf())
    .pipe(parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: true }));
  // Addresses seen in this file (first line of each); a hash of a few MB even for a million rows.
  const seen = new Map<string, number>();
  let header: string[] | undefined;
  let prevEnd = 0;
  let prevEmpty = 0;
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
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
      const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
      if (!header) {
        header = record.map((h) => {
          const key = h.trim().toLowerCase();
          return ALIASES[key] ?? key.replace(/\s+/g, '_');
        });
        if (!header.includes('email')) {
          report.fatal = `line ${line}: the header row has no "email" column (found: ${record.join(', ')})`;
          return report;
        }
        continue;
      }
      if (record.length !== header.length) {
        report.errors.push({ line, message: `has ${record.length} fields, the header has ${header.length}` });
        continue;
      }
      const row = Object.fromEntries(header.map((h, i) => [h, record[i] ?? '']));
      const parsed = subscriberInputSchema.safeParse(toInput(row, header, options.confirmed, options.now));
      if (!parsed.success) {
        report.errors.push({ line, message: describeIssues(parsed.error).join('; ') });
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
    report.fatal = `line ${prevEnd + 1}: ${(e as Error).message}`;
  }
  await flush();
  if (!header && !report.fatal) report.fatal = 'the file is empty: expected a header row with an "email" column';
  return report;
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

/**
 * csv-parse counts a CRLF inside a quoted field as two lines, which would put every later error on
 * the wrong line; with LF line ends its count is exact.
 */
function crlfToLf(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let text = (pendingCr ? '\r' : '') + chunk.toString('latin1');
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      // latin1 keeps every byte as is, so UTF-8 sequences split across chunks survive.
      callback(null, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'));
    },
    flush(callback) {
      callback(null, pendingCr ? Buffer.from('\r') : null);
    },
  });
}

function splitList(value: string): string[] {
  return value.split(/[,;|\s]+/).map((t) => t.trim().toLowerCase()).filter(Boolean);
}
