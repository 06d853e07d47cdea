// What some receivers' replies mean in their own documented vocabulary, which the generic rules
// cannot know (Sisimai keeps the same knowledge in its Sisimai::Rhost modules). Looked up by the
// recipient's domain or the receiving host the report names (a DSN's Remote-MTA, Postfix's
// "host mx3.qq.com[…] said:"). Pure.
import type { BounceReason } from './classify.ts';

/** La Poste and Orange (France): a code such as LPN007_416, OFR_416, OUK_513 or LPN105-104 at the end of the reply. */
const FRANCE_PTT_CODES: Record<string, BounceReason> = {
  '101': 'blocked', // our IP on their block list
  '102': 'blocked',
  '103': 'blocked',
  '104': 'toomanyconn',
  '305': 'securityerror',
  '401': 'blocked',
  '402': 'securityerror',
  '403': 'rejected', // our sender's domain
  '405': 'rejected',
  '415': 'rejected',
  '416': 'userunknown', // "Adresse destinataire invalide. Invalid recipient."
  '417': 'mailboxfull',
  '418': 'userunknown',
  '420': 'suspend', // "Archived recipient"
  '421': 'rejected',
  '426': 'suspend', // "The recipient account is blocked"
  '505': 'systemerror',
  '506': 'spamdetected',
  '510': 'blocked',
  '514': 'mesgtoobig',
  '517': 'policyviolation',
  '999': 'blocked',
};

/** Tencent QQ's reply texts, lower case. */
const TENCENT_MESSAGES: Array<[string, BounceReason]> = [
  ['mailbox not found', 'userunknown'],
  ['mail is rejected by recipients', 'filtered'],
  // Its rate limit, despite the words.
  ['mailbox unavailable or access denied', 'toomanyconn'],
];

/** i.ua (email.ua): the number of its help page, "http://mail.i.ua/err/3/". */
const IUA_CODES: Record<string, BounceReason> = {
  '1': 'norelaying',
  '2': 'userunknown',
  '3': 'suspend', // not used for more than 3 months
  '4': 'mailboxfull',
  '5': 'toomanyconn',
  '6': 'norelaying',
  '7': 'blocked',
  '8': 'rejected',
  '9': 'blocked',
  '10': 'filtered',
};

const RECEIVERS: Array<{ domain: RegExp; reason: (diagnostic: string) => BounceReason | null }> = [
  {
    domain: /(^|\.)(laposte\.net|orange\.fr|wanadoo\.fr)$/,
    reason: (d) => {
      const m = /\b(?:LPN|LPNAAA|OFR|OUK)(?:_(\d{3})|\d{3}[-_](\d{3}))\b/i.exec(d);
      return m ? (FRANCE_PTT_CODES[(m[1] ?? m[2]) as string] ?? null) : null;
    },
  },
  {
    // au (KDDI) answers "550 : User unknown", naming nobody, when the reader's own filter
    // (accepting mail only from chosen senders) refuses us; a mailbox that does not exist gets
    // "550 <address>: User unknown".
    domain: /(^|\.)(ezweb\.ne\.jp|au\.com)$/,
    reason: (d) => (/\b550 : User unknown/i.test(d) ? 'filtered' : /<[^>\s]+@[^>\s]+>: User unknown/i.test(d) ? 'userunknown' : null),
  },
  {
    domain: /(^|\.)(qq\.com|foxmail\.com)$/,
    reason: (d) => TENCENT_MESSAGES.find(([words]) => d.toLowerCase().includes(words))?.[1] ?? null,
  },
  {
    domain: /(^|\.)(email\.ua|i\.ua)$/,
    reason: (d) => IUA_CODES[/\.i\.ua\/err\/(\d+)/i.exec(d)?.[1] ?? ''] ?? null,
  },
];

export interface Receiver {
  recipient?: string | null;
  /** The receiving host, when the report names it. */
  host?: string | null;
}

/** The receiving host a diagnostic names ("host mx3.qq.com[203.0.113.5] said:"), if any. */
function hostIn(diagnostic: string): string | null {
  return /\bhost ([\w-]+(?:\.[\w-]+)+)\s*\[/i.exec(diagnostic)?.[1] ?? null;
}

/** The reason a receiver's own vocabulary gives this diagnostic, or null where it says nothing. */
export function receiverReason(receiver: Receiver | undefined, diagnostic: string): BounceReason | null {
  const names = [receiver?.recipient?.split('@').pop(), receiver?.host, hostIn(diagnostic)].flatMap((n) => (n ? [n.toLowerCase().replace(/\.$/, '')] : []));
  const known = RECEIVERS.find((r) => names.some((n) => r.domain.test(n)));
  return known ? known.reason(diagnostic) : null;
}
