// Each family of bounce writers, on small reports written in its shape (test/fixtures/bounce-formats):
// who failed, why (in Sisimai's taxonomy), and whether it suppresses. The rules protected: every
// recipient of a report is found and nobody else (never the sender, never a Message-ID); only a
// bad address or a complaint suppresses; a final failure with a 4.x.x status is not a delay.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentVerdict } from '../../src/audience/bounce-formats/agents.ts';
import { readFeedback } from '../../src/audience/bounce-formats/arf.ts';
import { readDsn } from '../../src/audience/bounce-formats/dsn.ts';
import { commandIn } from '../../src/audience/bounce-formats/fields.ts';
import { readPlainText, reportSection } from '../../src/audience/bounce-formats/plain-text.ts';
import { parseReport } from '../../src/audience/bounce-reports.ts';
import { type BounceReason, suppresses } from '../../src/delivery/classify.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/bounce-formats');

/** What a report says, reduced to what matters: recipient, kind, reason, and whether it suppresses. */
async function verdicts(name: string) {
  const report = await parseReport(readFileSync(join(FIXTURES, name)));
  return report.bounces.map((b) => ({ email: b.email, kind: b.kind, reason: b.reason, suppresses: suppresses(b.kind) }));
}

describe('RFC 3464 delivery status notifications', () => {
  it('reads the recipient of a delivery-status part with a single block', async () => {
    expect(await verdicts('dsn-single-block.eml')).toEqual([{ email: 'single@example.net', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('takes Action: failed with 4.4.7 as a final (soft) failure, and passes over a delivered recipient in a group without blank lines', async () => {
    expect(await verdicts('dsn-expired-and-delivered.eml')).toEqual([{ email: 'late@example.org', kind: 'soft', reason: 'expired', suppresses: false }]);
  });

  it('calls a user unknown at end of DATA "filtered" and a refused sender of ours "rejected": neither suppresses', async () => {
    expect(await verdicts('dsn-after-data-and-sender.eml')).toEqual([
      { email: 'filtered@example.com', kind: 'policy', reason: 'filtered', suppresses: false },
      { email: 'oursender@example.com', kind: 'policy', reason: 'rejected', suppresses: false },
    ]);
  });

  it('reads a success report (Action: deliverable) as no bounce at all, and says so', async () => {
    const success = [
      'From: MAILER-DAEMON@mx.example.org',
      'To: recap@recap.test',
      'Subject: Mail Delivery Status Report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="s"',
      '',
      '--s',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      'Final-Recipient: rfc822; happy@example.org',
      'Action: deliverable',
      'Status: 2.1.5',
      '',
      '--s--',
      '',
    ].join('\n');
    expect(await parseReport(success)).toEqual({ bounces: [], note: 'a delivery status notification without failed recipients (a success report)' });
  });

  it('reads the raw body when the parts do not use the boundary the header names', async () => {
    expect(await verdicts('postfix-boundary-mismatch.eml')).toEqual([{ email: 'lost@example.org', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('keeps the Original-Recipient (the address we sent to) and the Final-Recipient beside it', () => {
    const part = 'Reporting-MTA: dns; mx.example\n\nOriginal-Recipient: rfc822; list@example.com\nFinal-Recipient: rfc822; person@example.com\nAction: failed\nStatus: 5.1.1\n';
    expect(readDsn(part, '')).toEqual([{ email: 'list@example.com', finalRecipient: 'person@example.com', status: '5.1.1', diagnostic: '', action: 'failed', command: null }]);
  });

  it('keeps the receiving host of Remote-MTA', () => {
    const part = 'Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.0.0\nRemote-MTA: dns; MX3.QQ.COM\nDiagnostic-Code: smtp; 550 Mailbox not found.\n';
    expect(readDsn(part, '')[0]?.remoteHost).toBe('mx3.qq.com');
  });

  it('reads the SMTP command from the human-readable part, per recipient', () => {
    expect(commandIn('said: 550 User unknown (in reply to end of DATA command)')).toBe('DATA');
    expect(commandIn('SMTP error from remote mail server after RCPT TO:<a@b.example>:')).toBe('RCPT');
    expect(commandIn('>>> DATA\n<<< 550 5.7.1 Refused')).toBe('DATA');
    expect(commandIn('mx.b.example [192.0.2.25] did not like our RCPT TO:\n550 User unknown')).toBe('RCPT');
    expect(commandIn('550 5.1.1 User unknown')).toBeNull();
    // qmail's own words for the steps.
    expect(commandIn('192.0.2.153 does not like recipient.\nRemote host said: 550 User Unknown')).toBe('RCPT');
    expect(commandIn('192.0.2.153 failed after I sent the message.\nRemote host said: 554 Refused')).toBe('DATA');
    expect(commandIn('192.0.2.153 failed on DATA command.\nRemote host said: 554 Refused')).toBe('DATA');
    expect(commandIn('Connected to 192.0.2.153 but sender was rejected.\nRemote host said: 553 No such user')).toBe('MAIL');
  });

  it('does not believe a "user unknown" without a witness (no 5.1.x status, no RCPT TO): filtered, nobody suppressed', async () => {
    expect(await verdicts('dsn-unknown-without-witness.eml')).toEqual([{ email: 'gone@example.co.jp', kind: 'policy', reason: 'filtered', suppresses: false }]);
  });

  it("takes PowerMTA's X-PowerMTA-BounceCategory as its verdict", async () => {
    expect(await verdicts('powermta-bad-mailbox.eml')).toEqual([{ email: 'nobody@mail.example.com', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('au (KDDI): "550 : User unknown" naming nobody is the reader\'s filter; with the address named, the mailbox does not exist', async () => {
    expect(await verdicts('kddi-filter-and-unknown.eml')).toEqual([
      { email: 'picky@ezweb.ne.jp', kind: 'policy', reason: 'filtered', suppresses: false },
      { email: 'gone@ezweb.ne.jp', kind: 'hard', reason: 'userunknown', suppresses: true },
    ]);
  });

  it("takes the agents' own vocabulary only from their own reports", () => {
    const cases: Array<[string, string, BounceReason | null]> = [
      ['Your message wasn\'t delivered to a@b.example because the address couldn\'t be found. Check for typos or unnecessary spaces and try again.', "because the address couldn't be found", 'userunknown'],
      ['Delivery has failed to these recipients or groups:\n a@b.example\n 550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found', 'userunknown'],
      ['------- Failure Reasons --------\nUser a@b.example not listed in Domino Directory', 'User a@b.example not listed in Domino Directory', 'userunknown'],
      ['Hi. This is the qmail-send program at mx.b.example.\n<a@b.example>:\nSorry, no mailbox here by that name. (#5.1.1)', 'Sorry, no mailbox here by that name.', 'userunknown'],
      ['This message was created automatically by Facebook.\n\nRCP-P2 The attempted recipient\'s preferences prevent messages from being delivered.', 'RCP-P2', 'filtered'],
      ['This message was created automatically by Facebook.\n\nPOL-P3 Facebook is not accepting messages from your mail server.', 'POL-P3', 'blocked'],
      // Another agent's report with the same words is not their verdict.
      ['This is the mail system at mx.b.example.\n<a@b.example>: RCP-P1 no', 'RCP-P1 no', null],
      ['This is the mail system at mx.b.example.\n<a@b.example>: Sorry, no mailbox here by that name', 'Sorry, no mailbox here by that name', null],
    ];
    for (const [report, diagnostic, reason] of cases) expect(agentVerdict(report, diagnostic)).toBe(reason);
  });

  it("McAfee: its own report's words are its verdict (the same DSN from another agent is not believed)", async () => {
    expect(await verdicts('mcafee-delivery-problems.eml')).toEqual([{ email: 'gone@example.co.jp', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });
});

describe('RFC 5965 feedback reports and Microsoft JMRP', () => {
  it('reads every Original-Rcpt-To of a complaint, with our original Message-ID', async () => {
    const report = await parseReport(readFileSync(join(FIXTURES, 'arf-several-redacted.eml')));
    expect(report.bounces.map((b) => [b.email, b.kind, b.messageId])).toEqual([
      ['one@example.net', 'complaint', '<orig-11@recap.test>'],
      ['two@example.net', 'complaint', '<orig-11@recap.test>'],
    ]);
  });

  it('names nobody for a redacted recipient (the Message-ID finds the reader)', () => {
    expect(readFeedback('Feedback-Type: abuse\nOriginal-Rcpt-To: redacted@example.net\n', 'To: redacted\n')).toEqual({ type: 'abuse', recipients: [] });
  });

  it('reads a JMRP complaint whose original comes back inline', async () => {
    const report = await parseReport(readFileSync(join(FIXTURES, 'jmrp-inline.eml')));
    expect(report.bounces.map((b) => [b.email, b.kind, b.messageId])).toEqual([['angry@outlook.example', 'complaint', '<orig-12@recap.test>']]);
  });

  it('records an authentication-failure report as a policy matter, never a complaint', async () => {
    expect(await verdicts('arf-auth-failure.eml')).toEqual([{ email: 'reader@receiver.example', kind: 'policy', reason: 'securityerror', suppresses: false }]);
  });
});

describe('prose bounces, by family', () => {
  it('qmail: every "<addr>:" paragraph, the status inside the text ("#5.1.1 - chkusr")', async () => {
    expect(await verdicts('qmail-chkusr.eml')).toEqual([
      { email: 'gone@example.jp', kind: 'hard', reason: 'userunknown', suppresses: true },
      { email: 'stuffed@example.jp', kind: 'soft', reason: 'networkerror', suppresses: false },
    ]);
  });

  it('qmail: "does not like recipient" is a refusal at RCPT TO (a user unknown, whatever the 5.2.1); "failed after I sent the message" one after DATA', async () => {
    expect(await verdicts('qmail-mailbox-status.eml')).toEqual([
      { email: 'gone@example.jp', kind: 'hard', reason: 'userunknown', suppresses: true },
      { email: 'picky@example.jp', kind: 'policy', reason: 'filtered', suppresses: false },
    ]);
  });

  it('Exim: both recipients, each with its own reply', async () => {
    expect(await verdicts('exim-two-recipients.eml')).toEqual([
      { email: 'nobody@example.org', kind: 'hard', reason: 'userunknown', suppresses: true },
      { email: 'quota@example.org', kind: 'soft', reason: 'mailboxfull', suppresses: false },
    ]);
  });

  it('Sendmail: a transcript with two hosts; the open-relay refusal of our MAIL FROM suppresses nobody', async () => {
    expect(await verdicts('sendmail-transcript.eml')).toEqual([
      { email: 'someone@relay.example.com', kind: 'policy', reason: 'blocked', suppresses: false },
      { email: 'ghost@example.edu', kind: 'hard', reason: 'userunknown', suppresses: true },
    ]);
  });

  it('Exchange 2003: the recipient "on DATE", not the addresses of the summary of the original', async () => {
    expect(await verdicts('exchange2003-ndr.eml')).toEqual([{ email: 'reader@example.co.jp', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('Gmail: "Delivery to the following recipient failed permanently"', async () => {
    expect(await verdicts('gmail-permanent.eml')).toEqual([{ email: 'missing@example.com', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('Yahoo: "Remote host said: … blocked using" a blocklist is policy, never a suppression', async () => {
    expect(await verdicts('yahoo-remote-host.eml')).toEqual([{ email: 'blocked@example.net', kind: 'policy', reason: 'blocked', suppresses: false }]);
  });

  it('a Japanese carrier writing ISO-2022-JP: decoded, the recipient after "Could not be delivered to"', async () => {
    const report = await parseReport(readFileSync(join(FIXTURES, 'kddi-iso-2022-jp.eml')));
    expect(report.bounces.map((b) => [b.email, b.kind, b.reason])).toEqual([['full@ezweb.example.ne.jp', 'soft', 'mailboxfull']]);
    expect(report.bounces[0]?.diagnostic).toContain('メールボックスがいっぱい');
  });

  it('a Latin-1, quoted-printable report is decoded before it is read', async () => {
    expect(await verdicts('latin1-qp.eml')).toEqual([{ email: 'inconnu@laposte.example', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('Lotus Notes: the reason first, then the address', async () => {
    expect(await verdicts('notes-failure-reasons.eml')).toEqual([{ email: 'nobody@notes.example.co.jp', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('DragonFly: "There was an error delivering your mail to <addr>"', async () => {
    expect(await verdicts('dragonfly-dns.eml')).toEqual([{ email: 'reader@gone.example.org', kind: 'hard', reason: 'hostunknown', suppresses: true }]);
  });

  it('Google Groups: a group one may not post to is not a bad address', async () => {
    expect(await verdicts('googlegroups-no-permission.eml')).toEqual([{ email: 'some-group@googlegroups.com', kind: 'policy', reason: 'rejected', suppresses: false }]);
  });

  it('Verizon MMS: no address in the words, the returned original\'s sole recipient', async () => {
    expect(await verdicts('verizon-mms.eml')).toEqual([{ email: '5550100@mms.example.com', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });

  it('never takes the sender, an address of the returned original, or a Message-ID for a recipient', () => {
    const body = [
      'Delivery has failed to these recipients:',
      '',
      '<abc123.def@mx.example.com>',
      'recap@recap.test',
      '<dead@example.org>: 550 5.1.1 User unknown',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      'To: other@example.org',
    ].join('\n');
    const failures = readPlainText(body, { notRecipients: new Set(['recap@recap.test', 'abc123.def@mx.example.com']), failedRecipients: [], originalTo: [] });
    expect(failures.map((f) => f.email)).toEqual(['dead@example.org']);
  });

  it("never takes the reporter's own postmaster or helpdesk, named for help, for a recipient", () => {
    const body = 'Your message could not be delivered to one or more recipients.\nFor further assistance, please write to <support@isp.example>.\n\nThe mail to dead@example.org failed: 550 5.1.1 User unknown\n';
    const failures = readPlainText(body, { notRecipients: new Set(), failedRecipients: [], originalTo: [], reporter: 'relay00.isp.example' });
    expect(failures.map((f) => f.email)).toEqual(['dead@example.org']);
  });

  it('ends the report at the returned original, whichever marker announces it', () => {
    for (const marker of ['--- Below this line is a copy of the message.', '------ This is a copy of the message, including all the headers. ------', '----- Original message -----', '   ----- Unsent message follows -----']) {
      expect(reportSection(`<a@b.example>: 550 no\n\n${marker}\nTo: c@d.example\n`)).toBe('<a@b.example>: 550 no\n\n');
    }
  });
});

describe('Amazon SES notifications mailed by SNS', () => {
  it('reads the JSON body, its long lines folded with "!"', async () => {
    expect(await verdicts('ses-sns-mail.eml')).toEqual([{ email: 'ses-gone@example.org', kind: 'hard', reason: 'userunknown', suppresses: true }]);
  });
});
