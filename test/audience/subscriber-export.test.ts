// `subscribers export` → `subscribers import` into a fresh database gives the same subscribers:
// consent record, topics, first name, status, attributes, names with commas and quotes. The export
// reads a page at a time and only as fast as the output takes it.
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../db/connect.ts';
import { importSubscribersCsv } from '../../src/audience/csv-import.ts';
import { createSegment } from '../../src/audience/segments.ts';
import { exportRecords, writeSubscribersExport, type ExportFormat } from '../../src/audience/subscriber-export.ts';
import { subscriberInputSchema, upsertSubscriber } from '../../src/audience/subscribers.ts';
import { eraseSubscriber } from '../../src/audience/subscriptions.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';

const contexts: TestContext[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});
async function fresh(): Promise<TestContext> {
  const c = await createTestContext();
  contexts.push(c);
  return c;
}

async function add(c: TestContext, input: Record<string, unknown>): Promise<void> {
  const parsed = subscriberInputSchema.parse(input);
  await c.db.transaction().execute((trx) => upsertSubscriber(trx, c.listId, parsed, c.clock.now()));
}

/** One of each: every status, a full consent record, topics, first names, a brief reader, attributes, awkward text. */
async function population(c: TestContext): Promise<void> {
  await add(c, {
    email: 'ada@example.com', name: 'Lindqvist, Ada "Countess"', firstName: 'Ada', format: 'brief', timeZone: 'Asia/Tokyo', topics: ['compute', 'policy'], status: 'active',
    attributes: { company: 'Acme, Inc.', plan: 'pro' },
    consent: { at: '2026-01-05T10:00:00.000Z', source: 'form', ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) "quoted"', confirmedAt: '2026-01-05T10:05:00.000Z' },
  });
  await add(c, { email: 'ben@example.com', name: 'Ben', status: 'pending', consent: { at: '2026-02-01T09:00:00.000Z', source: 'api', ip: '2001:db8::1', userAgent: null, confirmedAt: null } });
  await add(c, { email: 'cy@example.com', name: null, status: 'unsubscribed', topics: ['strategy'], consent: { at: '2025-12-01T00:00:00.000Z', source: 'import', confirmedAt: '2025-12-01T00:00:00.000Z' } });
  await add(c, { email: 'dee@example.com', name: 'Dee', status: 'bounced', attributes: { company: 'Beta' }, consent: { at: '2025-11-01T00:00:00.000Z', source: 'import', confirmedAt: '2025-11-01T00:00:00.000Z' } });
  await add(c, { email: 'eve@example.com', name: 'Eve', firstName: 'Evie', status: 'complained', consent: { at: '2025-10-01T00:00:00.000Z', source: 'cli', confirmedAt: '2025-10-01T00:00:00.000Z' } });
  await add(c, { email: 'josé@bücher.example', name: 'José', topics: ['data-center'], status: 'active', consent: { at: '2026-03-01T12:00:00.000Z', source: 'cli', confirmedAt: '2026-03-01T12:00:00.000Z' } });
  // Erased: nobody left to export.
  await add(c, { email: 'gone@example.com', name: 'Gone', status: 'active', consent: { at: '2026-01-01T00:00:00.000Z', source: 'cli', confirmedAt: '2026-01-01T00:00:00.000Z' } });
  const gone = await c.db.selectFrom('subscribers').select('id').where('email', '=', 'gone@example.com').executeTakeFirstOrThrow();
  await eraseSubscriber(c.db, gone.id, c.clock.now());
}

/** Everything that makes a subscriber, as stored. */
async function snapshot(c: TestContext) {
  const people = await c.db
    .selectFrom('subscribers as s')
    .innerJoin('list_members as m', 'm.subscriber_id', 's.id')
    .select(['s.id', 's.email', 's.name', 's.first_name', 's.format', 's.time_zone', 's.status', 's.consent_at', 's.consent_source', 's.consent_ip', 's.consent_user_agent', 's.confirmed_at', 'm.status as member'])
    .where('s.email', 'not like', '%@erased.invalid')
    .orderBy('s.email')
    .execute();
  return Promise.all(
    people.map(async ({ id, ...p }) => ({
      ...p,
      topics: (await c.db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', id).orderBy('topic').execute()).map((t) => t.topic),
      attributes: Object.fromEntries((await c.db.selectFrom('subscriber_attributes').select(['name', 'value']).where('subscriber_id', '=', id).execute()).map((a) => [a.name, a.value])),
      suppressed: (await c.db.selectFrom('suppressions as x').innerJoin('subscribers as s', 's.email_hash', 'x.email_hash').select('x.reason').where('s.id', '=', id).execute()).map((x) => x.reason),
    })),
  );
}

async function exportTo(c: TestContext, file: string, format: ExportFormat = 'csv', filter: { statuses?: Array<'active' | 'pending' | 'unsubscribed' | 'bounced' | 'complained'> } = {}): Promise<number> {
  const out = createWriteStream(file);
  const n = await writeSubscribersExport(c.db, { listId: c.listId, ...filter }, format, out);
  out.end();
  await finished(out);
  return n;
}

describe('export → import', () => {
  it('gives the same subscribers in a fresh database', async () => {
    const a = await fresh();
    await population(a);
    const file = join(a.dir, 'export.csv');
    expect(await exportTo(a, file)).toBe(6);
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toBe('email,name,first_name,format,time_zone,topics,status,consent_at,consent_source,consent_ip,consent_user_agent,confirmed_at,company,plan');
    expect(csv).not.toContain('erased');

    const b = await fresh();
    const report = await importSubscribersCsv(b.db, file, { listId: b.listId, now: b.clock.now(), confirmed: false });
    expect(report).toMatchObject({ inserted: 6, errors: [], duplicates: [] });
    const before = await snapshot(a);
    expect(before).toHaveLength(6);
    expect(await snapshot(b)).toEqual(before);

    // And what it gives exports the same again, byte for byte.
    const again = join(b.dir, 'again.csv');
    await exportTo(b, again);
    expect(readFileSync(again, 'utf8')).toBe(csv);
  });

  it('writes NDJSON with the same columns, topics as a list and attributes as an object', async () => {
    const a = await fresh();
    await population(a);
    const file = join(a.dir, 'export.ndjson');
    await exportTo(a, file, 'ndjson', { statuses: ['active', 'pending'] });
    const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => [r.email, r.status])).toEqual([['ada@example.com', 'active'], ['ben@example.com', 'pending'], ['josé@xn--bcher-kva.example', 'active']]);
    expect(records[0]).toEqual({
      email: 'ada@example.com', name: 'Lindqvist, Ada "Countess"', first_name: 'Ada', format: 'brief', time_zone: 'Asia/Tokyo', topics: ['compute', 'policy'], status: 'active',
      consent_at: '2026-01-05T10:00:00.000Z', consent_source: 'form', consent_ip: '203.0.113.9', consent_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) "quoted"',
      confirmed_at: '2026-01-05T10:05:00.000Z', attributes: { company: 'Acme, Inc.', plan: 'pro' },
    });
  });

  it('filters by status, by segment, and exports an ended membership as unsubscribed', async () => {
    const a = await fresh();
    await population(a);
    // Active as a person, but no longer a member of this list.
    await a.db.updateTable('list_members').set({ status: 'unsubscribed' }).where('subscriber_id', 'in', a.db.selectFrom('subscribers').select('id').where('email', '=', 'ada@example.com')).execute();
    const emails = async (filter: Parameters<typeof exportRecords>[1]) => {
      const out: string[] = [];
      for await (const r of exportRecords(a.db, filter)) out.push(`${r.email}:${r.status}`);
      return out;
    };
    expect(await emails({ listId: a.listId, statuses: ['active'] })).toEqual(['josé@xn--bcher-kva.example:active']);
    expect(await emails({ listId: a.listId, statuses: ['unsubscribed'] })).toEqual(['ada@example.com:unsubscribed', 'cy@example.com:unsubscribed']);
    const segment = await createSegment(a.db, { name: 'compute-people', listId: a.listId, rules: { topics: ['compute', 'data-center'] } }, a.clock.now());
    expect(await emails({ listId: segment.list_id, rules: { topics: ['compute', 'data-center'] } })).toEqual(['ada@example.com:unsubscribed', 'josé@xn--bcher-kva.example:active']);
  });
});

describe('streaming', () => {
  /** The database, counting the rows each query returns. */
  function counting(db: Db): { db: Db; rows: number[] } {
    const rows: number[] = [];
    const plugin: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        rows.push(args.result.rows.length);
        return args.result;
      },
    };
    return { db: db.withPlugin(plugin), rows };
  }

  it('reads a page at a time, and no further ahead than the output takes', async () => {
    const a = await fresh();
    const csv = join(a.dir, 'many.csv');
    writeFileSync(csv, `email,topics,company\n${Array.from({ length: 2600 }, (_, i) => `r${i}@example.com,compute,C${i % 7}`).join('\n')}\n`);
    expect((await importSubscribersCsv(a.db, csv, { listId: a.listId, now: a.clock.now(), confirmed: true })).inserted).toBe(2600);

    const { db, rows } = counting(a.db);
    // An output that takes nothing until told to: the export must wait for it.
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    let bytes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        void released.then(() => done());
      },
    });
    const exporting = writeSubscribersExport(db, { listId: a.listId }, 'csv', slow);
    await new Promise((r) => setTimeout(r, 300));
    const readWhileBlocked = rows.length;
    // The attribute names, then at most a page or two (with its topics and attributes) while the output is stuck.
    expect(readWhileBlocked).toBeLessThanOrEqual(1 + 3 * 2);
    release();
    expect(await exporting).toBe(2600);
    expect(bytes).toBeGreaterThan(2600 * 20);
    // No query ever returned more than a page: the list is never loaded whole.
    expect(Math.max(...rows)).toBeLessThanOrEqual(500);
    expect(rows.length).toBeGreaterThan(readWhileBlocked);
  });
});

describe('recap subscribers export', () => {
  it('streams to stdout what `subscribers import` reads back into a fresh database', { timeout: 120_000 }, async () => {
    const a = await fresh();
    await population(a);
    const env = (c: TestContext) => ({ RECAP_SECRET: TEST_SECRET, DATABASE_URL: c.config.databaseUrl });
    const exported = await runCli(['subscribers', 'export'], { cwd: a.dir, env: env(a) });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('exported 6 subscribers (csv)');
    const file = join(a.dir, 'list.csv');
    writeFileSync(file, exported.stdout);

    const b = await fresh();
    const imported = await runCli(['subscribers', 'import', file], { cwd: b.dir, env: env(b) });
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(await snapshot(b)).toEqual(await snapshot(a));

    const bad = await runCli(['subscribers', 'export', '--status', 'active,gone', '--format', 'xml'], { cwd: a.dir, env: env(a) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Not a status: gone|Use csv or ndjson/);
  });
});
