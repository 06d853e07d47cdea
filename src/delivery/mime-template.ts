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
import nodemailer, { type SendMailOptions } from 'nodemailer';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import * as qp from 'nodemailer/lib/qp';
import { headerSafe } from '../audience/email.ts';
import type { Config } from '../config.ts';
import { escapeFor, newNonce, placeholderPattern, type TokenKey, type TokenValues } from '../render/personalize.ts';
import { composeMessage, type MessageParts, unsubscribeMailto } from './compose.ts';
import { bodyHash, dkimSignature, relaxedLines } from './dkim.ts';

const LINE = 76;

/** One static stretch of a part, encoded and wrapped as if it stood alone. */
interface Stretch {
  raw: string;
  /** Bytes of `raw` (UTF-8), each one character of `encoded` or an "=XX". */
  bytes: number;
  encoded: string;
  /** The wrapped output, with CRLF line ends, and the same canonicalized for the DKIM body hash. */
  out: string;
  canonical: string;
  /** Where each of its lines starts: in `encoded`, `out` and `canonical`; the last entries are the ends. */
  src: number[];
  dst: number[];
  canon: number[];
  /** Line starts (in `encoded`) whose line nodemailer would wrap the same in the whole message → their index. */
  sync: Map<number, number>;
  /** Lines from index `valid` on run into what follows the stretch. */
  valid: number;
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
  frame: Frame & { canonical: Frame };
  text: PartTemplate;
  html: PartTemplate;
  dkim: Config['dkim'];
  mailto: string;
  /** Encodes the recipient's header fields as nodemailer encodes the message's (Q or B encoded words alike). */
  headerNode: MimeNode;
}

type Encoding = 'quoted-printable' | '7bit';
interface Frame {
  beforeText: Record<Encoding, string>;
  beforeHtml: Record<Encoding, string>;
  end: string;
}
type Shared = Pick<MessageParts, 'subject' | 'listSlug' | 'listName'>;
export type Recipient = Omit<MessageParts, keyof Shared | 'body'> & { values: TokenValues };

const RECIPIENT_FIELDS = ['to', 'message-id', 'date', 'list-unsubscribe'] as const;
type RecipientField = (typeof RECIPIENT_FIELDS)[number];
const isRecipientField = (name: string): name is RecipientField => (RECIPIENT_FIELDS as readonly string[]).includes(name);

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
  const canonical = (s: Record<Encoding, string>) => ({ 'quoted-printable': relaxedLines(s['quoted-printable']), '7bit': relaxedLines(s['7bit']) });
  // The body starts after the header block's last CRLF and the blank line.
  const frame = { beforeText: both(beforeText), beforeHtml: both(beforeHtml), end };
  const bodyStart = { 'quoted-printable': frame.beforeText['quoted-printable'].slice(4), '7bit': frame.beforeText['7bit'].slice(4) };
  const pattern = placeholderPattern(variant.placeholder_nonce);
  return {
    fields,
    frame: { ...frame, canonical: { beforeText: canonical(bodyStart), beforeHtml: canonical(frame.beforeHtml), end: relaxedLines(end) } },
    text: partTemplate(variant.text, pattern, escapeFor.text),
    html: partTemplate(variant.html, pattern, escapeFor.html),
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

function partTemplate(source: string, pattern: RegExp, escape: (v: string) => string): PartTemplate {
  const pieces = source.split(pattern);
  const raws = pieces.filter((_, i) => i % 2 === 0);
  const keys = pieces.filter((_, i) => i % 2 === 1) as TokenKey[];
  const stretches = raws.map((raw, i) => stretch(raw, i === raws.length - 1));
  const joined = raws.join('');
  return { escape, stretches, keys, may7bit: mimeFuncs.isPlainText(joined) && !mimeFuncs.hasLongerLines(joined, LINE) };
}

function stretch(raw: string, last: boolean): Stretch {
  // Whitespace is encoded where it ends a line; a stretch followed by a value does not end one.
  const encoded = last ? qp.encode(raw) : qp.encode(`${raw}x`).slice(0, -1);
  const src = [0];
  const dst = [0];
  const canon = [0];
  let out = encoded.length <= LINE ? crlf(encoded) : '';
  let canonical = relaxedLines(out);
  for (let pos = 0; encoded.length > LINE && pos < encoded.length; ) {
    const { line, next } = wrapLine(encoded, pos);
    out += line;
    canonical += relaxedLines(line);
    pos = next;
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
  const sync = new Map<number, number>();
  for (let i = 0; i < valid; i++) sync.set(src[i] as number, i);
  return { raw, bytes: Buffer.byteLength(raw), encoded, out, canonical, src, dst, canon, sync, valid };
}

/** Line ends as they go out: nodemailer's newline transform makes every LF a CRLF. */
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

/**
 * One line of nodemailer's qp.wrap() (lib/qp) from `pos`, its line ends made CRLF. Followed step by
 * step because a line can hold a bare LF of the text: the output alone does not tell where wrap()
 * started its lines, and a line's breaks depend on where it starts. stretch() checks it against wrap().
 */
function wrapLine(str: string, pos: number, len = str.length): { line: string; next: number } {
  const margin = Math.floor(LINE / 3);
  let line = str.substr(pos, Math.min(LINE, len - pos));
  let match: RegExpMatchArray | null;
  if ((match = line.match(/\r\n/))) return cutAfter(line.substr(0, (match.index as number) + 2), pos);
  if (line.endsWith('\n')) return cutAfter(line, pos);
  if ((match = line.substr(-margin).match(/\n.*?$/))) return cutAfter(line.substr(0, line.length - (match[0].length - 1)), pos);
  if (line.length > LINE - margin && (match = line.substr(-margin).match(/[ \t.,!?][^ \t.,!?]*$/))) {
    line = line.substr(0, line.length - (match[0].length - 1));
  } else if (/[=][\da-f]{0,2}$/i.test(line)) {
    if ((match = line.match(/[=][\da-f]{0,1}$/i))) line = line.substr(0, line.length - match[0].length);
    // A UTF-8 sequence is not split over two lines.
    while (line.length > 3 && line.length < len - pos && !/^(?:=[\da-f]{2}){1,4}$/i.test(line) && (match = line.match(/[=][\da-f]{2}$/gi))) {
      const code = parseInt(match[0].substr(1, 2), 16);
      if (code < 128) break;
      line = line.substr(0, line.length - 3);
      if (code >= 0xc0) break;
    }
  }
  if (!line.length) line = str.substr(pos, Math.min(LINE, len - pos));
  if (pos + line.length < len && !line.endsWith('\n')) {
    if (line.length === LINE && /[=][\da-f]{2}$/i.test(line)) line = line.substr(0, line.length - 3);
    else if (line.length === LINE) line = line.substr(0, line.length - 1);
    return { line: `${crlf(line)}=\r\n`, next: pos + line.length };
  }
  return cutAfter(line, pos);
}

/** A line wrapLine() ends without a soft break. */
function cutAfter(line: string, pos: number): { line: string; next: number } {
  return { line: crlf(line), next: pos + line.length };
}

/** The part's body for one recipient, as nodemailer would encode it. */
function encodePart(part: PartTemplate, values: TokenValues): EncodedPart {
  const escaped = part.keys.map((k) => part.escape(values[k]));
  const plain = () => part.stretches.map((st, i) => st.raw + (escaped[i] ?? '')).join('');
  if (part.may7bit) {
    const text = plain();
    if (mimeFuncs.isPlainText(text) && !mimeFuncs.hasLongerLines(text, LINE)) return whole('7bit', crlf(text));
  }
  // An empty value leaves the whitespace before it at a line end or not, which the stretches cannot know:
  // then the whole part is encoded, and wrapped with no precomputed lines.
  if (escaped.some((v) => v === '')) {
    const text = plain();
    const s = qp.encode(text);
    return wrapEncoded(s, [], [], [{ start: 0, bytes: Buffer.byteLength(text), encoded: s }]);
  }
  const starts: number[] = [];
  const segments: Segment[] = [];
  let s = '';
  for (const [i, st] of part.stretches.entries()) {
    starts.push(s.length);
    segments.push({ start: s.length, bytes: st.bytes, encoded: st.encoded });
    s += st.encoded;
    if (i < escaped.length) {
      const value = escaped[i] as string;
      const next = (part.stretches[i + 1] as Stretch).raw;
      const endsLine = next === '' ? i + 1 === escaped.length : /^[\r\n]/.test(next);
      const encoded = endsLine ? qp.encode(value) : qp.encode(`${value}x`).slice(0, -1);
      segments.push({ start: s.length, bytes: Buffer.byteLength(value), encoded });
      s += encoded;
    }
  }
  return wrapEncoded(s, part.stretches, starts, segments);
}

/** A stretch or a value in the encoded part: where it starts, and how many bytes of the input it encodes. */
interface Segment {
  start: number;
  bytes: number;
  encoded: string;
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
    for (; k * ENCODE_SLICE < before + seg.bytes; k++) {
      // Every input byte is one character of the encoded text, or an "=XX".
      let at = 0;
      for (let b = before; b < k * ENCODE_SLICE; b++) at += seg.encoded[at] === '=' ? 3 : 1;
      ends.push(seg.start + at);
    }
    before += seg.bytes;
  }
  ends.push(length);
  return ends;
}

/** The encoded part `s` wrapped as nodemailer wraps it, taking the stretches' precomputed lines where they fit. */
function wrapEncoded(s: string, stretches: Stretch[], starts: number[], segments: Segment[]): EncodedPart {
  if (s.length <= LINE) return whole('quoted-printable', crlf(s));
  const ends = sliceEnds(segments, s.length);
  let out = '';
  let canonical = '';
  let e = 0; // the slice pos is in
  let j = 0; // the stretch pos is in, or the value after it
  for (let pos = 0; pos < s.length; ) {
    const end = ends[e] as number;
    while (j + 1 < stretches.length && (starts[j + 1] as number) <= pos) j++;
    const st = stretches[j];
    const index = st?.sync.get(pos - (starts[j] as number));
    if (st && index !== undefined) {
      // In step with the stretch's own wrapping: its precomputed lines, up to where they meet the
      // next value or the end of the encoder's slice.
      const start = starts[j] as number;
      let stop = st.valid;
      while (stop > index && start + (st.src[stop - 1] as number) + LINE >= end) stop--;
      if (stop > index) {
        out += st.out.slice(st.dst[index], st.dst[stop]);
        canonical += st.canonical.slice(st.canon[index], st.canon[stop]);
        pos = start + (st.src[stop] as number);
        continue;
      }
    }
    // Around a value: wrapped afresh until a line starts where one of the stretch's own lines starts.
    const { line, next } = wrapLine(s, pos, end);
    pos = next;
    if (pos === end && end < s.length) {
      // The slice's last line, from its last line break, is wrapped again with the next slice.
      const keep = line.lastIndexOf('\n') + 1;
      pos -= line.length - keep;
      out += line.slice(0, keep);
      canonical += relaxedLines(line.slice(0, keep));
      e++;
      // wrap() leaves a string of at most LINE characters as it is: a short last slice.
      if (s.length - pos <= LINE) {
        const rest = crlf(s.slice(pos));
        out += rest;
        canonical += relaxedLines(rest);
        pos = s.length;
      }
      continue;
    }
    out += line;
    canonical += relaxedLines(line);
  }
  return { encoding: 'quoted-printable', body: out, canonical };
}

interface EncodedPart {
  encoding: Encoding;
  body: string;
  /** The body as DKIM's relaxed canonicalization has it. */
  canonical: string;
}

const whole = (encoding: Encoding, body: string): EncodedPart => ({ encoding, body, canonical: relaxedLines(body) });

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

/** One recipient's message: the raw RFC 5322 bytes, signed when DKIM is configured. */
export function spliceMessage(template: MessageTemplate, r: Recipient): Buffer {
  const mailto = unsubscribeMailto(template.mailto, r.unsubscribeToken);
  const fields = template.fields.map((f) => (typeof f === 'string' ? f : recipientField(f.slot, r, template.headerNode, mailto)));
  const text = encodePart(template.text, r.values);
  const html = encodePart(template.html, r.values);
  const { frame } = template;
  const body = frame.beforeText[text.encoding] + text.body + frame.beforeHtml[html.encoding] + html.body + frame.end;
  if (template.dkim) {
    const c = frame.canonical;
    const bh = bodyHash([c.beforeText[text.encoding], text.canonical, c.beforeHtml[html.encoding], html.canonical, c.end]);
    fields.unshift(dkimSignature(template.dkim, fields, bh));
  }
  return Buffer.from(fields.join('\r\n') + body, 'utf8');
}

/** What the transport submits: the finished message and its SMTP envelope. */
export function rawMessage(config: Config, template: MessageTemplate, r: Recipient): SendMailOptions {
  return { envelope: { from: config.from.address, to: [r.recipient.email] }, raw: spliceMessage(template, r) };
}
