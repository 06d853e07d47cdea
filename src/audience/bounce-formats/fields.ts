// What every bounce format shares: header-like field blocks, addresses, and the SMTP command a
// failure answered.
import type { BounceReason } from '../../delivery/classify.ts';

/** One failed (or delayed) recipient as a report states it, before classification. */
export interface Failure {
  email: string;
  /** The DSN's Final-Recipient when it differs from `email` (the original recipient): an alias behind it. */
  finalRecipient?: string;
  /** RFC 3463 status as the report gives it (a DSN's Status field), if any. */
  status: string | null;
  /** The remote server's reply or the report's own words about this recipient. */
  diagnostic: string;
  /** RFC 3464 Action, lower case, when the report says (failed, delayed, delivered…). */
  action?: string;
  /** The SMTP command the failure answered (RCPT, DATA, MAIL), when the report says. */
  command?: string | null;
  /** The receiving host (a DSN's Remote-MTA), when the report names it. */
  remoteHost?: string;
  /** The reporting agent's own verdict in its own vocabulary (agents.ts), taken as it is. */
  verdict?: BounceReason | null;
}

/** Header fields of a block such as a delivery-status part, unfolded; every value of a repeated field kept. */
export function fieldBlocks(text: string): Array<Map<string, string[]>> {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/\n[ \t]+/g, ' ')
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string[]>();
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(line);
        if (m) {
          const name = (m[1] as string).toLowerCase();
          fields.set(name, [...(fields.get(name) ?? []), (m[2] as string).trim()]);
        }
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

export const first = (fields: Map<string, string[]> | undefined, name: string): string | undefined => fields?.get(name)?.[0];

// A quoted local part ("neko..nyaan"@example.org) is kept with its quotes, as Sisimai keeps it.
const ADDRESS = /(?:"[^"\s@]+"|[\w.!#$%&'*+/=?^`{|}~-]+)@[\w-]+(?:\.[\w-]+)+/;
export const ADDRESS_SOURCE = ADDRESS.source;

/** "rfc822; Ada@Example.com" → ada@example.com; null for anything that is not an address. */
export function addressOf(field: string | undefined): string | null {
  if (!field) return null;
  const value = field.includes(';') ? field.slice(field.indexOf(';') + 1) : field;
  // A field holds one address, so a host without a dot (user@mailhub0) is one too.
  const m = new RegExp(`<?(${ADDRESS.source}|[^\\s<>;@"]+@[\\w-]+)>?`).exec(value.trim());
  return m ? cleanAddress(m[1] as string) : null;
}

/** Lower case, without the dots or quotes a sentence around it leaves on its ends. */
export function cleanAddress(address: string): string {
  const bare = address.replace(/^['`.]+|['"`.]+$/g, '');
  return (/^"[^"]+"@/.test(bare) ? bare : bare.replace(/^"+/, '')).toLowerCase();
}

/** The SMTP command a failure answered, as Postfix, Exim, Sendmail and others write it. */
export function commandIn(text: string): string | null {
  const m =
    /in reply to (?:end of )?(DATA|RCPT TO|MAIL FROM|RCPT|MAIL)\b/i.exec(text) ??
    /after (?:end of )?(data|RCPT TO|MAIL FROM|RCPT|MAIL)\b/i.exec(text) ??
    /did not like our (RCPT TO|MAIL FROM|DATA)\b/i.exec(text) ?? // DragonFly
    /(?:^|\n)\s*>>> (DATA|RCPT TO|MAIL FROM)\b[^\n]*\n(?:[^\n]*\n)*?\s*<<< [45]\d\d/i.exec(text);
  if (m) return (m[1] as string).toUpperCase().split(' ')[0] as string;
  // qmail-remote's own words for the same steps.
  if (/does not like recipient/i.test(text)) return 'RCPT';
  if (/failed (on DATA command|after I sent the message)/i.test(text)) return 'DATA';
  if (/but sender was rejected/i.test(text)) return 'MAIL';
  return null;
}

/** Whitespace collapsed, at most `max` characters. */
export function squeeze(text: string, max = 1000): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, max);
}
