// Amazon SES notifications (bounce and complaint JSON), as the SNS webhook posts them or as SNS
// mails them ("email" subscriptions: the JSON is the body, long lines folded with "!" + newline).
import { classifyFailure } from '../../delivery/classify.ts';
import type { ReportedBounce } from '../bounce-reports.ts';

type Source = ReportedBounce['source'];

/** The SES notification in a mailed SNS body, if the body is one. */
export function sesNotificationIn(body: string): Record<string, unknown> | null {
  const start = body.indexOf('{"notificationType"');
  if (start < 0) return null;
  const text = body.slice(start).replace(/!\r?\n /g, '');
  const end = text.lastIndexOf('}');
  try {
    return JSON.parse(text.slice(0, end + 1)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Bounces and complaints of an SES notification; deliveries and anything else give none. */
export function sesBounces(message: Record<string, unknown>, source: Source): ReportedBounce[] {
  const type = String(message.notificationType ?? message.eventType ?? '');
  const mail = (message.mail ?? {}) as { commonHeaders?: { messageId?: string } };
  const messageId = mail.commonHeaders?.messageId ?? null;
  if (type === 'Bounce') {
    const bounce = (message.bounce ?? {}) as { bounceType?: string; bouncedRecipients?: Array<{ emailAddress?: string; status?: string; diagnosticCode?: string }> };
    return (bounce.bouncedRecipients ?? []).map((r) => {
      const email = r.emailAddress?.toLowerCase() ?? null;
      const status = r.status ?? null;
      const diagnostic = r.diagnosticCode ?? null;
      // Permanent is SES's word for "this address is bad"; the diagnostic still gets the last
      // word, so a 5.7.x policy rejection reported as Permanent does not suppress the reader.
      if (!status && !diagnostic) {
        const hard = bounce.bounceType === 'Permanent';
        return { email, messageId, kind: hard ? 'hard' : 'soft', reason: hard ? 'userunknown' : 'undefined', status: null, diagnostic: null, source };
      }
      const c = classifyFailure(status, diagnostic ?? '', null, { recipient: email });
      const kind = bounce.bounceType === 'Transient' && c.class === 'hard' ? 'soft' : c.class === 'transient' ? 'delayed' : c.class;
      return { email, messageId, kind, reason: c.reason, status: c.status, diagnostic, source };
    });
  }
  if (type === 'Complaint') {
    const complaint = (message.complaint ?? {}) as { complainedRecipients?: Array<{ emailAddress?: string }>; complaintFeedbackType?: string };
    // "not-spam" is a reader taking a message out of spam: the opposite of a complaint.
    if (complaint.complaintFeedbackType === 'not-spam') return [];
    return (complaint.complainedRecipients ?? []).map((r) => ({
      email: r.emailAddress?.toLowerCase() ?? null,
      messageId,
      kind: 'complaint' as const,
      reason: 'complaint' as const,
      status: null,
      diagnostic: `feedback-type: ${complaint.complaintFeedbackType ?? 'abuse'}`,
      source,
    }));
  }
  return [];
}
