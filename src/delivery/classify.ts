// What an SMTP reply (or a bounce's diagnostic) says about the address, after RFC 3463's enhanced
// status codes and the reply text, in Sisimai's reason taxonomy. Pure.
//
// The point is to suppress only what is really the address's fault: a 5.7.x policy or reputation
// rejection ("blocked", "spam detected", an authentication failure) says nothing about the
// address, and suppressing on it would wipe out every Outlook reader because Microsoft blocked our
// IP for an hour.

export type BounceReason =
  | 'userunknown' // the mailbox does not exist
  | 'hostunknown' // the domain does not exist or accepts no mail
  | 'hasmoved'
  | 'suspend' // the mailbox is disabled
  | 'mailboxfull'
  | 'mesgtoobig'
  | 'blocked' // our IP or domain is blocked
  | 'spamdetected'
  | 'policyviolation'
  | 'securityerror' // SPF, DKIM, DMARC or authentication failures
  | 'ratelimited'
  | 'networkerror' // refused or dropped connection, timeout, routing trouble
  | 'systemerror'
  | 'expired' // gave up retrying
  | 'complaint'
  | 'undefined';

export type BounceClass =
  /** The address is bad: fail and suppress it. */
  | 'hard'
  /** The mailbox has trouble of its own (full): fail this one, count it; suppress after a streak. */
  | 'soft'
  /** The receiver refuses us, not the address: fail, never suppress, watch the domain. */
  | 'policy'
  /** Try again later. */
  | 'transient';

export interface Classification {
  class: BounceClass;
  reason: BounceReason;
  /** The enhanced status code found, e.g. 5.1.1. */
  status: string | null;
}

const HARD_STATUS: Record<string, BounceReason> = {
  '5.1.1': 'userunknown',
  '5.1.2': 'hostunknown',
  '5.1.3': 'userunknown',
  '5.1.6': 'hasmoved',
  '5.1.10': 'hostunknown',
  '5.2.1': 'suspend',
};

const TEXT_RULES: Array<[RegExp, BounceReason]> = [
  // Policy first, so "rejected … blocked" never reads as a bad mailbox; within policy, the specific
  // causes (authentication, our IP's reputation) before the generic word "spam", which Gmail puts
  // in nearly every refusal ("to protect our users from spam").
  [/\b(spf|dkim|dmarc)\b|authentication (failed|required|checks)|not authenticated|unauthenticated/i, 'securityerror'],
  [/too many (messages|connections|recipients)|rate limit|throttl|unexpected volume|unusual rate/i, 'ratelimited'],
  // Our IP or domain is judged: a block list, a reputation.
  [/block ?list|black ?list|blocked using|listed (at|on|in)|reputation|poor sending|banned|dnsbl|\brbl\b/i, 'blocked'],
  // This message is judged.
  [/unsolicited|\bas spam\b|spam detected|\bjunk\b|bulk mail|content (was )?rejected|message (content )?(was )?(identified|considered) as/i, 'spamdetected'],
  [/blocked|denied by policy|\bspam\b/i, 'blocked'],
  [/polic(y|ies)|not permitted|prohibited|access denied/i, 'policyviolation'],
  [/(mailbox|inbox|account) (is )?(full|over ?quota)|quota (exceeded|full)|over ?quota|insufficient (storage|system storage)|storage (full|exceeded)/i, 'mailboxfull'],
  [/(account|mailbox) (is )?(disabled|suspended|inactive|deactivated|locked)/i, 'suspend'],
  [/(host|domain) (not found|unknown|does not exist)|no such (host|domain)|unrouteable|unroutable|name or service not known|no mx|null mx|domain (is )?not (accepting|valid)/i, 'hostunknown'],
  // Not "Recipient address rejected" alone: Postfix writes it before every kind of refusal.
  [/user(name)? (unknown|not found|does not exist)|unknown (user|recipient|mailbox)|no such (user|mailbox|recipient|person)|mailbox (not found|unavailable|does not exist|not exist)|recipient (unknown|not found|does not exist)|invalid (recipient|mailbox|address)|address (does not exist|unknown)|does not exist|not a valid (mailbox|address)/i, 'userunknown'],
  [/message (is )?too (big|large)|size (limit|exceeds)|exceeds (the )?(maximum|size)/i, 'mesgtoobig'],
];

function classOf(reason: BounceReason, permanent: boolean): BounceClass {
  if (!permanent) return 'transient';
  switch (reason) {
    case 'userunknown':
    case 'hostunknown':
    case 'hasmoved':
    case 'suspend':
      return 'hard';
    case 'blocked':
    case 'spamdetected':
    case 'policyviolation':
    case 'securityerror':
    case 'ratelimited':
      return 'policy';
    default:
      return 'soft';
  }
}

/**
 * The enhanced status code of a reply ("550 5.1.1 <x>: …", "550-5.1.1 …", "smtp; 550 5.1.1 …")
 * or of a DSN Status field ("5.1.1"). Only right after the reply code or at the start: an IP
 * address quoted in the text (a blocklist refusal naming our IP) is not a status.
 */
export function enhancedStatus(text: string): string | null {
  const m = /(?:^|[\s;])[245]\d\d[ -]([245])\.(\d{1,3})\.(\d{1,3})(?![.\d])/.exec(text) ?? /^\s*([245])\.(\d{1,3})\.(\d{1,3})(?![.\d])/.exec(text);
  return m ? m.slice(1, 4).join('.') : null;
}

function reasonFromText(text: string): BounceReason | null {
  for (const [pattern, reason] of TEXT_RULES) if (pattern.test(text)) return reason;
  return null;
}

/**
 * Classifies an SMTP reply. `code` is the basic reply code (421, 550, …); undefined means no reply
 * at all: a refused or dropped connection or a timeout, which is always worth another try.
 */
export function classifyReply(code: number | undefined, text: string): Classification {
  const status = enhancedStatus(text);
  if (code === undefined && !status) {
    return { class: 'transient', reason: reasonFromText(text) === 'hostunknown' ? 'hostunknown' : 'networkerror', status: null };
  }
  const permanent = status ? status.startsWith('5') : (code ?? 0) >= 500;
  if (!permanent) {
    const reason = status?.startsWith('4.2.2') ? 'mailboxfull' : (reasonFromText(text) ?? 'systemerror');
    return { class: 'transient', reason: reason === 'userunknown' || reason === 'hostunknown' ? 'systemerror' : reason, status };
  }
  if (status) {
    const known = HARD_STATUS[status];
    // 5.1.10 is a null MX (RFC 7505), but Exchange uses it for "recipient not found".
    if (status === '5.1.10' && !/null mx/i.test(text)) return { class: 'hard', reason: 'userunknown', status };
    if (known) return { class: 'hard', reason: known, status };
    if (status === '5.2.2') return { class: 'soft', reason: 'mailboxfull', status };
    if (status === '5.2.3' || status === '5.3.4') return { class: 'soft', reason: 'mesgtoobig', status };
    // RFC 6531's "non-ASCII address not permitted": a receiver (or our relay) without SMTPUTF8; the mailbox may be fine.
    if (status === '5.6.7') return { class: 'policy', reason: 'policyviolation', status };
    if (status.startsWith('5.7.')) {
      // Policy, whatever the text adds: the receiver is judging us, not the address.
      const fromText = reasonFromText(text);
      const policy: BounceReason[] = ['spamdetected', 'securityerror', 'blocked', 'policyviolation', 'ratelimited'];
      return { class: 'policy', reason: fromText && policy.includes(fromText) ? fromText : status === '5.7.26' || status === '5.7.25' || status === '5.7.27' ? 'securityerror' : 'blocked', status };
    }
  }
  // No telling code: the text decides where it is clear; otherwise it counts as soft.
  const fromText = reasonFromText(text);
  if (!fromText) return { class: 'soft', reason: 'undefined', status };
  return { class: classOf(fromText, true), reason: fromText, status };
}

/** Whether a bounce of this kind suppresses the address: a bad address, or a complaint. */
export function suppresses(kind: BounceClass | 'complaint' | 'delayed'): boolean {
  return kind === 'hard' || kind === 'complaint';
}
