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
    // Domino's directory lookup, in the languages it writes.
    agent: 'Domino',
    report: /Domino|Name & Address Book/,
    verdicts: [
      [/not listed in (Domino Directory|public Name & Address Book)|non répertorié dans l'annuaire Domino|Domino ディレクトリには見つかりません/, 'userunknown'],
      [/Several matches found in Domino Directory/, 'systemerror'],
    ],
  },
  {
    // Exchange 2007 and later: the categorizer's enhanced codes.
    agent: 'Exchange 2007+',
    report: /\bRESOLVER\.ADR\./,
    verdicts: [[/\bRESOLVER\.ADR\.(Ex)?RecipNotFound\b/, 'userunknown']],
  },
  {
    // Google's own sentence for a recipient the remote server does not know.
    agent: 'Gmail / Google Workspace',
    report: /because the address couldn't be found\. Check for typos or unnecessary spaces and try again\./,
    verdicts: [[/because the address couldn't be found/, 'userunknown']],
  },
  {
    // qmail-local and chkusr's own sentence.
    agent: 'qmail',
    report: /qmail/i,
    verdicts: [[/Sorry, no mailbox here by that name/i, 'userunknown']],
  },
  {
    // Facebook's documented response codes (RCP-P1: no such address; RCP-P2/P3: the reader's
    // settings; RCP-T4: deactivated; POL-P1…P4: our server refused).
    agent: 'Facebook',
    report: /This message was created automatically by Facebook\./,
    verdicts: [
      [/\b(RCP-P1|INT-P1|INT-P3|INT-P4)\b/, 'userunknown'],
      [/\bRCP-P[23]\b/, 'filtered'],
      [/\bRCP-T4\b/, 'suspend'],
      [/\bPOL-P[1-4]\b/, 'blocked'],
    ],
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
