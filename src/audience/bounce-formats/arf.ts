// RFC 5965 feedback reports (complaints and authentication-failure reports), as a
// message/feedback-report part or written inline, and Microsoft's JMRP complaints (the original
// message returned with X-HmXmrOriginalRecipient). The recipient is often redacted: then we name
// nobody and the report is matched by our Message-ID in the returned original.
import { addressOf, fieldBlocks, first } from './fields.ts';

export interface Feedback {
  type: string;
  /** Who complained: Original-Rcpt-To (one per recipient), else the original's To; [] when redacted. */
  recipients: string[];
}

const redacted = (address: string) => /^redacted@|@[^@]*\.invalid$/i.test(address) || !/@[\w-]+\.[\w.-]+$/.test(address);

export function readFeedback(report: string, original: string | undefined): Feedback {
  const [fields] = fieldBlocks(report);
  const type = first(fields, 'feedback-type')?.toLowerCase() ?? 'abuse';
  const named = (fields?.get('original-rcpt-to') ?? []).map(addressOf);
  const headers = original ? fieldBlocks(original)[0] : undefined;
  const fromOriginal = [addressOf(first(headers, 'x-hmxmroriginalrecipient')), addressOf(first(headers, 'to'))];
  const recipients = [...new Set((named.some(Boolean) ? named : fromOriginal).filter((a): a is string => !!a && !redacted(a)))];
  return { type, recipients: named.some(Boolean) ? recipients : recipients.slice(0, 1) };
}

/** A Hotmail/Outlook.com JMRP complaint: no report part, only the original with this header. */
export function isJmrp(original: string | undefined): boolean {
  return !!original && /^X-HmXmrOriginalRecipient:/im.test(original.split(/\r?\n\r?\n/)[0] ?? '');
}
