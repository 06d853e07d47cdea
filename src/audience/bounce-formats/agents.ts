// Mail agents that judge the recipient themselves and say so in a vocabulary of their own: an
// error code, a category field, a fixed sentence of their report format (Sisimai keeps the same
// knowledge in its Lhost modules). Their verdict is a witness the generic rules lack: a directory
// lookup done by the agent that holds the mailbox says more than a quoted reply whose SMTP
// command we cannot see. Each rule is tied to the agent's own report shape, so the same words in
// another agent's report are not taken for its verdict.
import type { BounceReason } from '../../delivery/classify.ts';

const AGENTS: Array<{ agent: string; report: RegExp; verdicts: Array<[RegExp, BounceReason]> }> = [
  {
    // Its error codes, as "MSEXCH:IMS:… 0 (000C05A6) Unknown Recipient".
    agent: 'Exchange 2003',
    report: /did not reach the following recipient\(s\)/i,
    verdicts: [
      [/\(000C05A6\)/, 'userunknown'],
      [/\(00120270\)/, 'networkerror'], // too many hops
    ],
  },
  {
    agent: 'Lotus Notes / Domino',
    report: /^-+ Failure Reasons\s+-+/m,
    verdicts: [
      [/User not listed in public Name & Address Book|ディレクトリのリストにありません/, 'userunknown'],
      [/Message has exceeded maximum hop count/, 'networkerror'],
    ],
  },
  {
    agent: 'McAfee Email Gateway',
    report: /^\s*--- The following addresses had delivery problems ---/m,
    verdicts: [[/ User \(\S+@\S+\) unknown\. |\b550 Unknown user \S+@\S+|\b550 <\S+@\S+>\.+ User not exist|No such user/, 'userunknown']],
  },
  {
    agent: "Verizon Wireless's MMS gateway",
    report: /^Message could not be delivered to mobile/m,
    verdicts: [[/No valid recipients for this MM/, 'userunknown']],
  },
];

/** The agent's own verdict on a recipient, from its report's words and the recipient's diagnostic; null when it gives none. */
export function agentVerdict(report: string, diagnostic: string): BounceReason | null {
  for (const a of AGENTS) {
    if (!a.report.test(report)) continue;
    const hit = a.verdicts.find(([re]) => re.test(diagnostic));
    if (hit) return hit[1];
  }
  return null;
}

/** PowerMTA's X-PowerMTA-BounceCategory, the class it filed the failure under. */
const POWERMTA_CATEGORIES: Record<string, BounceReason> = {
  'bad-domain': 'hostunknown',
  'bad-mailbox': 'userunknown',
  'inactive-mailbox': 'suspend',
  'message-expired': 'expired',
  'no-answer-from-host': 'networkerror',
  'policy-related': 'policyviolation',
  'quota-issues': 'mailboxfull',
  'routing-errors': 'systemerror',
  'spam-related': 'spamdetected',
};

export function powerMtaVerdict(category: string | undefined): BounceReason | null {
  return (category && POWERMTA_CATEGORIES[category.trim().toLowerCase()]) || null;
}
