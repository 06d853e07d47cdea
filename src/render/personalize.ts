// A variant is rendered once with placeholders; per recipient only these are filled in, escaped for
// where they land. The nonce makes placeholders unguessable, so article text cannot forge one.
import { randomBytes } from 'node:crypto';
import { headerSafe } from '../audience/email.ts';

/**
 * `name` is the one the greeting uses: the first name (src/audience/first-name.ts). `message_tag`
 * is the message's own random tag in its counted links (RECAP_TRACK_CLICKS; src/delivery/clicks.ts).
 */
export const TOKEN_KEYS = ['name', 'email', 'unsubscribe_url', 'preferences_url', 'message_tag'] as const;
export type TokenKey = (typeof TOKEN_KEYS)[number];
export type TokenValues = Record<TokenKey, string>;

/**
 * A message's tag, for its counted links (src/delivery/clicks.ts reads it back): 9 random bytes (12
 * characters of base64url) and the second it was composed. Made per recipient, stored nowhere.
 */
export function newMessageTag(composedAt: Date): string {
  return randomBytes(9).toString('base64url') + String(Math.floor(composedAt.getTime() / 1000));
}

/** The longest tag (12 digits of seconds is far beyond any clock): what the size of a variant is reckoned with. */
export const LONGEST_MESSAGE_TAG = 'x'.repeat(12 + 12);

export function newNonce(): string {
  return randomBytes(6).toString('hex');
}

export function placeholders(nonce: string): TokenValues {
  return Object.fromEntries(TOKEN_KEYS.map((key) => [key, `%%recap-${nonce}:${key}%%`])) as TokenValues;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#x27;');
}

/** Matches the placeholders of one variant; the key is group 1. */
export function placeholderPattern(nonce: string): RegExp {
  return new RegExp(`%%recap-${nonce}:(${TOKEN_KEYS.join('|')})%%`, 'g');
}

/** A value as it is written into each part. Line breaks in a name must not start a new paragraph or fake a link reference anywhere. */
export const escapeFor: Record<keyof PersonalizedBody, (value: string) => string> = {
  html: (v) => escapeHtml(headerSafe(v)),
  text: headerSafe,
};

function fill(template: string, nonce: string, values: TokenValues, escape: (v: string) => string): string {
  return template.replace(placeholderPattern(nonce), (_, key: TokenKey) => escape(values[key]));
}

export interface PersonalizedBody {
  html: string;
  text: string;
}

export function personalize(
  variant: { html: string; text: string; placeholder_nonce: string },
  values: TokenValues,
): PersonalizedBody {
  return {
    html: fill(variant.html, variant.placeholder_nonce, values, escapeFor.html),
    text: fill(variant.text, variant.placeholder_nonce, values, escapeFor.text),
  };
}
