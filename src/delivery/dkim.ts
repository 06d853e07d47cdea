// DKIM: signing every message (rsa-sha256) and making the key and the DNS records to publish.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DKIMOptions } from 'nodemailer';

/** Signed header fields: the ones receivers and RFC 8058 care about, plus the body's framing. */
export const DKIM_HEADERS = [
  'From', 'To', 'Subject', 'Date', 'Message-ID', 'Reply-To',
  'List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Id', 'MIME-Version', 'Content-Type',
].join(':');

export interface DkimSettings {
  domain: string;
  selector: string;
  /** Parsed once at start: re-reading the PEM for every message cost more than the signature. */
  privateKey: KeyObject;
}

export class DkimKeyError extends Error {
  override name = 'DkimKeyError';
}

/** Reads and checks the key once, at start, so a bad key fails loudly before any mail goes out. */
export function loadDkimKey(source: { file?: string | undefined; pem?: string | undefined }): KeyObject {
  let pem: string;
  try {
    pem = source.pem ? source.pem.replace(/\\n/g, '\n') : readFileSync(source.file as string, 'utf8');
  } catch (e) {
    throw new DkimKeyError(`DKIM_PRIVATE_KEY_FILE: cannot read ${source.file}: ${(e as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new DkimKeyError(`DKIM private key is not a PEM private key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new DkimKeyError(`DKIM key must be RSA (rsa-sha256), not ${key.asymmetricKeyType}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) throw new DkimKeyError(`DKIM key has ${bits} bits; receivers ignore keys under 1024 bits (use 2048)`);
  return key;
}

/** For messages nodemailer composes itself (transactional, editors' tests); it hands the key to crypto.sign, which takes a KeyObject. */
export function dkimOptions(settings: DkimSettings): DKIMOptions {
  return { domainName: settings.domain, keySelector: settings.selector, privateKey: settings.privateKey as unknown as string, headerFieldNames: DKIM_HEADERS };
}

/**
 * RFC 6376 3.4.4 relaxed body canonicalization of whole lines (CRLF ends; the last may stop short
 * of its CRLF when what follows starts with one): runs of whitespace become one space, and none is
 * left at a line end. Most quoted-printable text needs nothing, which plain searches tell quickly.
 */
export function relaxedLines(s: string): string {
  const needed = s.includes('\t') || s.includes('  ') || s.includes(' \r\n') || s.endsWith(' ');
  return needed ? s.replace(/[ \t]+(?=\r\n|$)/g, '').replace(/[ \t]+/g, ' ') : s;
}

/**
 * The bh= value: base64 SHA-256 of a body given as pieces already canonical (relaxedLines), so
 * static ones are canonicalized once. The body must end with a CRLF and no empty line, as every
 * MIME message does with its closing boundary; the end-of-body rule then changes nothing.
 */
export function bodyHash(canonicalPieces: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const piece of canonicalPieces) hash.update(piece);
  return hash.digest('base64');
}

/** RFC 6376 3.4.2 relaxed header canonicalization of one field ("Name: value", folded or not). */
function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const value = field.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${field.slice(0, colon).trim().toLowerCase()}:${value}`;
}

/**
 * The DKIM-Signature field (rsa-sha256, relaxed/relaxed) for a message given as its header fields
 * (each "Name: value" with its folding, no trailing CRLF) and the bh= of its body. Signs the fields
 * of DKIM_HEADERS the message has, in that order.
 */
export function dkimSignature(settings: DkimSettings, fields: string[], bh: string): string {
  const byName = new Map<string, string>();
  // A repeated field is signed by its last instance (RFC 6376 5.4.2); ours are not repeated.
  for (const f of fields) byName.set(f.slice(0, f.indexOf(':')).trim().toLowerCase(), f);
  const names = DKIM_HEADERS.toLowerCase().split(':').filter((n) => byName.has(n));
  const tags = `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${settings.domain}; q=dns/txt; s=${settings.selector}; bh=${bh}; h=${names.join(':')}; b=`;
  const unsigned = `DKIM-Signature: ${tags}`;
  const signed = `${names.map((n) => relaxedHeader(byName.get(n) as string)).join('\r\n')}\r\n${relaxedHeader(unsigned)}`;
  // UTF-8: an SMTPUTF8 address is the one thing in our headers that is not ASCII.
  const b = sign('sha256', Buffer.from(signed, 'utf8'), settings.privateKey).toString('base64');
  // Folded at the "; " between tags and every 72 characters of b=, which receivers unfold.
  return `${unsigned.replace(/; /g, ';\r\n ')}${b.replace(/.{72}(?=.)/g, '$&\r\n ')}`;
}


export interface DkimKeyPair {
  privateKeyPem: string;
  /** The p= value: the public key, base64 DER (SubjectPublicKeyInfo). */
  publicKeyBase64: string;
}

export function generateDkimKey(bits = 2048): DkimKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyBase64 = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  return { privateKeyPem, publicKeyBase64 };
}

/** The DKIM TXT record's value, split into strings of at most 255 characters as DNS requires. */
export function dkimTxtValue(publicKeyBase64: string): string {
  const value = `v=DKIM1; k=rsa; p=${publicKeyBase64}`;
  const parts = value.match(/.{1,255}/g) ?? [];
  return parts.map((p) => `"${p}"`).join(' ');
}
