// Shared-secret checks for the machine endpoints (article intake, bounce webhooks).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';

export function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The secret a caller sent: a bearer token, or the password of basic auth (what SNS can send). */
export function presentedSecret(c: Context): string {
  const auth = c.req.header('authorization') ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
  if (bearer) return bearer;
  const basic = /^Basic\s+(.+)$/i.exec(auth)?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString();
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return '';
}
