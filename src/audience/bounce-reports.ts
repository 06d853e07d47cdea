// Reads what mail servers send back: RFC 3464 delivery status notifications (bounces) and RFC 5965
// ARF feedback reports (complaints), as single messages or an mbox, with LF or CRLF line ends.
// Each report becomes one entry per recipient, classified like an SMTP reply while sending.
import { simpleParser } from 'mailparser';
import { type BounceReason, classifyReply, enhancedStatus } from '../delivery/classify.ts';

export interface ReportedBounce {
  /** The recipient the report is about, when it names one (complaints are often redacted). */
  email: string | null;
  /** The Message-ID of our original message, when the report quotes it. */
  messageId: string | null;
  kind: 'hard' | 'soft' | 'policy' | 'complaint' | 'delayed';
  reason: BounceReason;
  status: string | null;
  diagnostic: string | null;
  source: 'dsn' | 'arf' | 'webhook';
}

export interface ParsedReport {
  bounces: ReportedBounce[];
  /** The signed token of an unsubscribe request sent to the List-Unsubscribe mailto. */
  unsubscribeToken?: string;
  /** Why nothing usable was found, for the import's report. */
  note?: string;
}

/** Splits an mbox (mboxo or mboxrd) into messages; a lone message comes back as it is. */
export function splitMbox(text: string): string[] {
  if (!/^From \S/.test(text)) return [text];
  return text
    .split(/^From \S[^\r\n]*\r?\n/m)
    .filter((m) => m.trim() !== '')
    .map((m) => m.replace(/^>(>*From )/gm, '$1'));
}

/** Header fields of a block such as a delivery-status part, unfolded, keyed in lower case. */
function fieldBlocks(text: string): Array<Map<string, string>> {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/\n[ \t]+/g, ' ')
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(line);
        if (m && !fields.has((m[1] as string).toLowerCase())) fields.set((m[1] as string).toLowerCase(), (m[2] as string).trim());
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

/** "rfc822; Ada@Example.com" → ada@example.com */
function addressOf(field: string | undefined): string | null {
  if (!field) return null;
  const value = field.includes(';') ? field.slice(field.indexOf(';') + 1) : field;
  const m = /<?([^<>\s;]+@[^<>\s;]+)>?/.exec(value.trim());
  return m ? (m[1] as string).toLowerCase() : null;
}

function messageIdIn(text: string | undefined): string | null {
  const m = text ? /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(text) : null;
  return m ? (m[1] as string) : null;
}

export async function parseReport(raw: string | Buffer): Promise<ParsedReport> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true });
  // A reader's mail client following the mailto in List-Unsubscribe: "unsubscribe <token>".
  const request = /^\s*unsubscribe\s+([\w-]+\.[\w-]+)\s*$/i.exec(mail.subject ?? '');
  if (request) return { bounces: [], unsubscribeToken: request[1] as string };
  const parts = mail.attachments.map((a) => ({ type: a.contentType.toLowerCase(), text: a.content.toString('utf8') }));
  const original = parts.find((p) => p.type === 'message/rfc822' || p.type === 'text/rfc822-headers' || p.type === 'message/rfc822-headers')?.text;
  const body = mail.text ?? '';
  // Our own Message-IDs have one shape; found anywhere in the report (a returned original marked
  // inline is folded into the text by the parser), they name the delivery. Otherwise the
  // original's Message-ID, if it quotes one.
  const ours = /<recap\.\d+\.\d+\.[\w-]+@[^>\s]+>/.exec(typeof raw === 'string' ? raw : raw.toString('utf8'))?.[0];
  const messageId = ours ?? messageIdIn(original) ?? messageIdIn(body.slice(body.search(/^Message-ID:/im)));

  // RFC 5965 complaint: Feedback-Type: abuse (the report may come as a part or inline).
  const feedback = parts.find((p) => p.type === 'message/feedback-report')?.text ?? (/^Feedback-Type:/im.test(body) ? body : undefined);
  if (feedback) {
    const [fields] = fieldBlocks(feedback);
    const type = fields?.get('feedback-type')?.toLowerCase() ?? 'abuse';
    if (type !== 'abuse' && type !== 'fraud') return { bounces: [], note: `a feedback report of type ${type}, not a complaint` };
    const originalTo = /^To:\s*(.+)$/im.exec(original ?? '')?.[1];
    const email = addressOf(fields?.get('original-rcpt-to')) ?? addressOf(originalTo);
    return { bounces: [{ email, messageId, kind: 'complaint', reason: 'complaint', status: null, diagnostic: `feedback-type: ${type}`, source: 'arf' }] };
  }

  // RFC 3464 delivery status notification.
  const dsn = parts.find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status')?.text;
  if (dsn) {
    const [, ...recipients] = fieldBlocks(dsn);
    const bounces: ReportedBounce[] = [];
    for (const r of recipients) {
      const action = (r.get('action') ?? '').toLowerCase();
      if (action === 'delivered' || action === 'relayed' || action === 'expanded') continue;
      const diagnostic = r.get('diagnostic-code')?.replace(/^[a-z-]+;\s*/i, '') ?? null;
      const status = enhancedStatus(r.get('status') ?? '') ?? (diagnostic ? enhancedStatus(diagnostic) : null);
      // The address we sent to is the original recipient; the final one may be an alias behind it.
      const email = addressOf(r.get('original-recipient')) ?? addressOf(r.get('final-recipient'));
      if (action === 'delayed' || status?.startsWith('4')) {
        bounces.push({ email, messageId, kind: 'delayed', reason: 'undefined', status, diagnostic, source: 'dsn' });
        continue;
      }
      const c = classifyReply(Number(/^\d{3}/.exec(diagnostic ?? '')?.[0]) || 550, `${status ?? ''} ${diagnostic ?? ''}`.trim());
      bounces.push({ email, messageId, kind: c.class === 'transient' ? 'soft' : c.class, reason: c.reason, status: status ?? c.status, diagnostic, source: 'dsn' });
    }
    return bounces.length ? { bounces } : { bounces, note: 'a delivery status notification without failed recipients' };
  }

  // Old-style plain-text bounces (qmail, some gateways): the SMTP reply and the address in the text.
  const looksLikeBounce = /undeliver|delivery (status|has failed|failure)|failure notice|returned mail|mail delivery failed|could not be delivered/i.test(`${mail.subject ?? ''}\n${body}`);
  const reply = /\b([45]\d\d)[ -]((?:[245]\.\d{1,3}\.\d{1,3} )?[^\r\n]*)/.exec(body);
  const email = /<?([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)>?:?\s*(?:\r?\n|$)/.exec(body)?.[1]?.toLowerCase() ?? null;
  if (looksLikeBounce && reply && email) {
    const c = classifyReply(Number(reply[1]), `${reply[1]} ${reply[2]}`);
    return { bounces: [{ email, messageId, kind: c.class === 'transient' ? 'delayed' : c.class, reason: c.reason, status: c.status, diagnostic: `${reply[1]} ${reply[2]}`.trim(), source: 'dsn' }] };
  }
  return { bounces: [], note: 'neither a delivery status notification nor a feedback report' };
}
