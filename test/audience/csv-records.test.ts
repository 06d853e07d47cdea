// The CSV layer on its own, without subscriber semantics: csv-spectrum's acid tests, line numbers,
// and recovery from broken records (a broken record costs its first line, nothing more).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CsvDelimiter, type CsvRecord, csvRecords, MAX_LINE_BYTES, MAX_RECORD_LINES } from '../../src/audience/csv-records.ts';

/** The records of `input`, handed to the parser in chunks of `chunkSize` bytes (all at once by default). */
async function records(input: string | Buffer, delimiter: CsvDelimiter = ',', chunkSize = Infinity): Promise<CsvRecord[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  const out: CsvRecord[] = [];
  for await (const record of csvRecords(chunks(), delimiter)) out.push(record);
  return out;
}

/** Line numbers of the good records, and of the broken ones. */
function lines(result: CsvRecord[]): { good: number[]; broken: number[] } {
  return { good: result.filter((r) => 'fields' in r).map((r) => r.line), broken: result.filter((r) => 'error' in r).map((r) => r.line) };
}

const SPECTRUM_DIR = dirname(createRequire(import.meta.url).resolve('csv-spectrum'));
const SPECTRUM = readdirSync(join(SPECTRUM_DIR, 'csvs')).map((file) => file.replace(/\.csv$/, ''));

describe('csvRecords: csv-spectrum', () => {
  it('finds the csv-spectrum cases', () => {
    expect(SPECTRUM.length).toBeGreaterThanOrEqual(11);
    expect(SPECTRUM).toContain('newlines_crlf');
  });

  it.each(SPECTRUM)('%s.csv parses to %s.json', async (name) => {
    const csv = readFileSync(join(SPECTRUM_DIR, 'csvs', `${name}.csv`));
    const expected: unknown = JSON.parse(readFileSync(join(SPECTRUM_DIR, 'json', `${name}.json`), 'utf8'));
    // One chunk, and one byte at a time: the result must not depend on where the reads split the file.
    for (const chunkSize of [Infinity, 1]) {
      const result = await records(csv, ',', chunkSize);
      const fields = result.map((r) => ('fields' in r ? r.fields : r.error));
      const [header = [], ...rows] = fields as string[][];
      expect(rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])))).toEqual(expected);
    }
  });
});

describe('csvRecords: lines and line ends', () => {
  it('keeps a CRLF inside a quoted field as written, and LF as written', async () => {
    const result = await records('a,b\r\n"one\r\ntwo",x\r\n"three\nfour",y\n');
    expect(result).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['one\r\ntwo', 'x'] },
      { line: 4, fields: ['three\nfour', 'y'] },
    ]);
  });

  it('numbers each record by the physical line it starts on, counting blank lines and line breaks in quotes', async () => {
    const result = await records('a,b\r\n\r\n"1\r\n2\r\n3",x\r\n\n4,y\n"5\n\n6",z\n7,w');
    expect(result.map((r) => r.line)).toEqual([1, 3, 7, 8, 11]);
  });

  it('strips a BOM before the header', async () => {
    expect(await records('\uFEFF"a",b\nc,d\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['c', 'd'] },
    ]);
  });

  it('splits at the delimiter it is given: ";" and tab', async () => {
    expect(await records('email;name\nada@example.com;"Lindqvist; Ada"\n', ';')).toEqual([
      { line: 1, fields: ['email', 'name'] },
      { line: 2, fields: ['ada@example.com', 'Lindqvist; Ada'] },
    ]);
    expect(await records('email\tname\nada@example.com\tAda, L.\n', '\t')).toEqual([
      { line: 1, fields: ['email', 'name'] },
      { line: 2, fields: ['ada@example.com', 'Ada, L.'] },
    ]);
  });

  it('takes a quote inside an unquoted field as a literal character', async () => {
    expect(await records('a,b\nBen 5\'7",x\nsays "hi",y\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['Ben 5\'7"', 'x'] },
      { line: 3, fields: ['says "hi"', 'y'] },
    ]);
  });

  it('asks the chooser for the delimiter with the header line, after the BOM and blank lines', async () => {
    const seen: Array<{ line: number; text: string }> = [];
    async function* input() {
      yield Buffer.from('\uFEFF\n\nemail;name\r\nada@example.com;Ada\n');
    }
    const out: CsvRecord[] = [];
    for await (const r of csvRecords(input(), (header) => (seen.push(header), ';'))) out.push(r);
    expect(seen).toEqual([{ line: 3, text: 'email;name\r\n' }]);
    expect(out).toEqual([
      { line: 3, fields: ['email', 'name'] },
      { line: 4, fields: ['ada@example.com', 'Ada'] },
    ]);
  });
});

describe('csvRecords: a broken record costs its first line only', () => {
  const good = (from: number, n: number) => Array.from({ length: n }, (_, i) => `user${from + i}@example.com,"User ${from + i}","compute,policy"`);

  it.each([
    ['an opening quote that never closes, before more quoted fields', 'ben@example.com,"Ben,"compute"'],
    ['an opening quote with a doubled quote at the end of the line', 'ben@example.com,"Ben 5\'7"",compute'],
    ['text after a closing quote', 'ben@example.com,"Ben 5\'7" tall",compute'],
  ])('%s: reported at its line, every row around it kept', async (_label, bad) => {
    const result = await records(['email,name,topics', ...good(1, 30), bad, ...good(31, 30)].join('\n') + '\n');
    expect(lines(result)).toEqual({ good: [1, ...Array.from({ length: 30 }, (_, i) => i + 2), ...Array.from({ length: 30 }, (_, i) => i + 33)], broken: [32] });
  });

  it('reports an unclosed quote on the first row after the header, on the last row, and at the end of the file', async () => {
    const text = ['email,name', 'ada@example.com,"Ada', 'ben@example.com,Ben', 'carl@example.com,"Carl', 'dora@example.com,Dora', 'eve@example.com,"Eve'].join('\n');
    for (const input of [text, `${text}\n`, `${text}\r\n`]) {
      expect(lines(await records(input))).toEqual({ good: [1, 3, 5], broken: [2, 4, 6] });
    }
  });

  it('reports several broken rows in a row, each by its own line', async () => {
    const result = await records(['a,b', '1,"x', '2,"y', '3,"z', '4,w', '5,"v" v', '6,u'].join('\n'));
    expect(lines(result)).toEqual({ good: [1, 5, 7], broken: [2, 3, 4, 6] });
  });

  it(`keeps a quoted field spanning ${MAX_RECORD_LINES} lines; one spanning more costs its first line`, async () => {
    const field = (n: number) => `"${Array.from({ length: n }, (_, i) => `part ${i + 1}`).join('\n')}"`;
    const kept = await records(`a,b\n1,${field(MAX_RECORD_LINES)}\n2,x\n`);
    expect(kept).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', Array.from({ length: MAX_RECORD_LINES }, (_, i) => `part ${i + 1}`).join('\n')] },
      { line: 2 + MAX_RECORD_LINES, fields: ['2', 'x'] },
    ]);
    const tooLong = await records(`a,b\n1,${field(MAX_RECORD_LINES + 1)}\n2,x\n`);
    expect(tooLong[1]).toEqual({ line: 2, error: expect.stringContaining(`not closed within ${MAX_RECORD_LINES} lines`) });
    // The lines after it are read again: the continuation lines come back as one-field rows, then row 2.
    expect(tooLong.at(-1)).toEqual({ line: 3 + MAX_RECORD_LINES, fields: ['2', 'x'] });
  });

  it('gives up a record spanning lines that closes with the wrong number of fields, and reads its other lines again', async () => {
    // The quote on line 2 is stray; the one on line 4 "closes" it, making a record of 2 fields, not 3.
    const result = await records(['a,b,c', '1,"x,y', '2,p,q', '3,r"', '4,s,t'].join('\n'));
    expect(result).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, error: expect.stringContaining('not closed') },
      { line: 3, fields: ['2', 'p', 'q'] },
      { line: 4, fields: ['3', 'r"'] },
      { line: 5, fields: ['4', 's', 't'] },
    ]);
  });
});

describe('csvRecords: lines that are not text', () => {
  it('reports a line with NUL bytes and skips it', async () => {
    const result = await records('a,b\n1,x\n2,\u0000\u0000\u0007y\n3,z\n');
    expect(result).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', 'x'] },
      { line: 3, error: expect.stringContaining('U+0000') },
      { line: 4, fields: ['3', 'z'] },
    ]);
  });

  it('reports a line of invalid UTF-8 and skips it, and keeps UTF-8 split across reads', async () => {
    const input = Buffer.concat([Buffer.from('a,b\n1,Zoë Müller\n2,'), Buffer.from([0xff, 0xc3, 0x28, 0xe9]), Buffer.from('\n3,ʤ\n')]);
    for (const chunkSize of [Infinity, 1, 7]) {
      expect(await records(input, ',', chunkSize)).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', 'Zoë Müller'] },
        { line: 3, error: expect.stringContaining('not valid UTF-8') },
        { line: 4, fields: ['3', 'ʤ'] },
      ]);
    }
  });

  it('ends a quoted field at a broken line: the record before it and the lines after it are reported or kept', async () => {
    const input = Buffer.concat([Buffer.from('a,b\n1,"open\n2,x\n'), Buffer.from([0x00, 0xff, 0xfe, 0x0a]), Buffer.from('3,"y"\n')]);
    expect(lines(await records(input))).toEqual({ good: [1, 3, 5], broken: [2, 4] });
  });

  it('reports binary garbage in the middle line by line and keeps the rows after it', async () => {
    // Deterministic noise: every byte value, newlines included, in a scrambled order.
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 167 + 13) % 256));
    const input = Buffer.concat([Buffer.from('a,b\n1,x\n'), garbage, Buffer.from('\n2,y\n3,"z"\n')]);
    for (const chunkSize of [Infinity, 1000]) {
      const result = await records(input, ',', chunkSize);
      const garbageLines = garbage.filter((b) => b === 10).length + 1;
      expect(result.slice(0, 2)).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', 'x'] },
      ]);
      expect(result.slice(-2)).toEqual([
        { line: 3 + garbageLines, fields: ['2', 'y'] },
        { line: 4 + garbageLines, fields: ['3', 'z'] },
      ]);
      expect(result.slice(2, -2).every((r) => 'error' in r)).toBe(true);
    }
  });

  it(`reports a line longer than ${MAX_LINE_BYTES} bytes without keeping it, and goes on`, async () => {
    const input = `a,b\n1,x\n2,${'y'.repeat(MAX_LINE_BYTES * 3)}\n3,z\n`;
    for (const chunkSize of [Infinity, 4096]) {
      expect(await records(input, ',', chunkSize)).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', 'x'] },
        { line: 3, error: expect.stringContaining(`longer than ${MAX_LINE_BYTES} bytes`) },
        { line: 4, fields: ['3', 'z'] },
      ]);
    }
  });
});
