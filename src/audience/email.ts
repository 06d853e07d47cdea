// Address handling shared by importers, the CLI, the web forms, the config and the mailer.
//
// What is accepted is RFC 5321's Mailbox with RFC 6531's UTF-8 additions: a dot-string local part
// of atext (`!#$%&'*+-/=?^_\`{|}~`, letters, digits, any non-ASCII letter) or a quoted string
// (`"a..b"`, `"john doe"`), then `@` and a domain of LDH labels or Unicode labels. Refused:
// address literals (`[192.0.2.1]`, which no mailbox provider hands out), dotless domains, local
// parts over 64 octets, addresses over 254 octets, controls (CR and LF above all) anywhere.
//
// The stored form, which is also the deduplication key and what is sent:
// - the domain in ASCII (IDNA, `bücher.example` → `xn--bcher-kva.example`), so a relay without
//   SMTPUTF8 can still deliver it;
// - the local part in Unicode NFC, quoted only when it must be (`"ada"` → `ada`);
// - everything lower-cased. Local parts are case-sensitive in principle, but no provider treats
//   Ada@ and ada@ as two people, and one subscriber per person matters more.
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { headerSafe } from '../plain-text.ts';

/** RFC 5321 atext plus RFC 6531's non-ASCII characters (controls, spaces and bidi controls excluded below). */
const ATOM = /^[a-z0-9!#$%&'*+\-/=?^_`{|}~\u{80}-\u{10ffff}]+$/iu;
/** Inside quotes: printable ASCII and space (no `"` or `\` unless escaped), and non-ASCII. */
const QUOTED = /^"((?:[\u0020\u0021\u0023-\u005b\u005d-\u007e\u{80}-\u{10ffff}]|\\[\u0020-\u007e])*)"$/u;
/** Never in an address, quoted or not: controls (C0, DEL, C1), Unicode spaces but the ASCII one, bidi controls, lone surrogates. */
const FORBIDDEN = /[\p{Cc}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;

const octets = (s: string) => Buffer.byteLength(s, 'utf8');

/** The local part in its shortest form: bare when it is a dot-string, quoted (with only the escapes it needs) when not. */
function normalLocalPart(local: string): string | null {
  if (local.startsWith('"')) {
    const m = QUOTED.exec(local);
    if (!m) return null;
    const content = (m[1] as string).replace(/\\(.)/g, '$1');
    return isDotString(content) ? content : `"${content.replace(/(["\\])/g, '\\$1')}"`;
  }
  return isDotString(local) ? local : null;
}

function isDotString(local: string): boolean {
  return local.length > 0 && local.split('.').every((atom) => ATOM.test(atom));
}

/** The domain as ASCII (A-labels), or null when it is not a host name with at least two labels. */
function asciiDomain(domain: string): string | null {
  if (domain.startsWith('[')) return null; // an address literal
  const ascii = domainToASCII(domain);
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1] as string)) return null;
  return ascii;
}

/** Returns the normalised address (see above), or null when it is not a deliverable-looking address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim();
  if (FORBIDDEN.test(email)) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  const local = normalLocalPart(email.slice(0, at).normalize('NFC').toLowerCase());
  const domain = asciiDomain(email.slice(at + 1));
  if (!local || !domain || octets(local) > MAX_LOCAL_OCTETS) return null;
  const address = `${local}@${domain}`;
  return octets(address) <= MAX_ADDRESS_OCTETS ? address : null;
}

/** True when sending needs SMTPUTF8 (RFC 6531): the local part is not ASCII (stored domains always are). */
export function needsSmtpUtf8(address: string): boolean {
  return /[^\u0000-\u007f]/.test(address);
}

export function hashEmail(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}

/** Header values come from articles, names and config: one plain line (see src/plain-text.ts). */
export { headerSafe };

/** Parses `"Name" <addr@host>`, `Name <addr@host>` or a bare address. */
export function parseMailbox(value: string): { name: string; address: string } | null {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>]+)>\s*$/.exec(value);
  if (!m && /[<>]/.test(value)) return null;
  const address = normalizeEmail(m ? (m[2] as string) : value);
  if (!address) return null;
  return { name: headerSafe(m?.[1] ?? ''), address };
}
