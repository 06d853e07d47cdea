// CSV import against a real migrated SQLite database: files are written to a temp folder, imported
// with importSubscribersCsv, and the tables are read back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubscriberRow } from '../../db/schema.ts';
import { type CsvImportOptions, type CsvImportReport, importSubscribersCsv } from '../../src/audience/csv-import.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

let ctx: TestContext;
let fileCount = 0;

beforeEach(async () => {
  ctx = await createTestContext();
});

afterEach(async () => {
  await ctx.close();
});

/** Writes `content` byte for byte (no line-end conversion) to a new file in the temp folder. */
function csvFile(content: string): string {
  const path = join(ctx.dir, `import-${++fileCount}.csv`);
  writeFileSync(path, content, 'utf8');
  return path;
}

function importFile(path: string, options: Partial<Omit<CsvImportOptions, 'listId'>> = {}): Promise<CsvImportReport> {
  return importSubscribersCsv(ctx.db, path, { listId: ctx.listId, now: ctx.clock.now(), confirmed: false, ...options });
}

/** Writes the lines joined with `eol` and imports them. */
function importCsv(lines: string[], options: Partial<Omit<CsvImportOptions, 'listId'>> & { eol?: string } = {}): Promise<CsvImportReport> {
  const { eol = '\n', ...rest } = options;
  return importFile(csvFile(lines.join(eol) + eol), rest);
}

function subscriber(email: string): Promise<SubscriberRow | undefined> {
  return ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
}

async function stored(email: string): Promise<SubscriberRow> {
  const row = await subscriber(email);
  if (!row) throw new Error(`${email} was not stored`);
  return row;
}

async function allEmails(): Promise<string[]> {
  const rows = await ctx.db.selectFrom('subscribers').select('email').orderBy('email').execute();
  return rows.map((r) => r.email);
}

async function subscriberCount(): Promise<number> {
  const row = await ctx.db.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function topicsOf(email: string): Promise<string[]> {
  const { id } = await stored(email);
  const rows = await ctx.db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', id).orderBy('topic').execute();
  return rows.map((r) => r.topic);
}

async function attributesOf(email: string): Promise<Record<string, string>> {
  const { id } = await stored(email);
  const rows = await ctx.db.selectFrom('subscriber_attributes').select(['name', 'value']).where('subscriber_id', '=', id).execute();
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}

async function memberStatus(email: string): Promise<string | undefined> {
  const { id } = await stored(email);
  const row = await ctx.db
    .selectFrom('list_members')
    .select('status')
    .where('subscriber_id', '=', id)
    .where('list_id', '=', ctx.listId)
    .executeTakeFirst();
  return row?.status;
}

describe('importSubscribersCsv: file format', () => {
  it('reads the header row in any column order', async () => {
    const report = await importCsv(['topics,name,email', 'compute,Ada Lindqvist,ada@example.com']);
    expect(report.inserted).toBe(1);
    const ada = await stored('ada@example.com');
    expect(ada.name).toBe('Ada Lindqvist');
    expect(await topicsOf('ada@example.com')).toEqual(['compute']);
  });

  it('accepts a UTF-8 BOM before the header', async () => {
    const report = await importFile(csvFile('\uFEFFemail,name\nada@example.com,Ada\n'));
    expect(report.fatal).toBeUndefined();
    expect(report.errors).toEqual([]);
    expect((await stored('ada@example.com')).name).toBe('Ada');
  });

  it('accepts CRLF line ends without leaving carriage returns in the values', async () => {
    const report = await importCsv(['email,name,company', 'ada@example.com,Ada,Northwind', 'ben@example.com,Ben,Harbor'], { eol: '\r\n' });
    expect(report).toMatchObject({ inserted: 2, errors: [], duplicates: [] });
    expect((await stored('ada@example.com')).name).toBe('Ada');
    expect(await attributesOf('ben@example.com')).toEqual({ company: 'Harbor' });
  });

  it('maps header aliases such as "Email Address" and "Full Name"', async () => {
    const report = await importCsv(['Email Address,Full Name', 'ada@example.com,Ada Lindqvist']);
    expect(report.fatal).toBeUndefined();
    expect((await stored('ada@example.com')).name).toBe('Ada Lindqvist');
  });

  it('keeps commas inside quoted fields', async () => {
    await importCsv(['email,name,company', 'chidi@example.org,"Okafor, Chidi","Harbor, Policy & Co"']);
    expect((await stored('chidi@example.org')).name).toBe('Okafor, Chidi');
    expect(await attributesOf('chidi@example.org')).toEqual({ company: 'Harbor, Policy & Co' });
  });

  it('unescapes doubled quotes inside quoted fields', async () => {
    await importCsv(['email,name', 'tom@example.org,"Tom ""TJ"" O\'Connell"']);
    expect((await stored('tom@example.org')).name).toBe('Tom "TJ" O\'Connell');
  });

  it('keeps a newline inside a quoted attribute value', async () => {
    await importCsv(['email,name,notes', 'ada@example.com,Ada,"first line\nsecond line"']);
    expect(await attributesOf('ada@example.com')).toEqual({ notes: 'first line\nsecond line' });
  });

  it('stores a name spanning two lines as one header-safe line', async () => {
    // Names go into the To: header, so the line break becomes a space (headerSafe), nothing is lost.
    const report = await importCsv(['email,name', 'ada@example.com,"Ada\nLindqvist"']);
    expect(report.errors).toEqual([]);
    expect((await stored('ada@example.com')).name).toBe('Ada Lindqvist');
  });

  it('reports a bad row after a multi-line row at the line where that row starts (LF)', async () => {
    const report = await importCsv([
      'email,name', //                 line 1
      'ada@example.com,"Ada', //       line 2
      'Lindqvist"', //                 line 3
      'not-an-email,Bad', //           line 4
      'ben@example.com,Ben', //        line 5
      'carl@example.com,Carl,extra', // line 6
    ]);
    expect(report.errors.map((e) => e.line)).toEqual([4, 6]);
    expect(report.inserted).toBe(2);
  });

  it('reports a bad row after a multi-line row at the line where that row starts (CRLF)', async () => {
    const report = await importCsv(
      [
        'email,name', //                 line 1
        'ada@example.com,"Ada', //       line 2
        'Lindqvist"', //                 line 3
        'not-an-email,Bad', //           line 4
        'ben@example.com,Ben', //        line 5
        'carl@example.com,Carl,extra', // line 6
      ],
      { eol: '\r\n' },
    );
    expect(report.errors.map((e) => e.line)).toEqual([4, 6]);
  });

  it('counts skipped blank lines in the line numbers it reports', async () => {
    const report = await importCsv(['email,name', '', 'ada@example.com,Ada', '', '', 'not-an-email,Bad']);
    expect(report.errors.map((e) => e.line)).toEqual([6]);
  });
});

describe('importSubscribersCsv: addresses', () => {
  it('stores mixed-case and padded duplicates as one lowercase subscriber', async () => {
    await importCsv(['email,name', 'Ann@Example.com,Ann', 'ben@example.com,Ben', 'ann@example.com ,Ann Again']);
    expect(await allEmails()).toEqual(['ann@example.com', 'ben@example.com']);
  });

  it('reports the repeated address in duplicates with both line numbers', async () => {
    const report = await importCsv(['email,name', 'Ann@Example.com,Ann', 'ben@example.com,Ben', 'ann@example.com ,Ann Again']);
    expect(report.duplicates).toEqual([{ line: 4, email: 'ann@example.com', firstLine: 2 }]);
    expect(report.inserted).toBe(2);
    expect((await stored('ann@example.com')).name).toBe('Ann');
  });

  it('reports each invalid address by line with a message naming the address', async () => {
    const report = await importCsv([
      'email,name',
      'ada@example.com,Ada', //   line 2
      'not-an-email,One', //      line 3
      'a@b,Two', //               line 4
      'x@@example.com,Three', //  line 5
      ',Four', //                 line 6
      'ben@example.com,Ben', //   line 7
    ]);
    expect(report.errors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(report.errors[0]?.message).toContain('"not-an-email"');
    expect(report.errors[1]?.message).toContain('"a@b"');
    expect(report.errors[2]?.message).toContain('"x@@example.com"');
    expect(report.errors[3]?.message).toContain('""');
    for (const error of report.errors) expect(error.message).toMatch(/not a valid email address/);
  });

  it('keeps the valid rows around invalid addresses', async () => {
    const report = await importCsv(['email,name', 'ada@example.com,Ada', 'not-an-email,One', 'a@b,Two', 'x@@example.com,Three', ',Four', 'ben@example.com,Ben']);
    expect(report.inserted).toBe(2);
    expect(report.updated).toBe(0);
    expect(await allEmails()).toEqual(['ada@example.com', 'ben@example.com']);
  });

  it('reports a row with the wrong number of fields by line and skips it', async () => {
    const report = await importCsv(['email,name', 'ada@example.com,Ada', 'ben@example.com,Ben,extra', 'carl@example.com', 'dora@example.com,Dora']);
    expect(report.errors).toEqual([
      { line: 3, message: expect.stringContaining('3 fields') },
      { line: 4, message: expect.stringContaining('1 fields') },
    ]);
    expect(await allEmails()).toEqual(['ada@example.com', 'dora@example.com']);
  });
});

describe('importSubscribersCsv: consent and status', () => {
  it('stores the consent columns on the subscriber', async () => {
    await importCsv([
      'email,consent_at,consent_source,consent_ip,consent_user_agent,confirmed_at',
      'ada@example.com,2026-02-14T09:12:00Z,form,203.0.113.7,"Mozilla/5.0 (X11, Linux)",2026-02-14T09:20:00Z',
    ]);
    const ada = await stored('ada@example.com');
    expect(ada).toMatchObject({
      consent_at: '2026-02-14T09:12:00.000Z',
      consent_source: 'form',
      consent_ip: '203.0.113.7',
      consent_user_agent: 'Mozilla/5.0 (X11, Linux)',
      confirmed_at: '2026-02-14T09:20:00.000Z',
    });
  });

  it('makes a row with consent active and confirmed', async () => {
    await importCsv(['email,consent_at,consent_source', 'ada@example.com,2026-02-14T09:12:00Z,form']);
    const ada = await stored('ada@example.com');
    expect(ada.status).toBe('active');
    expect(ada.confirmed_at).toBe('2026-02-14T09:12:00.000Z');
    expect(await memberStatus('ada@example.com')).toBe('active');
  });

  it('uses the consent time as the sign-up date of a new subscriber', async () => {
    await importCsv(['email,consent_at', 'ada@example.com,2026-02-14T09:12:00Z']);
    expect((await stored('ada@example.com')).created_at).toBe('2026-02-14T09:12:00.000Z');
  });

  it('leaves a row without consent pending and unconfirmed', async () => {
    await importCsv(['email,name', 'ada@example.com,Ada']);
    const ada = await stored('ada@example.com');
    expect(ada.status).toBe('pending');
    expect(ada.confirmed_at).toBeNull();
  });

  it('with confirmed: true makes rows without consent active and confirmed now, from "import"', async () => {
    await importCsv(['email,name', 'ada@example.com,Ada'], { confirmed: true });
    const ada = await stored('ada@example.com');
    expect(ada.status).toBe('active');
    expect(ada.confirmed_at).toBe(ctx.clock.now().toISOString());
    expect(ada.consent_source).toBe('import');
  });

  it('reports an invalid consent_ip and does not store the row', async () => {
    const report = await importCsv(['email,consent_at,consent_ip', 'ada@example.com,2026-02-14T09:12:00Z,203.0.113.7', 'ben@example.com,2026-02-14T09:12:00Z,999.1.2.3']);
    expect(report.errors).toEqual([{ line: 3, message: expect.stringContaining('consent.ip') }]);
    expect(await allEmails()).toEqual(['ada@example.com']);
  });

  it('reports an invalid consent_at date', async () => {
    const report = await importCsv(['email,consent_at', 'ada@example.com,last tuesday']);
    expect(report.errors).toEqual([{ line: 2, message: expect.stringContaining('consent.at') }]);
    expect(await subscriberCount()).toBe(0);
  });

  it('stores a row with status "unsubscribed" as unsubscribed, with an unsubscribed list membership', async () => {
    await importCsv(['email,consent_at,status', 'lena@example.net,2026-03-12T08:00:00Z,unsubscribed']);
    expect((await stored('lena@example.net')).status).toBe('unsubscribed');
    expect(await memberStatus('lena@example.net')).toBe('unsubscribed');
  });

  it.each(['bounced', 'complained'])('suppresses a row with status "%s" by the hash of its lowercase address', async (status) => {
    await importCsv(['email,status', `Gone@Example.com,${status}`]);
    expect((await stored('gone@example.com')).status).toBe(status);
    const suppression = await ctx.db.selectFrom('suppressions').selectAll().executeTakeFirst();
    expect(suppression?.email_hash).toBe(hashEmail('gone@example.com'));
    expect(suppression?.reason).toBe(status);
  });

  it('does not suppress active or unsubscribed rows', async () => {
    await importCsv(['email,consent_at,status', 'ada@example.com,2026-02-14T09:12:00Z,', 'lena@example.net,2026-03-12T08:00:00Z,unsubscribed']);
    expect(await ctx.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
  });

  it('reports an unknown status by line', async () => {
    const report = await importCsv(['email,status', 'ada@example.com,active', 'ben@example.com,vip']);
    expect(report.errors).toEqual([{ line: 3, message: expect.stringContaining('status') }]);
    expect(await allEmails()).toEqual(['ada@example.com']);
  });
});

describe('importSubscribersCsv: topics and attributes', () => {
  it('splits a comma-separated topics cell', async () => {
    await importCsv(['email,topics', 'ada@example.com,"compute, data-center"']);
    expect(await topicsOf('ada@example.com')).toEqual(['compute', 'data-center']);
  });

  it('splits a semicolon-separated topics cell and lowercases the topics', async () => {
    await importCsv(['email,topics', 'ada@example.com,Compute;POLICY']);
    expect(await topicsOf('ada@example.com')).toEqual(['compute', 'policy']);
  });

  it('reports an invalid topic by line and does not store the row', async () => {
    const report = await importCsv(['email,topics', 'ada@example.com,compute', 'ben@example.com,Not A Slug!']);
    expect(report.errors).toEqual([{ line: 3, message: expect.stringMatching(/topics.*topic slug/) }]);
    expect(await allEmails()).toEqual(['ada@example.com']);
  });

  it('stores unknown columns as subscriber attributes', async () => {
    await importCsv(['email,name,company,role', 'ada@example.com,Ada,Northwind Compute,Head of Infrastructure']);
    expect(await attributesOf('ada@example.com')).toEqual({ company: 'Northwind Compute', role: 'Head of Infrastructure' });
  });

  it('does not store an attribute for an empty cell', async () => {
    await importCsv(['email,company,role', 'ada@example.com,,CTO']);
    expect(await attributesOf('ada@example.com')).toEqual({ role: 'CTO' });
  });
});

describe('importSubscribersCsv: re-import', () => {
  it('never re-subscribes an address imported as unsubscribed', async () => {
    await importCsv(['email,status', 'lena@example.net,unsubscribed']);
    const report = await importCsv(['email,consent_at,consent_source', 'lena@example.net,2026-11-01T10:00:00Z,form'], { confirmed: true });
    expect(report).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const lena = await stored('lena@example.net');
    expect(lena.status).toBe('unsubscribed');
    expect(lena.confirmed_at).toBeNull();
    expect(await memberStatus('lena@example.net')).toBe('unsubscribed');
  });

  it('promotes a pending subscriber re-imported with consent to active and confirmed', async () => {
    await importCsv(['email,name', 'jamie@example.org,Jamie']);
    expect((await stored('jamie@example.org')).status).toBe('pending');
    const report = await importCsv(['email,consent_at,consent_source', 'jamie@example.org,2026-11-01T10:00:00Z,form']);
    expect(report).toMatchObject({ inserted: 0, updated: 1 });
    const jamie = await stored('jamie@example.org');
    expect(jamie.status).toBe('active');
    expect(jamie.confirmed_at).toBe('2026-11-01T10:00:00.000Z');
    expect(jamie.consent_source).toBe('form');
  });
});

describe('importSubscribersCsv: broken files', () => {
  it('is fatal when the header has no email column, naming "email"', async () => {
    const report = await importCsv(['name,company', 'Ada,Northwind']);
    expect(report.fatal).toMatch(/"email"/);
    expect(await subscriberCount()).toBe(0);
  });

  it('is fatal for an empty file', async () => {
    const report = await importFile(csvFile(''));
    expect(report.fatal).toMatch(/empty/);
    expect(report.inserted).toBe(0);
  });

  it('is fatal when the header line is not valid UTF-8 (a UTF-16 file), naming line 1', async () => {
    const path = join(ctx.dir, 'utf16.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\tname\nada@example.com\tAda\n', 'utf16le')]));
    const report = await importFile(path);
    expect(report.fatal).toMatch(/^line 1: the header row is not valid UTF-8/);
    expect(await subscriberCount()).toBe(0);
  });
});

describe('importSubscribersCsv: broken records cost only themselves', () => {
  // The shape of a real export: quoted topics on every row, so a stray quote has quotes to run into.
  const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => `user${from + i}@example.com,User ${from + i},"compute,policy",Company ${(from + i) % 50}`);
  const HEADER = 'email,name,topics,company';

  it("keeps all 6,000 rows around a name with 5'7\" in it, the quote as written", async () => {
    const report = await importCsv([HEADER, ...rows(0, 3000), 'ben@example.com,Ben 5\'7",,Harbor', ...rows(3000, 3000)]);
    expect(report).toMatchObject({ inserted: 6001, errors: [], duplicates: [] });
    expect(report.fatal).toBeUndefined();
    expect((await stored('ben@example.com')).name).toBe('Ben 5\'7"');
  }, 120_000);

  it('reports an unclosed quote among 6,000 rows by its line and keeps the 6,000', async () => {
    const report = await importCsv([HEADER, ...rows(0, 3000), 'ben@example.com,"Ben 5\'7"",,Harbor', ...rows(3000, 3000)]);
    expect(report.errors).toEqual([{ line: 3002, message: expect.stringContaining('quoted field that is not closed') }]);
    expect(report).toMatchObject({ inserted: 6000, duplicates: [] });
    expect(report.fatal).toBeUndefined();
    expect(await subscriberCount()).toBe(6000);
    expect(await subscriber('ben@example.com')).toBeUndefined();
    expect(await topicsOf('user3000@example.com')).toEqual(['compute', 'policy']);
  }, 120_000);

  it.each([
    ['the first row after the header', [HEADER, 'ben@example.com,"Ben,,X', ...rows(0, 20)], [2]],
    ['the last row, at the end of the file', [HEADER, ...rows(0, 20), 'ben@example.com,"Ben,,X'], [22]],
    ['several rows', [HEADER, ...rows(0, 5), 'a@example.com,"A,,X', ...rows(5, 5), 'b@example.com,"B" b,,X', 'c@example.com,"C,,X', ...rows(10, 10)], [7, 13, 14]],
    ['text after a closing quote', [HEADER, ...rows(0, 10), 'ben@example.com,"Ben 5\'7" tall",,X', ...rows(10, 10)], [12]],
  ])('an unclosed or broken quote on %s costs that row only', async (_label, lines, errorLines) => {
    const report = await importCsv(lines, { batchSize: 7 });
    expect(report.errors.map((e) => e.line)).toEqual(errorLines);
    expect(report.inserted).toBe(20);
    expect(await subscriberCount()).toBe(20);
  });

  it('reports NUL bytes and invalid UTF-8 in the middle by line and keeps every other row', async () => {
    const path = join(ctx.dir, 'binary.csv');
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from([HEADER, ...rows(0, 10), ''].join('\n')),
        Buffer.from('nul@example.com,\u0000\u0000\u0000,,X\n'),
        Buffer.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x22, 0x0a, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]),
        Buffer.from([...rows(10, 10), ''].join('\n')),
      ]),
    );
    const report = await importFile(path, { batchSize: 7 });
    expect(report.errors).toEqual([
      { line: 12, message: expect.stringContaining('U+0000') },
      { line: 13, message: expect.stringContaining('not valid UTF-8') },
      { line: 14, message: expect.stringContaining('not valid UTF-8') },
    ]);
    expect(report.inserted).toBe(20);
    expect(await topicsOf('user10@example.com')).toEqual(['compute', 'policy']);
  });
});

describe('importSubscribersCsv: delimiters', () => {
  it('imports a semicolon-separated file with a BOM and CRLF, as Excel writes it in much of Europe', async () => {
    const report = await importFile(
      csvFile('\uFEFFemail;name;topics;company\r\nzoe.mueller@example.net;Zoë Müller;compute,policy;"Kraft; Werk"\r\nada@example.com;Ada;;\r\n'),
    );
    expect(report).toMatchObject({ inserted: 2, errors: [], duplicates: [] });
    expect(report.fatal).toBeUndefined();
    expect((await stored('zoe.mueller@example.net')).name).toBe('Zoë Müller');
    expect(await topicsOf('zoe.mueller@example.net')).toEqual(['compute', 'policy']);
    expect(await attributesOf('zoe.mueller@example.net')).toEqual({ company: 'Kraft; Werk' });
  });

  it('imports a tab-separated file', async () => {
    const report = await importCsv(['Email Address\tFull Name\ttopics', 'ada@example.com\tLindqvist, Ada\tcompute,policy']);
    expect(report).toMatchObject({ inserted: 1, errors: [] });
    expect((await stored('ada@example.com')).name).toBe('Lindqvist, Ada');
  });

  it('picks the delimiter that makes "email" a column when the header holds another one too', async () => {
    const report = await importCsv(['email;name;"Company, Inc."', 'ada@example.com;Ada;Northwind']);
    expect(report).toMatchObject({ inserted: 1, errors: [] });
    expect((await stored('ada@example.com')).name).toBe('Ada');
    expect(await attributesOf('ada@example.com')).toEqual({ 'company,_inc.': 'Northwind' });
  });

  it('imports a file with a single email column', async () => {
    const report = await importCsv(['email', 'ada@example.com', 'ben@example.com']);
    expect(report).toMatchObject({ inserted: 2, errors: [] });
  });

  it('refuses an ambiguous header, naming both delimiters and --delimiter, and imports with the override', async () => {
    const lines = ['email,name;email', 'ada@example.com,Ada;x'];
    const refused = await importCsv(lines);
    expect(refused.fatal).toMatch(/^line 1: .*"," or ";".*--delimiter/);
    expect(await subscriberCount()).toBe(0);
    const report = await importCsv(lines, { delimiter: ',' });
    expect(report.fatal).toBeUndefined();
    expect(await attributesOf('ada@example.com')).toEqual({ 'name;email': 'Ada;x' });
  });

  it('is fatal when no delimiter makes "email" a column, naming the delimiters tried', async () => {
    const report = await importCsv(['mail;name,company', 'ada@example.com;Ada,Northwind']);
    expect(report.fatal).toMatch(/^line 1: the header row has no "email" column when split at "," or ";"/);
  });

  it('with a delimiter given, splits at it and nothing else', async () => {
    const report = await importCsv(['email;name', 'ada@example.com;Ada'], { delimiter: ',' });
    expect(report.fatal).toMatch(/no "email" column/);
    expect(await subscriberCount()).toBe(0);
  });

  it('keeps a CRLF inside a quoted field as written', async () => {
    const report = await importFile(csvFile('email;notes\r\nada@example.com;"first line\r\nsecond line"\r\nben@example.com;"one\ntwo"\n'));
    expect(report).toMatchObject({ inserted: 2, errors: [] });
    expect(await attributesOf('ada@example.com')).toEqual({ notes: 'first line\r\nsecond line' });
    expect(await attributesOf('ben@example.com')).toEqual({ notes: 'one\ntwo' });
  });
});

describe('importSubscribersCsv: the shipped sample and large files', () => {
  it('imports data/sample/subscribers.csv: 16 inserted, no errors, 1 pending, 1 unsubscribed', async () => {
    const report = await importFile(join(SAMPLE_DIR, 'subscribers.csv'));
    expect(report).toMatchObject({ inserted: 16, updated: 0, errors: [], duplicates: [] });
    expect(report.fatal).toBeUndefined();
    const byStatus = await ctx.db
      .selectFrom('subscribers')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
    expect(counts).toEqual({ active: 14, pending: 1, unsubscribed: 1 });
  });

  it('flushes a final partial batch', async () => {
    const lines = ['email,name', ...Array.from({ length: 10 }, (_, i) => `user${i}@example.com,User ${i}`)];
    const report = await importCsv(lines, { batchSize: 3 });
    expect(report.inserted).toBe(10);
    expect(await subscriberCount()).toBe(10);
  });

  it('streams a 20,000-row file into 20,000 subscribers', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `user${i}@example.com,User ${i},"compute,policy",Company ${i % 50}`);
    const report = await importCsv(['email,name,topics,company', ...rows]);
    expect(report).toMatchObject({ inserted: 20_000, errors: [], duplicates: [] });
    expect(await subscriberCount()).toBe(20_000);
    expect(await topicsOf('user19999@example.com')).toEqual(['compute', 'policy']);
  }, 120_000);
});

describe('importSubscribersCsv: first names', () => {
  it.each(['first_name', 'First Name', 'FirstName', 'given name', 'Forename'])('reads the first name from a "%s" column, not as an attribute', async (column) => {
    const report = await importCsv([`email,name,${column}`, 'chidi@example.org,"Okafor, Chidi",Chidi-Emeka']);
    expect(report).toMatchObject({ inserted: 1, errors: [] });
    expect(await stored('chidi@example.org')).toMatchObject({ name: 'Okafor, Chidi', first_name: 'Chidi-Emeka' });
    expect(await attributesOf('chidi@example.org')).toEqual({});
  });

  it('leaves it empty when the cell or the column is (the greeting then takes it from the name)', async () => {
    await importCsv(['email,name,first_name', 'chidi@example.org,"Okafor, Chidi",', 'ada@example.com,Ada Lindqvist,"  "']);
    await importCsv(['email,name', 'zoe@example.net,Zoë Müller']);
    for (const email of ['chidi@example.org', 'ada@example.com', 'zoe@example.net']) expect((await stored(email)).first_name).toBeNull();
  });

  it('stores hostile first names as one plain line: quotes, commas, bidi overrides, line breaks, emoji', async () => {
    const report = await importCsv([
      'email,first_name',
      'a@example.com,"Chidi, ""CJ"""',
      'b@example.com,\u202eimdA\u202c',
      'c@example.com,"Ada\nBcc: victim@example.com"',
      'd@example.com,👩‍💻 Åsa',
    ]);
    expect(report).toMatchObject({ inserted: 4, errors: [] });
    expect((await stored('a@example.com')).first_name).toBe('Chidi, "CJ"');
    expect((await stored('b@example.com')).first_name).toBe('imdA');
    expect((await stored('c@example.com')).first_name).toBe('Ada Bcc: victim@example.com');
    expect((await stored('d@example.com')).first_name).toBe('👩‍💻 Åsa');
  });

  it('reports an overlong first name by line and field, and keeps the rows around it', async () => {
    const report = await importCsv(['email,first_name', 'a@example.com,Ada', `b@example.com,${'x'.repeat(51)}`, 'c@example.com,Chidi']);
    expect(report.inserted).toBe(2);
    expect(report.errors).toEqual([{ line: 3, message: 'first_name: longer than 50 characters' }]);
    expect(await subscriber('b@example.com')).toBeUndefined();
  });

  it('updates the first name on a re-import that has one, and keeps it on one that has none', async () => {
    await importCsv(['email,name,first_name', 'chidi@example.org,"Okafor, Chidi",Chidi']);
    expect((await importCsv(['email,name,first_name', 'chidi@example.org,"Okafor, Chidi",Emeka'])).updated).toBe(1);
    expect((await stored('chidi@example.org')).first_name).toBe('Emeka');
    expect((await importCsv(['email,name', 'chidi@example.org,"Okafor, Chidi"'])).unchanged).toBe(1);
    expect((await stored('chidi@example.org')).first_name).toBe('Emeka');
  });
});
