// DKIM: signing every message (rsa-sha256) and making the key and the DNS records to publish.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
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
  privateKey: string;
}

export class DkimKeyError extends Error {
  override name = 'DkimKeyError';
}

/** Reads and checks the key once, at start, so a bad key fails loudly before any mail goes out. */
export function loadDkimKey(source: { file?: string | undefined; pem?: string | undefined }): string {
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
  return pem;
}

export function dkimOptions(settings: DkimSettings): DKIMOptions {
  return { domainName: settings.domain, keySelector: settings.selector, privateKey: settings.privateKey, headerFieldNames: DKIM_HEADERS };
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
