// What some receivers' replies mean in their own documented vocabulary, which the generic rules
// cannot know (Sisimai keeps the same knowledge in its Sisimai::Rhost modules). Looked up by the
// recipient's domain. Pure.
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
];

/** The reason a receiver's own vocabulary gives this diagnostic, or null where it says nothing. */
export function receiverReason(recipient: string | null | undefined, diagnostic: string): BounceReason | null {
  const domain = recipient?.split('@').pop()?.toLowerCase() ?? '';
  for (const r of RECEIVERS) if (r.domain.test(domain)) return r.reason(diagnostic);
  return null;
}
