// A CSV file as a stream of records, each with the physical line it starts on. A broken record
// costs only itself: a stray quote, invalid UTF-8 or binary garbage is reported by line and the
// records before and after it are kept.
//
// Why csv-parse sees one record at a time: a streaming parser that meets an opening quote that never
// closes reads the rest of the file as one field, and no csv-parse option bounds that
// (skip_records_with_error and max_record_size drop the record but stay inside the quote). So the
// file is split at LF (never ambiguous), lines go to csv-parse until they make a complete record, and
// when they cannot (the quoted field runs past MAX_RECORD_LINES lines, into a broken line or the end
// of the file), do not parse, or close with another field count than the header's, only the first
// line is given up: the lines after it are read again as new records.
import { type CsvError, parse } from 'csv-parse/sync';

export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

/** How many lines one record may span (a quoted field with line breaks, such as an address). */
export const MAX_RECORD_LINES = 10;
/** A longer line is no CSV row (binary data, or a file with CR-only line ends): it is skipped unread. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface TextLine {
  line: number;
  /** The line as written, with its LF or CRLF (none on a last line without one). */
  text: string;
}
export interface BrokenLine {
  line: number;
  error: string;
}
export type CsvRecord = { line: number; fields: string[] } | BrokenLine;

const QUOTE_HINT = '(a quote inside a quoted field is written "")';
const UNCLOSED = `has a quoted field that is not closed ${QUOTE_HINT}`;

/**
 * The records of a CSV file; the first is the header row (or what broke it). `delimiter` is fixed, or
 * chosen from the header line (after any BOM); a chooser that throws ends the iteration with its error.
 */
export async function* csvRecords(
  input: AsyncIterable<Buffer>,
  delimiter: CsvDelimiter | ((header: TextLine) => CsvDelimiter),
): AsyncGenerator<CsvRecord> {
  let assembler: RecordAssembler | undefined;
  for await (const line of physicalLines(input)) {
    if ('error' in line) {
      // A broken line ends any record in progress: a quoted field does not run through binary data.
      if (assembler) yield* assembler.end();
      yield line;
      continue;
    }
    if (!assembler) {
      if (line.text.trim() === '') continue;
      assembler = new RecordAssembler(typeof delimiter === 'function' ? delimiter(line) : delimiter);
    }
    yield* assembler.push(line);
  }
  if (assembler) yield* assembler.end();
}

/** The fields of one line, or undefined when it is not a complete record (an unclosed quote, text after a closing quote). */
export function csvFields(text: string, delimiter: CsvDelimiter): string[] | undefined {
  const parsed = parseRecord(text, delimiter);
  return 'fields' in parsed ? parsed.fields : undefined;
}

/** Groups lines into records. */
class RecordAssembler {
  private pending: TextLine[] = [];
  /** The header's field count: a record spanning lines that does not have it was joined by a stray quote. */
  private width: number | undefined;

  constructor(private readonly delimiter: CsvDelimiter) {}

  push(line: TextLine): CsvRecord[] {
    return this.feed([line], false);
  }

  /** At the end of the file, or at a broken line: a record still open cannot be completed. */
  end(): CsvRecord[] {
    return this.feed([], true);
  }

  private feed(queue: TextLine[], atEnd: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (;;) {
      const next = queue.shift();
      if (!next) {
        if (!atEnd || this.pending.length === 0) return out;
        out.push(this.giveUp(queue, UNCLOSED));
        continue;
      }
      // Blank lines between records are skipped; inside a quoted field they are part of it.
      if (this.pending.length === 0 && next.text.trim() === '') continue;
      this.pending.push(next);
      const parsed = parseRecord(this.pending.map((l) => l.text).join(''), this.delimiter);
      const spansLines = this.pending.length > 1;
      if ('open' in parsed) {
        if (this.pending.length < MAX_RECORD_LINES) continue;
        out.push(this.giveUp(queue, `has a quoted field that is not closed within ${MAX_RECORD_LINES} lines ${QUOTE_HINT}`));
      } else if (spansLines && ('error' in parsed || parsed.fields.length !== this.width)) {
        out.push(this.giveUp(queue, UNCLOSED));
      } else if ('error' in parsed) {
        out.push(this.giveUp(queue, parsed.error));
      } else {
        this.width ??= parsed.fields.length;
        out.push({ line: (this.pending[0] as TextLine).line, fields: parsed.fields });
        this.pending = [];
      }
    }
  }

/** Reports the pending record by its first line and puts the lines after it back in the queue. */
  private giveUp(queue: TextLine[], reason: string): BrokenLine {
    const [first, ...rest] = this.pending as [TextLine, ...TextLine[]];
    this.pending = [];
    queue.unshift(...rest);
    return { line: first.line, error: reason };
  }
}

/**
 * The one parser configuration: a quote inside an unquoted field (5'7") is a literal character, as
 * most CSV readers take it; line breaks inside quoted fields are kept as written (LF or CRLF); a lone
 * CR is a character, not a line end; spaces around fields are trimmed, not inside quotes.
 */
function parseRecord(text: string, delimiter: CsvDelimiter): { fields: string[] } | { open: true } | { error: string } {
  try {
    const [fields = []] = parse(text, { delimiter, record_delimiter: ['\r\n', '\n'], relax_quotes: true, relax_column_count: true, trim: true });
    return { fields };
  } catch (e) {
    const error = e as CsvError;
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') return { open: true };
    if (error.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') {
        return { error: `has text after the closing quote of field ${Number(error.index) + 1} ${QUOTE_HINT}` };
    }
    throw e;
  }
}

/** Splits the bytes at LF, decodes each line as UTF-8 and reports lines that are not text. */
async function* physicalLines(input: AsyncIterable<Buffer>): AsyncGenerator<TextLine | BrokenLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let line = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  const take = (last: Buffer): TextLine | BrokenLine => {
    const bytes = Buffer.concat([...parts, last]);
    const wasTooLong = tooLong || bytes.length > MAX_LINE_BYTES;
    parts = [];
    size = 0;
    tooLong = false;
    line++;
    if (wasTooLong) return { line, error: `is longer than ${MAX_LINE_BYTES} bytes (binary data, or line ends other than LF or CRLF?)` };
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { line, error: 'is not valid UTF-8 (save the file as "CSV UTF-8")' };
    }
    if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
    if (control) {
      const code = (control[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
      return { line, error: `contains the control character U+${code} (binary data?)` };
    }
    return { line, text };
  };
  for await (const chunk of input) {
    let start = 0;
    for (let lf = chunk.indexOf(10); lf !== -1; lf = chunk.indexOf(10, start)) {
      yield take(chunk.subarray(start, lf + 1));
      start = lf + 1;
    }
    const rest = chunk.subarray(start);
    // An overlong line is dropped as it streams by, so memory stays bounded whatever the file holds.
    if (tooLong || size + rest.length > MAX_LINE_BYTES) {
      tooLong = true;
      parts = [];
      size = 0;
    } else if (rest.length > 0) {
      parts.push(rest);
      size += rest.length;
    }
  }
  if (size > 0 || tooLong) yield take(Buffer.alloc(0));
}
