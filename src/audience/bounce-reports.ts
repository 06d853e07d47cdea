// Reads what mail servers send back: RFC 3464 delivery status notifications, RFC 5965 feedback
// reports, Amazon SES notifications mailed by SNS, and the prose bounces most agents still write
// (bounce-formats/), as single messages or an mbox, with LF or CRLF line ends. Each report becomes
// one entry per recipient, classified by one classifier (classifyFailure) in Sisimai's taxonomy.
import { type AddressObject, simpleParser } from 'mailparser';
import { type BounceReason, classifyFailure, classOf } from '../delivery/classify.ts';
import { agentVerdict } from './bounce-formats/agents.ts';
import { isJmrp, readFeedback } from './bounce-formats/arf.ts';
import { paragraphAbout, readDsn } from './bounce-formats/dsn.ts';
import { ADDRESS_SOURCE, cleanAddress, type Failure, squeeze } from './bounce-formats/fields.ts';
import { readPlainText, reportSection } from './bounce-formats/plain-text.ts';
import { sesBounces, sesNotificationIn } from './bounce-formats/ses.ts';

export interface ReportedBounce {
  /** The recipient the report is about, when it names one (complaints are often redacted). */
  email: string | null;
  /** Where the report also names the final recipient (an alias the original address led to). */
  finalRecipient?: string;
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

const MESSAGE_ID_FIELDS = /^(?:Message-ID|In-Reply-To|References|X-Message-ID|Original-Message-ID)\s*:\s*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/gim;

function messageIdIn(text: string | undefined): string | null {
  const m = text ? /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(text) : null;
  return m ? (m[1] as string) : null;
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value).flatMap((a) => (a.address ? [a.address.toLowerCase()] : []));
}

/** The addresses of a header field in a raw block ("From: A <a@b>"). */
function headerAddresses(block: string | undefined, names: string): string[] {
  if (!block) return [];
  const head = block.split(/\r?\n\r?\n/)[0] ?? '';
  const re = new RegExp(`^(?:${names})\\s*:([^\\n]*(?:\\n[ \\t][^\\n]*)*)`, 'gim');
  return [...head.matchAll(re)].flatMap((m) => [...(m[1] as string).matchAll(new RegExp(ADDRESS_SOURCE, 'g'))].map((a) => cleanAddress(a[0])));
}

const AUTO_REPLY = /out of (the )?office|auto(matic)?[ -]?(reply|response|antwort)|vacation|abwesenheit|absence|away from|autoreply|^auto:/i;
const BOUNCE_SENDER = /mailer-daemon|post_?master|mail ?delivery|delivery ?(subsystem|system|notification)|mail ?administrator|mailer|daemon|bounce|nobody@/i;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (status|has failed|failure|failed|problem|notification|report)|failure notice|returned mail|mail delivery failed|could not be delivered|not (be )?delivered|returned to sender|rejected|failed|nondeliverable|non-delivery|unzustellbar|non remis|problem|error|warning|permanent|エラー|失敗|返送|不達/i;
const DELAY_ONLY = /will (continue to |keep )?(re)?try|this is (only )?a warning|warning: (could not|message)|has not (yet )?been delivered|not been delivered yet|still (being )?retried|delayed|will be retried/i;
const FINAL = /permanent|given up|giving up|gave up|failed permanently|could not be delivered|couldn't be delivered|not be delivered|unable to deliver|undeliverable|fatal error|rejected|does not exist|user unknown/i;
/** Words only a failure report writes. */
const FAILED = /could not be delivered|couldn't be delivered|undeliverable|unable to deliver|delivery (has )?failed|permanent (fatal )?error|was not delivered|wasn't delivered|failed to deliver|did not reach|delivery to the following recipient/i;
const SUCCESS = new Set(['delivered', 'relayed', 'expanded', 'deliverable']);

/**
 * A failure classified; `context` is the report's words about it, for when its own diagnostic
 * says nothing, and `report` all of the report's own words (where its agent shows itself).
 */
function classified(f: Failure, messageId: string | null, context: string, report: string): ReportedBounce | null {
  if (f.action && SUCCESS.has(f.action)) return null;
  const words = f.diagnostic || context;
  const final = f.finalRecipient ? { finalRecipient: f.finalRecipient } : {};
  if (f.action === 'delayed') return { email: f.email, ...final, messageId, kind: 'delayed', reason: 'undefined', status: f.status, diagnostic: words || null, source: 'dsn' };
  let used = words;
  const receiver = { recipient: f.email, host: f.remoteHost ?? null };
  let c = classifyFailure(f.status, used, f.command, receiver);
  // Words that say nothing about the cause: what the rest of the report says.
  if (c.reason === 'undefined' && context && context !== words) {
    c = classifyFailure(f.status ?? c.status, `${words} ${context}`, f.command, receiver);
    used = squeeze(`${words} ${context}`);
  }
  const verdict = f.verdict ?? agentVerdict(report, used);
  if (verdict) c = { ...c, reason: verdict, class: classOf(verdict, true) };
  return { email: f.email, ...final, messageId, kind: c.class === 'transient' ? 'soft' : c.class, reason: c.reason, status: c.status, diagnostic: used || null, source: 'dsn' };
}

export async function parseReport(raw: string | Buffer): Promise<ParsedReport> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true });
  // A reader's mail client following the mailto in List-Unsubscribe: "unsubscribe <token>".
  const request = /^\s*unsubscribe\s+([\w-]+\.[\w-]+)\s*$/i.exec(mail.subject ?? '');
  if (request) return { bounces: [], unsubscribeToken: request[1] as string };
  const rawText = typeof raw === 'string' ? raw : raw.toString('utf8');
  const parts = mail.attachments.map((a) => ({ type: a.contentType.toLowerCase(), text: a.content.toString('utf8') }));
  const original = parts.find((p) => p.type === 'message/rfc822' || p.type === 'text/rfc822-headers' || p.type === 'message/rfc822-headers')?.text;
  // A multipart whose boundary the parts do not use (a header "BOUNDARY=" the parser misses, a
  // boundary changed on the way) leaves the parser no text: then the raw body is the text.
  const rawBody = rawText.slice(rawText.search(/\r?\n\r?\n/) + 1);
  const body = ((mail.text ?? '').trim() !== '' || parts.length > 0 ? (mail.text ?? '') : rawBody).replace(/\r\n/g, '\n');
  // Our own Message-IDs have one shape; found anywhere in the report (a returned original marked
  // inline is folded into the text by the parser), they name the delivery. Otherwise the
  // original's Message-ID, if it quotes one.
  const ours = /<recap\.\d+\.\d+\.[\w-]+@[^>\s]+>/.exec(rawText)?.[0];
  const quoted = body.slice(reportSection(body).length);
  // A Microsoft JMRP complaint returns the original inline, which the parser folds into the text
  // without its header: read that from the raw mail.
  const jmrp = isJmrp(original) ? original : /^X-HmXmrOriginalRecipient:/im.test(rawText) ? rawText.slice(rawText.search(/^X-HmXmrOriginalRecipient:/im)) : undefined;
  const messageId = ours ?? messageIdIn(original) ?? messageIdIn(quoted) ?? messageIdIn(jmrp);

  // RFC 5965 feedback report (a part, or inline), or a Microsoft JMRP complaint.
  const feedback = parts.find((p) => p.type === 'message/feedback-report')?.text ?? (/^Feedback-Type:/im.test(body) ? body.slice(body.search(/^Feedback-Type:/im)) : undefined);
  if (feedback || jmrp) {
    const report = readFeedback(feedback ?? '', original ?? jmrp ?? (feedback ? body : undefined));
    const kind = report.type === 'abuse' || report.type === 'fraud' || report.type === 'virus' || report.type === 'other' ? 'complaint' : report.type === 'auth-failure' ? 'policy' : null;
    if (!kind) return { bounces: [], note: `a feedback report of type ${report.type}, not a complaint` };
    const reason = kind === 'complaint' ? 'complaint' : 'securityerror';
    const entry = (email: string | null): ReportedBounce => ({ email, messageId, kind, reason, status: null, diagnostic: `feedback-type: ${report.type}`, source: 'arf' });
    return { bounces: report.recipients.length ? report.recipients.map(entry) : [entry(null)] };
  }

  // Amazon SES notifications mailed by SNS.
  const ses = sesNotificationIn(body);
  if (ses) {
    const bounces = sesBounces(ses, 'dsn');
    return bounces.length ? { bounces } : { bounces, note: `an Amazon SES ${String(ses.notificationType)} notification, not a bounce` };
  }

  const human = reportSection(body);
  // Where the report's agent shows itself: its words, also when sent as a text attachment (McAfee).
  const reportWords = [human, ...parts.filter((p) => p.type === 'text/plain').map((p) => reportSection(p.text))].join('\n');
  // RFC 3464: a delivery-status part, or its fields written into the text.
  const dsn = parts.find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status')?.text ?? (/^(Final|Original)-Recipient:/im.test(human) ? human : undefined);
  if (dsn) {
    const failures = readDsn(dsn, human);
    if (failures.length > 0) {
      const bounces = failures.flatMap((f) => classified(f, messageId, paragraphAbout(human, [f.email, f.finalRecipient ?? null]), reportWords) ?? []);
      return bounces.length ? { bounces } : { bounces, note: 'a delivery status notification without failed recipients (a success report)' };
    }
  }

  const subject = mail.subject ?? '';
  const from = addressesOf(mail.from);
  const sender = `${mail.from?.text ?? ''} ${mail.headers.get('return-path') ? JSON.stringify(mail.headers.get('return-path')) : ''}`;
  const failedRecipients = String(mail.headers.get('x-failed-recipients') ?? '')
    .split(/[,\s]+/)
    .flatMap((a) => (a.includes('@') ? [cleanAddress(a.replace(/[<>]/g, ''))] : []));
  const looksLikeBounce = failedRecipients.length > 0 || BOUNCE_SENDER.test(sender) || BOUNCE_SUBJECT.test(subject) || FAILED.test(human);
  if (!looksLikeBounce || (AUTO_REPLY.test(subject) && !FINAL.test(human))) {
    return { bounces: [], note: AUTO_REPLY.test(subject) ? 'an automatic reply (out of office), not a bounce' : 'neither a bounce nor a feedback report' };
  }
  const notRecipients = new Set([
    ...from,
    ...addressesOf(mail.to),
    ...addressesOf(mail.replyTo),
    ...headerAddresses(original ?? quoted, 'From|Sender|Return-Path|Reply-To'),
    ...[...rawText.matchAll(MESSAGE_ID_FIELDS)].flatMap((m) => [...(m[1] as string).matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((id) => cleanAddress(id[1] as string))),
  ]);
  // When the words name nobody, the returned original's recipient if it had only one.
  const originalTo = headerAddresses(original ?? quoted, 'To|Cc').filter((a) => !notRecipients.has(a));
  const reporter = from[0]?.split('@')[1] ?? null;
  const failures = readPlainText(body, { notRecipients, failedRecipients, originalTo: originalTo.length === 1 ? originalTo : [], reporter });
  if (failures.length === 0) return { bounces: [], note: 'a bounce that names no recipient we can read' };
  const delayOnly = DELAY_ONLY.test(`${subject}\n${human}`) && !FINAL.test(`${subject}\n${human}`);
  // With one recipient, the whole report is about it (MailMarshal gives the reason above the list).
  const bounces = failures.flatMap((f) => (delayOnly ? { ...f, action: 'delayed' } : f)).flatMap((f) => classified(f, messageId, failures.length === 1 ? human : '', reportWords) ?? []);
  return { bounces };
}
