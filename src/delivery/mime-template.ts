// A variant's message built once, and per recipient only the personal values spliced in: the raw
// RFC 5322 message comes out byte for byte as composeMessage + nodemailer would write it (apart
// from Date, Message-ID and the boundary, which nodemailer picks at random), without encoding the
// whole body again for every reader.
//
// The frame (static headers, part headers, boundaries) is taken from one message nodemailer
// composes for the variant; the recipient's header fields (To, Message-ID, Date, List-Unsubscribe)
// go through nodemailer's own header encoding. The parts are quoted-printable: each static stretch
// between two placeholders is encoded (nodemailer's qp.encode) and soft-wrapped once; per recipient
// only the lines around a value are wrapped again, line by line as nodemailer's qp.wrap does, until
// a line starts where one of the stretch's own lines starts (a few lines on), and from there the
// precomputed lines follow. The encoder's 64 KiB input slices are followed too, so every soft
// break lands exactly where nodemailer puts it.
//
// The precomputed lines (and, with DKIM, their canonical form) are kept as bytes, off the JS heap,
// so a template holds about one copy of the body; a recipient's message is one Buffer.concat of
// slices of them and the few lines wrapped afresh, and its body hash is taken over the same slices.
import nodemailer from 'nodemailer';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import * as qp from 'nodemailer/lib/qp';
import { headerSafe } from '../audience/email.ts';
import type { Config } from '../config.ts';
import { escapeFor, newNonce, placeholderPattern, type TokenKey, type TokenValues } from '../render/personalize.ts';
import { composeMessage, type MessageParts, unsubscribeMailto } from './compose.ts';
import { bodyHash, dkimSignature, relaxedLines } from './dkim.ts';

const LINE = 76;
/** How much of the encoded text is read at a time around a value: a value and the lines until they resync, most often. */
const READ_AHEAD = 8 * LINE;
/** How much of a stretch's start is kept as text: where the lines after a value are wrapped until they resync. */
const HEAD = 2 * READ_AHEAD;

/**
 * One static stretch of a part, encoded and wrapped once as if it stood alone. Its output is kept
 * as bytes (off the JS heap); the encoded text is read back from those lines where a recipient's
 * lines are wrapped afresh, so no full-size string is kept.
 */
interface Stretch {
  /** Bytes of its text (UTF-8), each one character of the encoded text or an "=XX"; and the encoded text's length. */
  bytes: number;
  length: number;
  /** The encoded text, kept only when it is short (no lines of its own) or holds a CR (its lines could not be read back). */
  encoded: string | undefined;
  /** Its start, and its end from `tailAt`: where a recipient's values make lines be wrapped afresh. Elsewhere it is read back from `out`. */
  head: string;
  tail: string;
  tailAt: number;
  /** It starts with a line break (which ends the value before it). */
  startsLine: boolean;
  /** The wrapped output with CRLF line ends, and the same canonicalized for the DKIM body hash (with DKIM only; the same Buffer when nothing changes). */
  out: Buffer;
  canonical: Buffer | undefined;
  /** Where each of its lines starts: in the encoded text, `out`, `canonical` and the text's bytes; the last entries are the ends. */
  src: Int32Array;
  dst: Int32Array;
  canon: Int32Array;
  rawAt: Int32Array;
  /** Lines before `valid` are wrapped the same in the whole message; those from it on run into what follows. */
  valid: number;
  /** Parts that may go 7bit: the text with CRLF line ends, its length, and the lengths of its first (-1: no line break) and last line. */
  plain: { bytes: Buffer; chars: number; first: number; last: number } | undefined;
}

interface PartTemplate {
  escape: (value: string) => string;
  stretches: Stretch[];
  keys: TokenKey[];
  /** Plain ASCII with short lines, so nodemailer might write it 7bit for some values. */
  may7bit: boolean;
}

export interface MessageTemplate {
  /** Header fields in nodemailer's order, with a slot where a recipient's field goes. */
  fields: Array<string | { slot: RecipientField }>;
  /** Between the header block and the text (its blank line first), between text and HTML, after the HTML; and canonicalized for DKIM, from the body's start. */
  frame: Frame & { canonical: Frame | undefined };
  text: PartTemplate;
  html: PartTemplate;
  dkim: Config['dkim'];
  mailto: string;
  /** Encodes the recipient's header fields as nodemailer encodes the message's (Q or B encoded words alike). */
  headerNode: MimeNode;
}

type Encoding = 'quoted-printable' | '7bit';
interface Frame {
  beforeText: Record<Encoding, Buffer>;
  beforeHtml: Record<Encoding, Buffer>;
  end: Buffer;
}
type Shared = Pick<MessageParts, 'subject' | 'listSlug' | 'listName'>;
export type Recipient = Omit<MessageParts, keyof Shared | 'body'> & { values: TokenValues };

const RECIPIENT_FIELDS = ['to', 'message-id', 'date', 'list-unsubscribe'] as const;
type RecipientField = (typeof RECIPIENT_FIELDS)[number];
const isRecipientField = (name: string): name is RecipientField => (RECIPIENT_FIELDS as readonly string[]).includes(name);

/** Quoted-printable and 7bit bodies are ASCII: one byte per character. */
const ascii = (s: string) => Buffer.from(s, 'latin1');
/** A string of its own: V8 keeps a slice as a view of the whole string it was cut from. */
const copy = (s: string) => ascii(s).toString('latin1');

/** Builds the template of one variant's messages (once per variant and send). */
export async function messageTemplate(config: Config, variant: { html: string; text: string; placeholder_nonce: string }, shared: Shared): Promise<MessageTemplate> {
  // nodemailer composes one message with markers for the parts; its frame is kept as it is.
  const mark = newNonce();
  const marker = (part: string) => `\u00e4${mark}${part}`;
  const sample = composeMessage({ ...config, dkim: undefined }, {
    ...shared,
    recipient: { email: 'sample@example.invalid', name: null },
    body: { text: marker('T'), html: marker('H') },
    unsubscribeUrl: 'https://example.invalid/',
    unsubscribeToken: 'sample',
    messageId: '<sample@example.invalid>',
    date: new Date(0),
  });
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const raw = ((await composer.sendMail(sample)).message as Buffer).toString('utf8');
  const headEnd = raw.indexOf('\r\n\r\n');
  const fields = raw.slice(0, headEnd).split(/\r\n(?![ \t])/).map((field) => {
    const name = field.slice(0, field.indexOf(':')).toLowerCase();
    return isRecipientField(name) ? { slot: name } : field;
  });
  const encodedMarker = (part: string) => qp.encode(marker(part));
  const [beforeText, rest] = cut(raw.slice(headEnd), encodedMarker('T'));
  const [beforeHtml, end] = cut(rest, encodedMarker('H'));
  const both = (s: string) => ({ 'quoted-printable': s, '7bit': s.replace(/Content-Transfer-Encoding: quoted-printable/i, 'Content-Transfer-Encoding: 7bit') });
  const bytes = (s: Record<Encoding, string>) => ({ 'quoted-printable': ascii(s['quoted-printable']), '7bit': ascii(s['7bit']) });
  const canonical = (s: Record<Encoding, string>) => ({ 'quoted-printable': ascii(relaxedLines(s['quoted-printable'])), '7bit': ascii(relaxedLines(s['7bit'])) });
  const text = both(beforeText);
  const html = both(beforeHtml);
  // The body starts after the header block's last CRLF and the blank line.
  const bodyStart = { 'quoted-printable': text['quoted-printable'].slice(4), '7bit': text['7bit'].slice(4) };
  const pattern = placeholderPattern(variant.placeholder_nonce);
  const dkim = config.dkim !== undefined;
  return {
    fields,
    frame: {
      beforeText: bytes(text),
      beforeHtml: bytes(html),
      end: ascii(end),
      canonical: dkim ? { beforeText: canonical(bodyStart), beforeHtml: canonical(html), end: ascii(relaxedLines(end)) } : undefined,
    },
    text: partTemplate(variant.text, pattern, escapeFor.text, dkim),
    html: partTemplate(variant.html, pattern, escapeFor.html, dkim),
    dkim: config.dkim,
    mailto: config.unsubscribeMailto,
    headerNode: new MimeNode(undefined, { textEncoding: sample.textEncoding === 'base64' ? 'B' : 'Q' }),
  };
}

function cut(s: string, at: string): [string, string] {
  const i = s.indexOf(at);
  if (i < 0) throw new Error('nodemailer wrote a part in a way the message template does not know');
  return [s.slice(0, i), s.slice(i + at.length)];
}

function partTemplate(source: string, pattern: RegExp, escape: (v: string) => string, dkim: boolean): PartTemplate {
  const pieces = source.split(pattern);
  const raws = pieces.filter((_, i) => i % 2 === 0);
  const keys = pieces.filter((_, i) => i % 2 === 1) as TokenKey[];
  const joined = raws.join('');
  const may7bit = mimeFuncs.isPlainText(joined) && !mimeFuncs.hasLongerLines(joined, LINE);
  // With a CR in the text, a stretch's CRLF ends could depend on its neighbours: such a part is checked for 7bit as a whole.
  const plain = may7bit && !joined.includes('\r');
  return { escape, stretches: raws.map((raw, i) => stretch(raw, i === raws.length - 1, dkim, plain)), keys, may7bit };
}

function stretch(raw: string, last: boolean, dkim: boolean, plain: boolean): Stretch {
  // Whitespace is encoded where it ends a line; a stretch followed by a value does not end one.
  const encoded = last ? qp.encode(raw) : qp.encode(`${raw}x`).slice(0, -1);
  const src = [0];
  const dst = [0];
  const canon = [0];
  const rawAt = [0];
  let out = encoded.length <= LINE ? crlf(encoded) : '';
  let canonical = relaxedLines(out);
  for (let pos = 0; encoded.length > LINE && pos < encoded.length; ) {
    const { line, taken } = wrapLine(encoded.substr(pos, LINE), encoded.length - pos);
    out += line;
    canonical += relaxedLines(line);
    // Every "=" of the encoded text starts an "=XX" that stands for one byte.
    rawAt.push((rawAt.at(-1) as number) + taken - 2 * (encoded.substr(pos, taken).split('=').length - 1));
    pos += taken;
    src.push(pos);
    dst.push(out.length);
    canon.push(canonical.length);
  }
  if (out !== crlf(qp.wrap(encoded, LINE))) {
    throw new Error("nodemailer's quoted-printable line wrapping has changed: src/delivery/mime-template.ts must follow it");
  }
  // A line's wrapping depends on the LINE characters from its start and on whether more follow.
  let valid = src.length - 1;
  if (!last) while (valid > 0 && (src[valid - 1] as number) + LINE >= encoded.length) valid--;
  // A short stretch has no lines of its own: it is always wrapped with what is around it.
  const short = encoded.length <= LINE;
  const outBytes = short ? Buffer.alloc(0) : ascii(out);
  const dstAt = Int32Array.from(dst);
  const sameCanonical = canonical === out;
  const kept = short || encoded.includes('\r');
  // From the line before the first that runs into what follows.
  const tailAt = kept ? encoded.length : (src[Math.max(valid - 1, 0)] as number);
  return {
    bytes: Buffer.byteLength(raw),
    length: encoded.length,
    encoded: kept ? encoded : undefined,
    head: kept ? '' : copy(encoded.slice(0, HEAD)),
    tail: copy(encoded.slice(tailAt)),
    tailAt,
    startsLine: /^[\r\n]/.test(raw),
    out: outBytes,
    canonical: !dkim || short ? undefined : sameCanonical ? outBytes : ascii(canonical),
    src: Int32Array.from(src),
    dst: dstAt,
    canon: !dkim || sameCanonical ? dstAt : Int32Array.from(canon),
    rawAt: Int32Array.from(rawAt),
    valid,
    // hasLongerLines() counts lines between any CR or LF.
    plain: plain ? { bytes: ascii(crlf(raw)), chars: raw.length, first: raw.search(/[\r\n]/), last: raw.length - 1 - Math.max(raw.lastIndexOf('\r'), raw.lastIndexOf('\n')) } : undefined,
  };
}

/** Line ends as they go out: nodemailer's newline transform makes every LF a CRLF. */
const crlf = (s: string) => (s.includes('\n') ? s.replace(/\r?\n/g, '\r\n') : s);

/**
 * One line of nodemailer's qp.wrap() (lib/qp), given the next LINE characters of the encoded text
 * (fewer at its end) and how many remain; its line ends made CRLF, and how many characters it
 * took. Followed step by step because a line can hold a bare LF of the text: the output alone does
 * not tell where wrap() started its lines, and a line's breaks depend on where it starts.
 * stretch() checks it against wrap().
 */
function wrapLine(window: string, remaining: number): { line: string; taken: number } {
  const margin = Math.floor(LINE / 3);
  let line = window;
  let match: RegExpMatchArray | null;
  // wrap()'s regular expressions, as searches: /\r\n/, then /\n.*?$/ in the last `margin` characters
  // (the last LF there, with no CR after it), then /[ \t.,!?][^ \t.,!?]*$/ in them (the last such character).
  const crlfAt = line.indexOf('\r\n');
  if (crlfAt >= 0) return cutAfter(line.substr(0, crlfAt + 2));
  if (line.endsWith('\n')) return cutAfter(line);
  const tail = Math.max(line.length - margin, 0);
  const lf = line.lastIndexOf('\n');
  if (lf >= tail && line.indexOf('\r', lf) < 0) return cutAfter(line.substr(0, lf + 1));
  let breakAt = -1;
  if (line.length > LINE - margin) for (let i = line.length - 1; i >= tail && breakAt < 0; i--) if (isBreak(line.charCodeAt(i))) breakAt = i;
  if (breakAt >= 0) {
    line = line.substr(0, breakAt + 1);
  } else if (/[=][\da-f]{0,2}$/i.test(line)) {
    if ((match = line.match(/[=][\da-f]{0,1}$/i))) line = line.substr(0, line.length - match[0].length);
    // A UTF-8 sequence is not split over two lines.
    while (line.length > 3 && line.length < remaining && !/^(?:=[\da-f]{2}){1,4}$/i.test(line) && (match = line.match(/[=][\da-f]{2}$/gi))) {
      const code = parseInt(match[0].substr(1, 2), 16);
      if (code < 128) break;
      line = line.substr(0, line.length - 3);
      if (code >= 0xc0) break;
    }
  }
  if (!line.length) line = window;
  if (line.length < remaining && !line.endsWith('\n')) {
    if (line.length === LINE && /[=][\da-f]{2}$/i.test(line)) line = line.substr(0, line.length - 3);
    else if (line.length === LINE) line = line.substr(0, line.length - 1);
    return { line: `${crlf(line)}=\r\n`, taken: line.length };
  }
  return cutAfter(line);
}

/** Where wrap() may break a line: after a space, tab, ".", ",", "!" or "?". */
const isBreak = (c: number) => c === 0x20 || c === 0x09 || c === 0x2e || c === 0x2c || c === 0x21 || c === 0x3f;

/** A line wrapLine() ends without a soft break. */
function cutAfter(line: string): { line: string; taken: number } {
  return { line: crlf(line), taken: line.length };
}

/** First index in `a[0..n)` whose entry is at least `x` (a is ascending). */
function lowerBound(a: Int32Array, x: number, n = a.length): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Characters `from` to `to` of a stretch's encoded text, read back from its lines: without the soft breaks, LF for CRLF. */
function encodedText(st: Stretch, from: number, to: number): string {
  if (st.encoded !== undefined) return st.encoded.slice(from, to);
  if (to <= st.head.length) return st.head.slice(from, to);
  if (from >= st.tailAt) return st.tail.slice(from - st.tailAt, to - st.tailAt);
  const first = lowerBound(st.src, from + 1) - 1;
  const lines = st.out.toString('latin1', st.dst[first], st.dst[lowerBound(st.src, to)]);
  // "=" always starts an "=XX" in the encoded text: "=" and CRLF is a soft break.
  const at = st.src[first] as number;
  return lines.replace(/=\r\n|\r(?=\n)/g, '').slice(from - at, to - at);
}

/** The text of a stretch, decoded from its quoted-printable (for the rare whole-part paths). */
function rawText(st: Stretch): string {
  const encoded = encodedText(st, 0, st.length);
  return Buffer.from(encoded.replace(/=([\dA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
}

/** A part's body for one recipient as the message's pieces, and the same canonicalized (with DKIM). */
interface EncodedPart {
  encoding: Encoding;
  pieces: Buffer[];
  canonical: Buffer[];
}

const whole = (encoding: Encoding, body: string, dkim: boolean): EncodedPart => ({ encoding, pieces: [ascii(body)], canonical: dkim ? [ascii(relaxedLines(body))] : [] });

/** The part's text for one recipient, decoded from the stretches (for the rare whole-part paths: slow). */
const partText = (part: PartTemplate, escaped: string[]) => part.stretches.map((st, i) => rawText(st) + (escaped[i] ?? '')).join('');

/** The part's body for one recipient, as nodemailer would encode it. */
function encodePart(part: PartTemplate, values: TokenValues, dkim: boolean): EncodedPart {
  const escaped = part.keys.map((k) => part.escape(values[k]));
  if (part.may7bit) {
    const seven = sevenBit(part, escaped, dkim);
    if (seven) return seven;
  }
  // An empty value leaves the whitespace before it at a line end or not, which the stretches cannot
  // know: then the whole part is encoded, and wrapped with no precomputed lines (rare: slow).
  if (escaped.some((v) => v === '')) {
    const text = partText(part, escaped);
    const s = qp.encode(text);
    return wrapSegments([{ start: 0, length: s.length, bytes: Buffer.byteLength(text), text: s }], s.length, dkim);
  }
  const segments: Segment[] = [];
  let length = 0;
  for (const [i, st] of part.stretches.entries()) {
    segments.push({ start: length, length: st.length, bytes: st.bytes, stretch: st });
    length += st.length;
    if (i < escaped.length) {
      const value = escaped[i] as string;
      const next = part.stretches[i + 1] as Stretch;
      // Whitespace ending the value is encoded when a line break (or the part's end) follows.
      const endsLine = next.length === 0 ? i + 1 === escaped.length : next.startsLine;
      const text = encodeValue(value, endsLine);
      segments.push({ start: length, length: text.length, bytes: Buffer.byteLength(value), text });
      length += text.length;
    }
  }
  return wrapSegments(segments, length, dkim);
}

/** A value quoted-printable encoded: most are printable ASCII without "=", which stands for itself (but a space ending a line). */
function encodeValue(value: string, endsLine: boolean): string {
  if (/^[\x20-\x3c\x3e-\x7e]*$/.test(value) && !(endsLine && value.endsWith(' '))) return value;
  return endsLine ? qp.encode(value) : qp.encode(`${value}x`).slice(0, -1);
}

/**
 * The part written 7bit when nodemailer would (plain ASCII, no line over LINE characters), told
 * from the values and the lengths of the lines around them; undefined when it would not. A CR in
 * the part or a line break in a value: the whole text is checked (rare: slow).
 */
function sevenBit(part: PartTemplate, escaped: string[], dkim: boolean): EncodedPart | undefined {
  const wholeText = () => {
    const text = partText(part, escaped);
    return mimeFuncs.isPlainText(text) && !mimeFuncs.hasLongerLines(text, LINE) ? whole('7bit', crlf(text), dkim) : undefined;
  };
  const pieces: Buffer[] = [];
  let line = 0;
  let chars = 0;
  for (const [i, st] of part.stretches.entries()) {
    const p = st.plain;
    if (!p) return wholeText();
    if (p.first < 0) line += p.chars;
    else if (line + p.first > LINE) return undefined;
    else line = p.last;
    chars += p.chars;
    pieces.push(p.bytes);
    if (i < escaped.length) {
      const value = escaped[i] as string;
      if (/[\r\n]/.test(value)) return wholeText();
      if (!mimeFuncs.isPlainText(value)) return undefined;
      line += value.length;
      chars += value.length;
      pieces.push(ascii(value));
    }
  }
  // hasLongerLines() takes a text over 128 KiB to have long lines.
  if (line > LINE || chars > 128 * 1024) return undefined;
  // Whitespace runs can span a value's edges: canonicalized whole (7bit parts are small).
  return { encoding: '7bit', pieces, canonical: dkim ? [ascii(relaxedLines(Buffer.concat(pieces).toString('latin1')))] : [] };
}

/** A stretch or a value in the encoded part: where it starts, its length, how many bytes of the input it encodes. */
interface Segment {
  start: number;
  length: number;
  bytes: number;
  /** The stretch it is, or the encoded text (a value's, or the whole part's). */
  stretch?: Stretch;
  text?: string;
}

const segmentText = (seg: Segment, from: number, to: number) => (seg.stretch ? encodedText(seg.stretch, from, to) : (seg.text as string).slice(from, to));

/** The segment `pos` is in, looked for from segment `j`. */
function segmentAt(segments: Segment[], pos: number, j: number): number {
  while (j > 0 && (segments[j] as Segment).start > pos) j--;
  while (j + 1 < segments.length && (segments[j + 1] as Segment).start <= pos) j++;
  return j;
}

/** `n` characters of the encoded part from `pos`, which is in segment `j`. */
function chars(segments: Segment[], j: number, pos: number, n: number): string {
  let text = '';
  for (let k = j; text.length < n && k < segments.length; k++) {
    const seg = segments[k] as Segment;
    const from = Math.max(pos - seg.start, 0);
    text += segmentText(seg, from, Math.min(seg.length, from + n - text.length));
  }
  return text;
}

// nodemailer's qp.Encoder takes its input this many bytes at a time: the last line of a slice is
// wrapped knowing nothing of what follows, and then wrapped again from its start with the next slice.
const ENCODE_SLICE = 64 * 1024;

/** Where in the encoded part nodemailer's encoder ends a slice of its input; the last is the end. */
function sliceEnds(segments: Segment[], length: number): number[] {
  const ends: number[] = [];
  let before = 0;
  let k = 1;
  for (const seg of segments) {
    for (; k * ENCODE_SLICE < before + seg.bytes; k++) ends.push(seg.start + encodedAt(seg, k * ENCODE_SLICE - before));
    before += seg.bytes;
  }
  ends.push(length);
  return ends;
}

/** Where the encoding of byte `b` of a segment's input starts in its encoded text. */
function encodedAt(seg: Segment, b: number): number {
  // Every input byte is one character of the encoded text, or an "=XX".
  const walk = (text: string, from: number) => {
    let at = 0;
    for (let byte = from; byte < b; byte++) at += text[at] === '=' ? 3 : 1;
    return at;
  };
  const st = seg.stretch;
  if (!st || st.encoded !== undefined) return walk(st ? (st.encoded as string) : (seg.text as string), 0);
  const i = lowerBound(st.rawAt, b + 1) - 1;
  return (st.src[i] as number) + walk(encodedText(st, st.src[i] as number, st.src[i + 1] as number), st.rawAt[i] as number);
}


/** The encoded part wrapped as nodemailer wraps it, taking the stretches' precomputed lines where they fit. */
function wrapSegments(segments: Segment[], length: number, dkim: boolean): EncodedPart {
  if (length <= LINE) return whole('quoted-printable', crlf(chars(segments, 0, 0, length)), dkim);
  const ends = sliceEnds(segments, length);
  const out: EncodedPart = { encoding: 'quoted-printable', pieces: [], canonical: [] };
  let fresh = ''; // lines wrapped afresh, gathered until the next precomputed ones
  let e = 0; // the slice pos is in
  let j = 0; // the segment pos is in (a slice's end can take pos back)
  // The encoded text from `aheadAt` on, read ahead: a run of fresh lines reads the stretches once.
  let ahead = '';
  let aheadAt = 0;
  for (let pos = 0; pos < length; ) {
    const end = ends[e] as number;
    j = segmentAt(segments, pos, j);
    const seg = segments[j] as Segment;
    const st = seg.stretch;
    if (st && st.valid > 0) {
      const at = pos - seg.start;
      const index = lowerBound(st.src, at, st.valid);
      if (index < st.valid && st.src[index] === at) {
        // In step with the stretch's own wrapping: its precomputed lines, up to where they meet the
        // next value or the end of the encoder's slice.
        const stop = Math.max(index, Math.min(st.valid, lowerBound(st.src, end - seg.start - LINE)));
        if (stop > index) {
          addFresh(out, fresh, dkim);
          fresh = '';
          out.pieces.push(st.out.subarray(st.dst[index], st.dst[stop]));
          if (dkim) out.canonical.push((st.canonical as Buffer).subarray(st.canon[index], st.canon[stop]));
          pos = seg.start + (st.src[stop] as number);
          continue;
        }
      }
    }
    // Around a value: wrapped afresh until a line starts where one of the stretch's own lines starts.
    const n = Math.min(LINE, end - pos);
    if (pos < aheadAt || pos + n > aheadAt + ahead.length) {
      ahead = chars(segments, j, pos, Math.max(n, READ_AHEAD));
      aheadAt = pos;
    }
    const { line, taken } = wrapLine(ahead.slice(pos - aheadAt, pos - aheadAt + n), end - pos);
    pos += taken;
    if (pos === end && end < length) {
      // The slice's last line, from its last line break, is wrapped again with the next slice.
      const keep = line.lastIndexOf('\n') + 1;
      pos -= line.length - keep;
      fresh += line.slice(0, keep);
      e++;
      // wrap() leaves a string of at most LINE characters as it is: a short last slice.
      if (length - pos <= LINE) {
        fresh += crlf(chars(segments, segmentAt(segments, pos, j), pos, length - pos));
        pos = length;
      }
      continue;
    }
    fresh += line;
  }
  addFresh(out, fresh, dkim);
  return out;
}

/** Lines wrapped afresh, as bytes; canonicalized together (whole lines: the same as one by one). */
function addFresh(part: EncodedPart, lines: string, dkim: boolean): void {
  if (!lines) return;
  part.pieces.push(ascii(lines));
  if (dkim) part.canonical.push(ascii(relaxedLines(lines)));
}

/** A recipient's header field, written as nodemailer writes it (composeMessage's values). */
function recipientField(name: RecipientField, r: Recipient, headerNode: MimeNode, mailto: string): string {
  switch (name) {
    case 'to':
      return mimeFuncs.foldLines(`To: ${headerNode.encodeHeaderValue('To', { name: headerSafe(r.recipient.name ?? ''), address: r.recipient.email })}`, LINE);
    case 'message-id':
      return mimeFuncs.foldLines(`Message-ID: ${headerNode.encodeHeaderValue('Message-ID', r.messageId)}`, LINE);
    case 'date':
      return mimeFuncs.foldLines(`Date: ${r.date.toUTCString().replace(/GMT/, '+0000')}`, LINE);
    case 'list-unsubscribe':
      return mimeFuncs.foldLines(`List-Unsubscribe: <${r.unsubscribeUrl}>, <${mailto}>`);
  }
}

/**
 * One recipient's message: the raw RFC 5322 bytes, signed when DKIM is configured. One copy of
 * the body, made from the template's bytes and the few lines around the values.
 */
export function spliceMessage(template: MessageTemplate, r: Recipient): Buffer {
  const mailto = unsubscribeMailto(template.mailto, r.unsubscribeToken);
  const fields = template.fields.map((f) => (typeof f === 'string' ? f : recipientField(f.slot, r, template.headerNode, mailto)));
  const dkim = template.dkim !== undefined;
  const text = encodePart(template.text, r.values, dkim);
  const html = encodePart(template.html, r.values, dkim);
  const { frame } = template;
  const body = [frame.beforeText[text.encoding], ...text.pieces, frame.beforeHtml[html.encoding], ...html.pieces, frame.end];
  if (template.dkim) {
    const c = frame.canonical as Frame;
    const bh = bodyHash([c.beforeText[text.encoding], ...text.canonical, c.beforeHtml[html.encoding], ...html.canonical, c.end]);
    fields.unshift(dkimSignature(template.dkim, fields, bh));
  }
  return Buffer.concat([Buffer.from(fields.join('\r\n'), 'utf8'), ...body]);
}
