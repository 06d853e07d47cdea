// Signed link tokens: HMAC over purpose, subscriber, list and expiry.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, subscriberLinks, type TokenPurpose, verifyToken } from '../../src/audience/tokens.ts';
import { deliveryMessageId } from '../../src/delivery/composers.ts';
import { hmacSha256 } from '../../src/hmac.ts';
import { TEST_SECRET, tempDir, testConfig } from '../helpers/context.ts';

const NOW = new Date('2026-11-30T08:00:00Z');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function unsubscribeToken(): string {
  return signToken(TEST_SECRET, { purpose: 'unsubscribe', subscriberId: 42, listId: 7 });
}

/** The token with the character at `index` replaced by the next base64url character. */
function flip(token: string, index: number): string {
  const c = token[index] as string;
  const next = BASE64URL[(BASE64URL.indexOf(c) + 1) % BASE64URL.length] as string;
  return token.slice(0, index) + next + token.slice(index + 1);
}

describe('signToken / verifyToken', () => {
  it('round-trips the claims of a token without expiry', () => {
    expect(verifyToken(TEST_SECRET, unsubscribeToken(), 'unsubscribe', NOW)).toEqual({ purpose: 'unsubscribe', subscriberId: 42, listId: 7 });
  });

  it('round-trips the claims of a token with an expiry', () => {
    const expiresAt = new Date('2026-12-07T08:00:00Z');
    const token = signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: 123456, listId: 1, expiresAt });
    expect(verifyToken(TEST_SECRET, token, 'confirm', NOW)).toEqual({ purpose: 'confirm', subscriberId: 123456, listId: 1, expiresAt });
  });

  it('round-trips the nonce of a confirmation link, which the signature covers', () => {
    const expiresAt = new Date('2026-12-03T08:00:00Z');
    const claims = { purpose: 'confirm' as const, subscriberId: 42, listId: 7, expiresAt, nonce: 'n0nce-_A' };
    const token = signToken(TEST_SECRET, claims);
    expect(verifyToken(TEST_SECRET, token, 'confirm', NOW)).toEqual(claims);
    // Two requests in the same instant differ only by nonce: their tokens differ.
    expect(signToken(TEST_SECRET, { ...claims, nonce: 'other' })).not.toBe(token);
    const [, signature] = token.split('.');
    const swapped = `${Buffer.from('confirm.16.7.' + Math.floor(expiresAt.getTime() / 1000).toString(36) + '.other').toString('base64url')}.${signature}`;
    expect(verifyToken(TEST_SECRET, swapped, 'confirm', NOW)).toBeNull();
  });

  const exp = Math.floor(Date.parse('2026-12-03T08:00:00Z') / 1000).toString(36);
  it.each([`confirm.16.7.${exp}.`, `confirm.16.7.${exp}.n.x`])('rejects the signed payload %j (an empty nonce or a field too many)', (payload) => {
    const sign = (p: string) => `${Buffer.from(p).toString('base64url')}.${createHmac('sha256', TEST_SECRET).update(p).digest('base64url')}`;
    expect(verifyToken(TEST_SECRET, sign(`confirm.16.7.${exp}.n`), 'confirm', NOW)?.nonce).toBe('n'); // the well-formed neighbour verifies
    const mac = createHmac('sha256', TEST_SECRET).update(payload).digest('base64url');
    expect(verifyToken(TEST_SECRET, `${Buffer.from(payload).toString('base64url')}.${mac}`, 'confirm', NOW)).toBeNull();
  });

  it('refuses to sign a nonce that would change the fields', () => {
    expect(() => signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: 1, listId: 1, nonce: 'a.b' })).toThrow(/base64url/);
  });

  it.each<TokenPurpose>(['confirm', 'preferences'])('an unsubscribe token does not verify as %s', (purpose) => {
    expect(verifyToken(TEST_SECRET, unsubscribeToken(), purpose, NOW)).toBeNull();
  });

  it('rejects a token whose payload has one character changed', () => {
    const token = unsubscribeToken();
    expect(verifyToken(TEST_SECRET, flip(token, 3), 'unsubscribe', NOW)).toBeNull();
  });

  it('rejects a token whose signature has one character changed', () => {
    const token = unsubscribeToken();
    expect(verifyToken(TEST_SECRET, flip(token, token.indexOf('.') + 10), 'unsubscribe', NOW)).toBeNull();
  });

  it('rejects a token with any single character changed, including the last of each part', () => {
    const token = unsubscribeToken();
    const accepted: string[] = [];
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      if (verifyToken(TEST_SECRET, flip(token, i), 'unsubscribe', NOW)) accepted.push(`position ${i}: ${token[i]} -> ${flip(token, i)[i]}`);
    }
    expect(accepted).toEqual([]);
  });

  it('rejects a payload re-pointed at another subscriber under the original signature', () => {
    const [, signature] = unsubscribeToken().split('.');
    const forged = `${Buffer.from('unsubscribe.1.7.').toString('base64url')}.${signature}`;
    expect(verifyToken(TEST_SECRET, forged, 'unsubscribe', NOW)).toBeNull();
  });

  it('rejects a token signed with another secret', () => {
    const token = signToken('another-secret-0123456789abcdef0123456789', { purpose: 'unsubscribe', subscriberId: 42, listId: 7 });
    expect(verifyToken(TEST_SECRET, token, 'unsubscribe', NOW)).toBeNull();
  });

  it('rejects an expired token', () => {
    const token = signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: 42, listId: 7, expiresAt: new Date('2026-11-30T07:59:59Z') });
    expect(verifyToken(TEST_SECRET, token, 'confirm', NOW)).toBeNull();
  });

  it('rejects a token at the moment it expires', () => {
    const token = signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: 42, listId: 7, expiresAt: NOW });
    expect(verifyToken(TEST_SECRET, token, 'confirm', NOW)).toBeNull();
  });

  it('accepts a token one second before it expires', () => {
    const token = signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: 42, listId: 7, expiresAt: new Date('2026-11-30T08:00:01Z') });
    expect(verifyToken(TEST_SECRET, token, 'confirm', NOW)?.subscriberId).toBe(42);
  });

  it.each(['', 'a.b.c', '...', '.', 'abc', 'a.', '.b', '!!!.@@@', 'dW5zdWJzY3JpYmU.', '\u0000.\u0000'])('returns null for the garbage token %j without throwing', (garbage) => {
    expect(() => verifyToken(TEST_SECRET, garbage, 'unsubscribe', NOW)).not.toThrow();
    expect(verifyToken(TEST_SECRET, garbage, 'unsubscribe', NOW)).toBeNull();
  });
});

describe('subscriberLinks', () => {
  const links = subscriberLinks('https://recap.test', TEST_SECRET, 42, 7);

  function tokenOf(url: string, path: string): string {
    const parsed = new URL(url);
    expect(parsed.protocol).toBe('https:');
    expect(parsed.host).toBe('recap.test');
    expect(parsed.pathname.startsWith(`/${path}/`)).toBe(true);
    return parsed.pathname.slice(path.length + 2);
  }

  it('gives an https unsubscribe URL whose token verifies for that subscriber and list', () => {
    const token = tokenOf(links.unsubscribeUrl, 'unsubscribe');
    expect(verifyToken(TEST_SECRET, token, 'unsubscribe', NOW)).toEqual({ purpose: 'unsubscribe', subscriberId: 42, listId: 7 });
  });

  it('gives an https preferences URL whose token verifies for that subscriber and list', () => {
    const token = tokenOf(links.preferencesUrl, 'preferences');
    expect(verifyToken(TEST_SECRET, token, 'preferences', NOW)).toEqual({ purpose: 'preferences', subscriberId: 42, listId: 7 });
  });

  it('does not let the preferences token unsubscribe, nor the unsubscribe token open preferences', () => {
    expect(verifyToken(TEST_SECRET, tokenOf(links.preferencesUrl, 'preferences'), 'unsubscribe', NOW)).toBeNull();
    expect(verifyToken(TEST_SECRET, tokenOf(links.unsubscribeUrl, 'unsubscribe'), 'preferences', NOW)).toBeNull();
  });

  it('gives links that still verify years later (they carry no expiry)', () => {
    const later = new Date('2036-01-01T00:00:00Z');
    expect(verifyToken(TEST_SECRET, tokenOf(links.unsubscribeUrl, 'unsubscribe'), 'unsubscribe', later)?.subscriberId).toBe(42);
  });
});

describe('the HMAC prepared once per secret', () => {
  const reference = (secret: string, message: string) => createHmac('sha256', secret).update(message).digest('base64url');
  // Keys shorter than, as long as and longer than SHA-256's 64-byte block (a longer one is hashed first), in bytes of UTF-8.
  const secrets = ['', 'k', TEST_SECRET, 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(65), 'é'.repeat(32), `${'é'.repeat(31)}x`, 'ü€😀'.repeat(40), 'z'.repeat(500)];
  // Messages of every kind, some longer than the room kept for them.
  const messages = ['', 'a', 'unsubscribe.16.7.', 'message-id:3:42', 'Zoë € 😀 中'.repeat(30), 'm'.repeat(1000), '\u0000\r\n'];

  it('is createHmac’s HMAC-SHA256 for every key and message length', () => {
    for (const secret of secrets) {
      const hmac = hmacSha256(secret);
      for (const message of messages) expect(hmac(message), `${secret.length}-character key, ${message.length}-character message`).toBe(reference(secret, message));
      // Reused room: a short message after a long one is not mixed with what was left.
      expect(hmac('short')).toBe(reference(secret, 'short'));
    }
  });

  it('signs tokens as before, so links in emails already sent keep verifying', () => {
    for (const secret of secrets.filter((s) => s.length > 0)) {
      const payload = 'unsubscribe.16.7.';
      const before = `${Buffer.from(payload).toString('base64url')}.${reference(secret, payload)}`;
      expect(signToken(secret, { purpose: 'unsubscribe', subscriberId: 42, listId: 7 })).toBe(before);
      expect(verifyToken(secret, before, 'unsubscribe', NOW)).toEqual({ purpose: 'unsubscribe', subscriberId: 42, listId: 7 });
    }
  });

  it('gives the Message-IDs it gave before, which bounces are matched by', () => {
    const config = testConfig(tempDir('recap-tokens-'));
    for (const secret of [TEST_SECRET, 'another-secret-0123456789abcdef0123456789']) {
      expect(deliveryMessageId(config, secret, 3, 42)).toBe(`<recap.3.42.${reference(secret, 'message-id:3:42').slice(0, 16)}@recap.test>`);
    }
  });
});
