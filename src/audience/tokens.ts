// Signed tokens for the links in every email. HMAC-SHA256 over purpose, subscriber, list, expiry
// and (confirmation links) the nonce of the request they answer, so a token for one purpose
// (unsubscribe) can never be used for another (confirm), and comparing signatures takes constant
// time. Tokens without a nonce keep their original four fields: links in old emails keep working.
import { timingSafeEqual } from 'node:crypto';
import { keyedHmac } from '../hmac.ts';

export type TokenPurpose = 'unsubscribe' | 'preferences' | 'confirm';

export interface TokenClaims {
  purpose: TokenPurpose;
  subscriberId: number;
  listId: number;
  /** Absent: the token does not expire (unsubscribe links must keep working in old emails). */
  expiresAt?: Date;
  /** Confirmation links: the request they answer (a newer request stores a new one). base64url. */
  nonce?: string;
}

const b64 = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

export function signToken(secret: string, claims: TokenClaims): string {
  const exp = claims.expiresAt ? Math.floor(claims.expiresAt.getTime() / 1000).toString(36) : '';
  const fields = [claims.purpose, claims.subscriberId.toString(36), claims.listId.toString(36), exp];
  if (claims.nonce !== undefined) {
    if (!/^[\w-]+$/.test(claims.nonce)) throw new Error('a token nonce must be base64url');
    fields.push(claims.nonce);
  }
  const payload = fields.join('.');
  return `${b64(payload)}.${keyedHmac(secret)(payload)}`;
}

/** The claims of a valid, unexpired token of `purpose`; null for anything else. */
export function verifyToken(secret: string, token: string, purpose: TokenPurpose, now: Date): TokenClaims | null {
  const [encoded, signature, extra] = token.split('.');
  if (!encoded || !signature || extra !== undefined) return null;
  const payload = Buffer.from(encoded, 'base64url').toString();
  const expected = Buffer.from(keyedHmac(secret)(payload), 'base64url');
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  // base64url ignores the spare bits of a last character: only the one canonical spelling counts.
  if (b64(payload) !== encoded || b64(given) !== signature) return null;
  const [p, s, l, exp, nonce, rest] = payload.split('.');
  if (p !== purpose || !s || !l || exp === undefined || nonce === '' || rest !== undefined) return null;
  const expiresAt = exp ? new Date(parseInt(exp, 36) * 1000) : undefined;
  if (expiresAt && expiresAt <= now) return null;
  return { purpose, subscriberId: parseInt(s, 36), listId: parseInt(l, 36), ...(expiresAt ? { expiresAt } : {}), ...(nonce ? { nonce } : {}) };
}

/** The per-recipient links every edition carries. */
export function subscriberLinks(baseUrl: string, secret: string, subscriberId: number, listId: number) {
  return {
    unsubscribeUrl: `${baseUrl}/unsubscribe/${signToken(secret, { purpose: 'unsubscribe', subscriberId, listId })}`,
    preferencesUrl: `${baseUrl}/preferences/${signToken(secret, { purpose: 'preferences', subscriberId, listId })}`,
  };
}
