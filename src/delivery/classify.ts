// What an SMTP reply (or a bounce's diagnostic) says about the address, after RFC 3463's enhanced
// status codes and the reply text, in Sisimai's reason taxonomy. Pure.
//
// The point is to suppress only what is really the address's fault: a 5.7.x policy or reputation
// rejection ("blocked", "spam detected", an authentication failure) says nothing about the
// address, and suppressing on it would wipe out every Outlook reader because Microsoft blocked our
// IP for an hour.

import { type Receiver, receiverReason } from './receivers.ts';

export type BounceReason =
  | 'userunknown' // the mailbox does not exist
  | 'hostunknown' // the domain does not exist or accepts no mail
  | 'hasmoved'
  | 'notaccept' // the domain accepts no mail (null MX)
  | 'suspend' // the mailbox is disabled
  | 'mailboxfull'
  | 'mesgtoobig'
  | 'exceedlimit'
  | 'systemfull'
  | 'filtered' // the recipient's filter refused this message (refused after DATA: the mailbox exists)
  | 'rejected' // our sender address was refused
  | 'norelaying'
  | 'blocked' // our IP or domain is blocked
  | 'spamdetected'
  | 'virusdetected'
  | 'contenterror'
  | 'policyviolation'
  | 'securityerror' // SPF, DKIM, DMARC or authentication failures
  | 'toomanyconn'
  | 'networkerror' // refused or dropped connection, timeout, routing trouble
  | 'systemerror'
  | 'mailererror' // a program the receiver delivers through failed
  | 'syntaxerror'
  | 'expired' // gave up retrying
  | 'onhold'
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

/** What an RFC 3463 status says by itself, where it says something precise. */
const STATUS_REASON: Record<string, BounceReason> = {
  '5.1.1': 'userunknown',
  '5.1.2': 'hostunknown',
  '5.1.3': 'userunknown',
  '5.1.6': 'hasmoved',
  '5.1.7': 'rejected',
  '5.1.8': 'rejected',
  '5.1.10': 'notaccept',
  // "Mailbox disabled, not accepting messages": the mailbox exists, its owner's settings refuse
  // (Sisimai: filtered). Words that it is disabled ("account … is disabled") make it suspend.
  '5.2.1': 'filtered',
  '5.2.2': 'mailboxfull',
  '5.2.3': 'mesgtoobig',
  '5.3.1': 'systemfull',
  '5.3.2': 'notaccept', // "system not accepting network messages"
  '5.3.4': 'mesgtoobig',
  '5.4.4': 'hostunknown',
  '5.4.6': 'networkerror',
  '5.4.7': 'expired',
  '5.6.7': 'policyviolation',
  '5.7.13': 'suspend', // "user account disabled" (IANA registry)
  '5.7.25': 'securityerror',
  '5.7.26': 'securityerror',
  '5.7.27': 'securityerror',
};

/** Words that the mailbox does not exist. Not "Recipient address rejected" alone: Postfix writes it before every kind of refusal. */
const USER_UNKNOWN =
  /user(name)? (unknown|not found|does not exist|doesn'?t exist|invalid|not exist)|unknown (user|recipient|mailbox|address|local ?part|e-?mail)|no such (user|mailbox|recipient|person|address|account|local user)|mailbox (not found|unavailable|does not exist|doesn'?t exist|not exist|name not allowed|unknown|invalid)|recipient (unknown|not found|does not exist|invalid)|invalid (recipient|mailbox|address|user)|address (does not exist|unknown|not found|invalid)|does not exist|doesn'?t (have an?|exist)|not a valid (mailbox|address|user|recipient)|no (mailbox|account) (here|by that name|for)|\bchkusr\b|addressee unknown|bad destination mailbox|not our customer|no valid recipients|unknown or illegal alias|not listed in|recipient not recognized|could(n'?t| not) be found|ディレクトリのリストにありません|存在しない|宛先不明|(recipient )?address rejected\.?\s*$|is not a known user|no longer exists|not a registered|mailbox is unavailable|undeliverable address/i;

/**
 * Reasons read from the text, first match wins. Policy first, so "rejected … blocked" never reads
 * as a bad mailbox; within policy, the specific causes (authentication, our IP's reputation) before
 * the generic word "spam", which Gmail puts in nearly every refusal ("to protect our users from
 * spam"). `strong` rules name a cause precisely enough to overrule a status code that says
 * "bad mailbox" (Facebook's "5.1.1 … refused due to recipient preferences" is a filter).
 */
const TEXT_RULES: Array<{ re: RegExp; reason: BounceReason; strong?: boolean }> = [
  { re: /\b(spf|dkim|dmarc)\b|authentication (failed|required|checks)|not authenticated|unauthenticated|reverse dns|\bptr record/i, reason: 'securityerror', strong: true },
  { re: /too many (messages|connections|recipients|sessions)|rate limit|throttl|receiving mail at a rate|unexpected volume|unusual rate|connection limit|try again later/i, reason: 'toomanyconn', strong: true },
  { re: /block ?list|black ?list|blocked using|(?<!not )listed (at|on|in)\b|reputation|poor sending|banned|dnsbl|\brbl\b|spamhaus|spamcop|client host (\[[^\]]*\] )?(rejected|blocked)|not allowed to send from|open relay/i, reason: 'blocked', strong: true },
  { re: /virus|malware|infected/i, reason: 'virusdetected', strong: true },
  { re: /unsolicited|\bas spam\b|spam (detected|content|message)|message (was )?(classified|marked|detected|identified|considered) as (spam|junk|bulk)|\bjunk\b|bulk mail|content (was )?rejected|looks like spam|spam score/i, reason: 'spamdetected', strong: true },
  { re: /relay(ing)? (access )?(denied|not permitted|prohibited)|not permitted to relay|unable to relay|relay not permitted|we do not relay|no relaying/i, reason: 'norelaying', strong: true },
  // Problems with OUR sender address: the recipient may be fine.
  { re: /sender (address )?(rejected|refused|denied|verify failed|verification failed|unknown)|domain of sender (address )?\S* ?does not exist|sender domain (must exist|does not exist|not found|unknown)|unroutable sender|sender (is )?not (allowed|authorized|valid)|(mail from|return path)[^\n]{0,40}(rejected|refused|invalid)|envelope sender|from address (is )?(rejected|invalid)/i, reason: 'rejected', strong: true },
  { re: /recipient('s)? preferences|(refused|rejected|blocked) by (the )?recipient(?! domain| server| (mail )?system)|recipient('s)? (filter|rules?)|content filter|\bfiltered\b|message (has been )?refused by (mailbox|the recipient)/i, reason: 'filtered', strong: true },
  { re: /retry time(out)? (not reached|exceeded)|(delivery|message|queue) (time |lifetime )?(has )?expired|delivery (attempts|time) (exceeded|expired)|could not be delivered (with)?in \d+ (days|hours)|have not been able to deliver|giving up(?! on )|gave up|too long in (the )?queue|maximum time|timed out in queue|no longer trying|retry limit/i, reason: 'expired', strong: true },
  // Postfix's "Host not found, try again": the DNS did not answer, which says nothing of the domain.
  { re: /not found, try again/i, reason: 'networkerror', strong: true },
  { re: /host or domain name not found|\bhost not found\b|domain name not found|no such domain|nxdomain/i, reason: 'hostunknown', strong: true },
  // A Google Group that "may not exist, or you may not have permission to post": not a bad address.
  { re: /permission to post|may not have permission|投稿する権限/i, reason: 'rejected', strong: true },
  // DNS trouble on the way: the domain may well exist.
  { re: /name service error|name server (reply|failure|error)|servfail|temporary (dns|lookup) failure|dns (timeout|temporary)/i, reason: 'networkerror', strong: true },
  { re: /(mailbox|inbox|account|mail ?box|user)( is)? (full|over ?quota|exceed)|quota (exceeded|full|violation)|over ?quota|exceed(ed|s)? (the )?(storage|quota|mailbox)|storage (full|exceeded|allocation)|insufficient (storage|disk)|not enough (storage|space)|mailbox size limit/i, reason: 'mailboxfull', strong: true },
  { re: /message (is )?too (big|large)|size (limit|exceeds)|exceeds (the )?(maximum|size)|message length exceeds|too large/i, reason: 'mesgtoobig' },
  { re: /insufficient system (storage|resources)|out of (storage|disk)/i, reason: 'systemfull' },
  { re: /(account|mailbox|address|user)( has been| is| was)? (disabled|suspended|inactive|deactivated|locked|expired|frozen|closed|terminated|blocked for inactivity)|account (that you tried to reach )?is (disabled|inactive)|inactive (account|user|mailbox)|mailbox (is )?(inactive|disabled)|no longer (active|in use)|recipient('s)? account (is )?(blocked|disabled|suspended)/i, reason: 'suspend', strong: true },
  { re: /has moved|address (has )?changed|no longer (valid|available) at this address|moved permanently/i, reason: 'hasmoved' },
  { re: /null mx|does not accept (e-?)?mail|not accepting (e-?)?mail|not accepting network messages|accepts no mail/i, reason: 'notaccept' },
  { re: /(host|domain)( name)? (not found|unknown|does not exist|is invalid|lookup failed)|no such (host|domain)|unrouteable (mail )?domain|unrouteable|unroutable|name or service not known|\bno mx\b|domain (is )?not (accepting|valid|exist)|domain (name )?(is )?(not found|invalid|unknown)|dns (lookup )?(error|failure)|host or domain name not found|nxdomain|mx (record|lookup)/i, reason: 'hostunknown' },
  { re: USER_UNKNOWN, reason: 'userunknown' },
  { re: /polic(y|ies)|not permitted|prohibited|access denied|not authorized|denied/i, reason: 'policyviolation' },
  { re: /blocked|\bspam\b|refused|rejected for/i, reason: 'blocked' },
  { re: /syntax error|command unrecognized|bad (sequence|command)|malformed|invalid (command|syntax)/i, reason: 'syntaxerror' },
  { re: /connection (refused|reset|timed out|closed|lost|dropped)|network (is )?unreachable|no route to host|timed? ?out|routing loop|mail loop|too many hops|loops back|could not connect|unable to connect|lost connection/i, reason: 'networkerror' },
  { re: /x-unix|command (failed|died)|exited with|program (failed|error)|pipe to|procmail|mailer error/i, reason: 'mailererror' },
  { re: /system error|internal (server )?error|local error|temporar(y|ily)|try again|resources|service (not )?(available|unavailable)|server (error|busy)/i, reason: 'systemerror' },
];

const BAD_ADDRESS: BounceReason[] = ['userunknown', 'hostunknown', 'hasmoved', 'notaccept', 'suspend'];
const POLICY: BounceReason[] = ['blocked', 'spamdetected', 'policyviolation', 'securityerror', 'toomanyconn', 'filtered', 'rejected', 'norelaying', 'virusdetected', 'contenterror'];

export function classOf(reason: BounceReason, permanent: boolean): BounceClass {
  if (!permanent) return 'transient';
  if (BAD_ADDRESS.includes(reason)) return 'hard';
  if (POLICY.includes(reason)) return 'policy';
  return 'soft';
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

/**
 * A status code anywhere in a diagnostic, as bounce texts write them ("#5.1.1 - chkusr",
 * "(5.1.1)", "Status: 5.1.1"): looser than enhancedStatus, for reports, not for replies.
 */
export function statusInText(text: string): string | null {
  const m = enhancedStatus(text) ? null : /(?:^|[^\d.])#?([245])\.(\d{1,3})\.(\d{1,3})(?![.\d])/.exec(text);
  return enhancedStatus(text) ?? (m ? m.slice(1, 4).join('.') : null);
}

/** Not the addresses: "filtered@example.jp" says nothing about a filter. */
function withoutAddresses(text: string): string {
  return text.replace(/[\w.+'-]+@[\w-]+(\.[\w-]+)+/g, ' ');
}

function textRule(text: string) {
  const words = withoutAddresses(text);
  return TEXT_RULES.find((rule) => rule.re.test(words)) ?? null;
}

/** The reason for a permanent failure, from its status and text. */
function permanentReason(status: string | null, text: string): BounceReason {
  const rule = textRule(text);
  const fromStatus = status ? STATUS_REASON[status] : undefined;
  // 5.1.10 is a null MX (RFC 7505), but Exchange uses it for "recipient not found".
  if (status === '5.1.10' && !/null mx/i.test(text)) return rule?.reason === 'notaccept' ? 'notaccept' : 'userunknown';
  if (status?.startsWith('5.7.')) {
    // Policy, whatever else the text adds: the receiver is judging us, not the address.
    if (rule && POLICY.includes(rule.reason)) return rule.reason;
    return fromStatus ?? 'blocked';
  }
  if (fromStatus) return rule?.strong && rule.reason !== 'expired' ? rule.reason : fromStatus;
  return rule?.reason ?? 'undefined';
}

/**
 * Classifies an SMTP reply. `code` is the basic reply code (421, 550, …); undefined means no reply
 * at all: a refused or dropped connection or a timeout, which is always worth another try.
 */
export function classifyReply(code: number | undefined, text: string): Classification {
  const status = enhancedStatus(text);
  if (code === undefined && !status) {
    return { class: 'transient', reason: textRule(text)?.reason === 'hostunknown' ? 'hostunknown' : 'networkerror', status: null };
  }
  const permanent = status ? status.startsWith('5') : (code ?? 0) >= 500;
  if (!permanent) {
    const reason = status?.startsWith('4.2.2') ? 'mailboxfull' : (textRule(text)?.reason ?? 'systemerror');
    return { class: 'transient', reason: BAD_ADDRESS.includes(reason) ? 'systemerror' : reason, status };
  }
  const reason = permanentReason(status, text);
  return { class: classOf(reason, true), reason, status };
}

/**
 * Classifies a failure a bounce reports as final: its status (the DSN's Status field or one in
 * the text), its diagnostic, and the SMTP command it answered when the report says. A final
 * failure with a 4.x.x status (retries given up) is soft, never a delay. A refusal after DATA is
 * the message's: the mailbox was accepted at RCPT TO, so it exists ("filtered"); one at MAIL FROM
 * is about our sender ("rejected"). A "user unknown" needs a witness (an address status or RCPT
 * TO). `receiver` (the recipient, the receiving host) lets a receiver's own documented vocabulary
 * (receivers.ts) have the last word.
 */
export function classifyFailure(status: string | null, text: string, command?: string | null, receiver?: Receiver): Classification {
  const inText = statusInText(text);
  // A DSN's generic 5.0.0 or 4.x.x beside a precise code in the diagnostic: the precise one.
  // The remote server's own code in its reply beats the reporting MTA's summary of it.
  const reply = enhancedStatus(text);
  const best = reply ?? (inText && (!status || /^[45]\.0\.0$/.test(status) || (status.startsWith('4') && inText.startsWith('5'))) ? inText : (status ?? inText));
  if (best?.startsWith('4') || (!best && /^\s*4\d\d\b/.test(text))) {
    const reason = textRule(text)?.reason;
    // A null MX (RFC 7505) is final whatever the code: the domain takes no mail.
    if (reason === 'notaccept') return { class: 'hard', reason, status: best };
    const soft = !reason || BAD_ADDRESS.includes(reason) || reason === 'networkerror' || reason === 'systemerror' ? 'expired' : reason;
    return { class: classOf(soft, true), reason: soft, status: best };
  }
  // The receiver's own vocabulary, where it has one, over the generic words.
  const own = receiverReason(receiver, text);
  if (own) return { class: classOf(own, true), reason: own, status: best };
  // A reporting MTA's own 5.7.x beside a remote reply that carries no code and says only that the
  // mailbox does not exist ("553 Invalid recipient"): the reply is the better witness.
  const rule = textRule(text);
  const byText = best?.startsWith('5.7.') && !inText && rule?.reason === 'userunknown' && !TEXT_RULES.some((r) => POLICY.includes(r.reason) && r.re.test(withoutAddresses(text)));
  let reason = byText ? 'userunknown' : permanentReason(best, text);
  const precise = best !== null && ['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.1.10', '5.7.13'].includes(best);
  const at = command?.toUpperCase();
  if (at === 'DATA' && BAD_ADDRESS.includes(reason) && !precise) reason = 'filtered';
  // "User unknown" is only believed with a witness (Sisimai's rule too): an address status
  // (RFC 3463's 5.1.x, Exchange's 5.1.10 and 5.1.351 among them) or a refusal at RCPT TO.
  // Without one, the same words come from filters that refuse the message after DATA, from
  // mailbox statuses (5.2.x: the mailbox exists), and from summaries of a reply we cannot see,
  // so the address stays.
  if (reason === 'userunknown' && at !== 'RCPT' && !best?.startsWith('5.1.')) reason = 'filtered';
  // The converse: refused at RCPT TO in words that the mailbox is unknown, whatever the mailbox
  // status beside them (a 5.2.1 "<x>... User Unknown" from Sendmail).
  if (reason === 'filtered' && at === 'RCPT' && best?.startsWith('5.2.') && USER_UNKNOWN.test(withoutAddresses(text))) reason = 'userunknown';
  // Refused at MAIL FROM: our sender address was judged, whatever the words.
  if (at === 'MAIL' && BAD_ADDRESS.includes(reason)) reason = 'rejected';
  return { class: classOf(reason, true), reason, status: best };
}

/** Whether a bounce of this kind suppresses the address: a bad address, or a complaint. */
export function suppresses(kind: BounceClass | 'complaint' | 'delayed'): boolean {
  return kind === 'hard' || kind === 'complaint';
}
