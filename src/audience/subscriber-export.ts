// `recap subscribers export`: a list's subscribers with every column an import takes (the consent
// record, topics, first name, format, status, attributes as columns of their own), as CSV that
// `subscribers import` reads back, or NDJSON. Rows are read a page at a time in id order and
// written as the output takes them: memory stays flat however long the list.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Db } from '../../db/connect.ts';
import type { Format, SubscriberStatus } from '../../db/schema.ts';
import { SUBSCRIBER_COLUMNS } from './csv-import.ts';
import { segmentMembers, type SegmentRules } from './segments.ts';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFilter {
  listId: number;
  /** Only these statuses (as exported: a membership of the list that ended is `unsubscribed`). */
  statuses?: SubscriberStatus[];
  /** A segment's rules. */
  rules?: SegmentRules;
}

export interface ExportRecord {
  email: string;
  name: string | null;
  first_name: string | null;
  time_zone: string | null;
  format: Format;
  topics: string[];
  status: SubscriberStatus;
  consent_at: string | null;
  consent_source: string | null;
  consent_ip: string | null;
  consent_user_agent: string | null;
  confirmed_at: string | null;
  attributes: Record<string, string>;
}

const PAGE = 500;
/** What eraseSubscriber leaves of an erased person: nobody to export. */
const ERASED = '%@erased.invalid';

/** The list's subscribers matching the filter, in id order, read `pageSize` rows at a time. */
export async function* exportRecords(db: Db, filter: ExportFilter, pageSize = PAGE): AsyncGenerator<ExportRecord> {
  for (let after = 0; ; ) {
    let q = segmentMembers(db, filter.listId, filter.rules ?? {})
      .innerJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').on('m.list_id', '=', filter.listId))
      .selectAll('s')
      .select('m.status as member_status')
      .where('s.id', '>', after)
      .where('s.email', 'not like', ERASED);
    const statuses = filter.statuses;
    if (statuses) {
      // A membership of this list that ended exports as unsubscribed, whatever the person's other lists.
      q = q.where((eb) =>
        statuses.includes('unsubscribed')
          ? eb.or([eb('m.status', '=', 'unsubscribed'), eb('s.status', 'in', statuses)])
          : eb.and([eb('m.status', '=', 'active'), eb('s.status', 'in', statuses)]),
      );
    }
    const rows = await q.orderBy('s.id').limit(pageSize).execute();
    if (rows.length === 0) return;
    after = (rows[rows.length - 1] as { id: number }).id;
    const ids = rows.map((r) => r.id);
    const topics = await db.selectFrom('subscriber_topics').select(['subscriber_id', 'topic']).where('subscriber_id', 'in', ids).orderBy('topic').execute();
    const attributes = await db.selectFrom('subscriber_attributes').select(['subscriber_id', 'name', 'value']).where('subscriber_id', 'in', ids).orderBy('name').execute();
    for (const r of rows) {
      yield {
        email: r.email,
        name: r.name,
        first_name: r.first_name,
        time_zone: r.time_zone,
        format: r.format,
        topics: topics.filter((t) => t.subscriber_id === r.id).map((t) => t.topic),
        status: r.member_status === 'unsubscribed' ? 'unsubscribed' : r.status,
        consent_at: r.consent_at,
        consent_source: r.consent_source,
        consent_ip: r.consent_ip,
        consent_user_agent: r.consent_user_agent,
        confirmed_at: r.confirmed_at,
        attributes: Object.fromEntries(attributes.filter((a) => a.subscriber_id === r.id).map((a) => [a.name, a.value])),
      };
    }
  }
}

/** Writes the export to `out` (left open); returns how many subscribers it holds. */
export async function writeSubscribersExport(db: Db, filter: ExportFilter, format: ExportFormat, out: Writable): Promise<number> {
  let count = 0;
  const counted = async function* () {
    for await (const record of exportRecords(db, filter)) {
      count++;
      yield record;
    }
  };
  if (format === 'ndjson') {
    await pipeline(Readable.from(counted()), async function* (records: AsyncIterable<ExportRecord>) {
      for await (const r of records) yield `${JSON.stringify(r)}\n`;
    }, out, { end: false });
    return count;
  }
  // Attributes are columns of their own, as they came in: their names head the file.
  const known = new Set<string>(SUBSCRIBER_COLUMNS);
  const columns = [...SUBSCRIBER_COLUMNS, ...(await attributeNames(db, filter.listId)).filter((n) => !known.has(n))];
  const cell = (r: ExportRecord, column: string): string | null | undefined =>
    column === 'topics' ? r.topics.join(',') : known.has(column) ? (r[column as Exclude<(typeof SUBSCRIBER_COLUMNS)[number], 'topics'>]) : r.attributes[column];
  const rows = async function* () {
    for await (const r of counted()) yield columns.map((c) => cell(r, c) ?? '');
  };
  await pipeline(Readable.from(rows()), stringify({ header: true, columns }), out, { end: false });
  return count;
}

/** The attribute names the list's subscribers have (a few dozen at most, unlike the list). */
async function attributeNames(db: Db, listId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriber_attributes as a')
    .innerJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 'a.subscriber_id').on('m.list_id', '=', listId))
    .select('a.name')
    .distinct()
    .orderBy('a.name')
    .execute();
  return rows.map((r) => r.name);
}
