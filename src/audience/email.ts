// Address handling shared by importers, the CLI and the mailer. Every address is stored trimmed and
// lower-cased (mixed-case duplicates are one subscriber), and validated before it is stored.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { headerSafe } from '../plain-text.ts';

const emailSchema = z.email();

/** Returns the normalised address, or null when it is not a deliverable-looking address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length === 0 || email.length > 254 || /[\s<>"]/.test(email)) return null;
  return emailSchema.safeParse(email).success ? email : null;
}

export function hashEmail(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}

/** Header values come from articles, names and config: one plain line (see src/plain-text.ts). */
export { headerSafe };

/** Parses `"Name" <addr@host>`, `Name <addr@host>` or a bare address. */
export function parseMailbox(value: string): { name: string; address: string } | null {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^>]+)>\s*$/.exec(value);
  const address = normalizeEmail(m ? (m[2] as string) : value);
  if (!address) return null;
  return { name: headerSafe(m?.[1] ?? ''), address };
}
