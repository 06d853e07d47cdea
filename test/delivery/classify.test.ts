// What an SMTP reply says about the address, checked against replies worded the way real servers
// word them (Postfix, Exim, Sendmail, Gmail, Outlook / Office 365, Yahoo, Amazon SES diagnostics).
// The rule being protected: only what is really the address's fault suppresses it. A 5.7.x policy,
// spam, reputation or authentication rejection never does, whatever its text says.
import { describe, expect, it } from 'vitest';
import { type BounceClass, type BounceReason, classifyFailure, classifyReply, enhancedStatus, statusInText } from '../../src/delivery/classify.ts';
import { retryTime } from '../../src/delivery/send.ts';

interface Case {
  /** Who writes a reply like this. */
  who: string;
  /** The basic reply code; undefined is no reply at all (refused, dropped, timed out). */
  code: number | undefined;
  text: string;
  class: BounceClass;
  /** The reason, or the reasons that are equally right for it. */
  reason: BounceReason | BounceReason[];
  status: string | null;
}

/** Gmail writes its replies as multi-line responses, each line prefixed with the code. */
function multiline(code: number, status: string, lines: string[]): string {
  return lines.map((line, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${status} ${line}`).join('\n');
}

const cases: Case[] = [
  // Postfix ---------------------------------------------------------------------------------------
  {
    who: 'Postfix, unknown local user',
    code: 550,
    text: '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    who: 'Postfix, virtual alias table',
    code: 550,
    text: '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual alias table',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    who: 'Postfix, greylisting (postgrey)',
    code: 450,
    text: '450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
    class: 'transient',
    reason: 'systemerror',
    status: '4.2.0',
  },
  {
    // Our IP is on a DNS block list: that is "blocked", not a judgement of the message as spam.
    who: 'Postfix, DNSBL (Spamhaus)',
    code: 554,
    text: '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.5',
    class: 'policy',
    reason: 'blocked',
    status: '5.7.1',
  },
  {
    who: 'Postfix, check_recipient_access REJECT',
    code: 554,
    text: '554 5.7.1 <x@example.com>: Recipient address rejected: Access denied',
    class: 'policy',
    reason: ['blocked', 'policyviolation'],
    status: '5.7.1',
  },
  {
    who: 'Postfix, mailbox full',
    code: 552,
    text: '552 5.2.2 <x@example.com>: Recipient address rejected: Mailbox full',
    class: 'soft',
    reason: 'mailboxfull',
    status: '5.2.2',
  },

  // Exim (no enhanced status codes unless configured) ---------------------------------------------
  {
    who: 'Exim, unrouteable address',
    code: 550,
    text: '550 Unrouteable address',
    class: 'hard',
    reason: 'hostunknown',
    status: null,
  },
  {
    who: 'Exim, no such user',
    code: 550,
    text: '550-5.1.1 <x@example.com>: no such user here\n550 5.1.1 Verification failed for <x@example.com>',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    // A fault at the receiver, not a rate limit.
    who: 'Exim, temporary local problem',
    code: 451,
    text: '451 Temporary local problem - please try later',
    class: 'transient',
    reason: 'systemerror',
    status: null,
  },

  // Sendmail --------------------------------------------------------------------------------------
  {
    who: 'Sendmail, user unknown',
    code: 550,
    text: '550 5.1.1 <x@example.com>... User unknown',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    who: 'Sendmail, bad address syntax',
    code: 553,
    text: '553 5.1.3 <bad@>... Invalid address',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.3',
  },

  // Gmail -----------------------------------------------------------------------------------------
  {
    who: 'Gmail, no such account',
    code: 550,
    text: multiline(550, '5.1.1', [
      'The email account that you tried to reach does not exist. Please try',
      "double-checking the recipient's email address for typos or",
      'unnecessary spaces. For more information, go to',
      ' https://support.google.com/mail/?p=NoSuchUser d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    who: 'Gmail, over quota (temporary)',
    code: 452,
    text: multiline(452, '4.2.2', [
      'The email account that you tried to reach is over quota. Please direct',
      'the recipient to https://support.google.com/mail/?p=OverQuotaTemp d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'transient',
    reason: 'mailboxfull',
    status: '4.2.2',
  },
  {
    who: 'Gmail, unauthenticated mail (SPF and DKIM fail)',
    code: 550,
    text: multiline(550, '5.7.26', [
      'This mail is unauthenticated, which poses a security risk to the',
      'sender and Gmail users, and has been blocked. The sender must',
      'authenticate with at least one of SPF or DKIM. For this message,',
      'DKIM checks did not pass and SPF check for [example.com] did not',
      'pass with ip: [203.0.113.5]. The sender should visit',
      'https://support.google.com/mail/answer/81126#authentication for',
      'instructions on setting up authentication. d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'policy',
    reason: 'securityerror',
    status: '5.7.26',
  },
  {
    who: 'Gmail, DMARC policy',
    code: 550,
    text: multiline(550, '5.7.26', [
      'Unauthenticated email from example.com is not accepted due to',
      "domain's DMARC policy. Please contact the administrator of example.com",
      'domain if this was a legitimate mail. To learn about the DMARC',
      'initiative, go to https://support.google.com/mail/?p=DmarcRejection d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'policy',
    reason: 'securityerror',
    status: '5.7.26',
  },
  {
    // 5.7.26 is "multiple authentication checks failed" (RFC 7372): the mention of spam in
    // Gmail's boilerplate does not make it a spam verdict on the message.
    who: 'Gmail, authentication checks (older wording that mentions spam)',
    code: 550,
    text: multiline(550, '5.7.26', [
      'This message does not have authentication information or fails to',
      'pass authentication checks (SPF or DKIM). To best protect our users',
      'from spam, the message has been blocked. Please visit',
      ' https://support.google.com/mail/answer/81126#authentication for more information. d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'policy',
    reason: 'securityerror',
    status: '5.7.26',
  },
  {
    // A verdict on our IP's sending rate, not on this message: Sisimai calls it "blocked".
    who: 'Gmail, rate limited for unsolicited mail (temporary)',
    code: 421,
    text: multiline(421, '4.7.0', [
      '[203.0.113.5      15] Our system has detected an unusual rate of',
      'unsolicited mail originating from your IP address. To protect our',
      'users from spam, mail sent from your IP address has been temporarily',
      'rate limited. Please visit',
      ' https://support.google.com/mail/?p=UnsolicitedRateLimitError to',
      'review our Bulk Email Senders Guidelines. d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'transient',
    reason: ['toomanyconn', 'blocked'],
    status: '4.7.0',
  },
  {
    who: 'Gmail, likely unsolicited mail',
    code: 550,
    text: multiline(550, '5.7.1', [
      '[203.0.113.5      12] Our system has detected that this message is',
      'likely unsolicited mail. To reduce the amount of spam sent to Gmail,',
      'this message has been blocked. Please visit',
      ' https://support.google.com/mail/?p=UnsolicitedMessageError',
      ' for more information. d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'policy',
    reason: 'spamdetected',
    status: '5.7.1',
  },
  {
    // Our reputation, not the message's content: "blocked" (Sisimai: badreputation).
    who: 'Gmail, low reputation of the sending IP',
    code: 550,
    text: multiline(550, '5.7.1', [
      'Our system has detected that this message is likely suspicious due to',
      'the very low reputation of the sending IP address. To best protect our',
      'users from spam, the message has been blocked. Please visit',
      ' https://support.google.com/mail/answer/188131 for more information. d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp',
    ]),
    class: 'policy',
    reason: 'blocked',
    status: '5.7.1',
  },

  // Outlook.com / Office 365 ----------------------------------------------------------------------
  {
    // RFC 5321 gives "mailbox unavailable" as the generic 550 text, so the words alone could mean
    // anything. Outlook.com, however, uses exactly this reply for a Hotmail/Outlook address that
    // does not exist (Microsoft documents it next to 5.1.10; Sisimai maps it to userunknown), and
    // it never uses it for its IP blocks, which come as 5.7.x with an S-code. The text names the
    // mailbox and nothing about us, so we agree it is clear enough to be hard/userunknown.
    who: 'Outlook.com, mailbox unavailable',
    code: 550,
    text: '550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [DB5EUR03FT042.eop-EUR03.prod.protection.outlook.com 2026-11-30T08:00:00.000Z 08DD0000000000000]',
    class: 'hard',
    reason: 'userunknown',
    status: '5.5.0',
  },
  {
    who: 'Outlook.com, our network on their block list (S3150)',
    code: 550,
    text: "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5EUR03FT042.eop-EUR03.prod.protection.outlook.com 2026-11-30T08:00:00.000Z 08DD0000000000000]",
    class: 'policy',
    reason: 'blocked',
    status: '5.7.1',
  },

  // Yahoo -----------------------------------------------------------------------------------------
  {
    who: 'Yahoo, policy reasons',
    code: 554,
    text: '554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes',
    class: 'policy',
    reason: 'policyviolation',
    status: '5.7.9',
  },
  {
    who: 'Yahoo, TSS04 temporary deferral',
    code: 421,
    text: '421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    class: 'transient',
    reason: ['toomanyconn', 'blocked'],
    status: '4.7.0',
  },
  {
    who: 'Yahoo, mailbox not found (no enhanced code)',
    code: 552,
    text: '552 1 Requested mail action aborted, mailbox not found',
    class: 'hard',
    reason: 'userunknown',
    status: null,
  },

  // Diagnostic-Code as Amazon SES and DSNs write it -----------------------------------------------
  {
    who: 'Amazon SES diagnostic',
    code: 550,
    text: 'smtp; 550 5.1.1 user unknown',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },
  {
    who: 'a DSN diagnostic with no reply code of our own',
    code: undefined,
    text: 'smtp; 550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient table',
    class: 'hard',
    reason: 'userunknown',
    status: '5.1.1',
  },

  // The other hard codes ----------------------------------------------------------------------------
  {
    who: 'Gmail, disabled account',
    code: 550,
    text: '550 5.2.1 The email account that you tried to reach is disabled.',
    class: 'hard',
    reason: 'suspend',
    status: '5.2.1',
  },
  {
    who: 'null MX (RFC 7505)',
    code: 556,
    text: '556 5.1.10 Recipient address has null MX',
    class: 'hard',
    reason: ['hostunknown', 'notaccept'],
    status: '5.1.10',
  },
  {
    who: 'host unknown',
    code: 550,
    text: '550 5.1.2 Host unknown',
    class: 'hard',
    reason: 'hostunknown',
    status: '5.1.2',
  },

  // RFC 6531: the receiver (or our own relay) takes no UTF-8 address: its limit, not the mailbox's.
  { who: 'Postfix, SMTPUTF8 required', code: 553, text: '553 5.6.7 <josé@example.com>: SMTPUTF8 is required, but was not offered by host mx.example.com', class: 'policy', reason: 'policyviolation', status: '5.6.7' },
  { who: 'Exchange, non-ASCII address', code: 550, text: '550 5.6.7 Non-ASCII addresses not supported for this recipient', class: 'policy', reason: 'policyviolation', status: '5.6.7' },

  // No reply at all ---------------------------------------------------------------------------------
  { who: 'connection dropped', code: undefined, text: 'Connection closed unexpectedly', class: 'transient', reason: 'networkerror', status: null },
  { who: 'no greeting', code: undefined, text: 'Greeting never received', class: 'transient', reason: 'networkerror', status: null },
  { who: 'connection refused', code: undefined, text: 'connect ECONNREFUSED 127.0.0.1:2525', class: 'transient', reason: 'networkerror', status: null },
  { who: 'timeout', code: undefined, text: 'Timeout', class: 'transient', reason: 'networkerror', status: null },

  // Unclear ---------------------------------------------------------------------------------------
  { who: 'an unclear 5xx without an enhanced code', code: 554, text: '554 Transaction failed', class: 'soft', reason: 'undefined', status: null },
];

describe('classifyReply', () => {
  it.each(cases)('$who → $class / $reason', (c) => {
    const got = classifyReply(c.code, c.text);
    expect(got.class).toBe(c.class);
    expect(got.status).toBe(c.status);
    if (Array.isArray(c.reason)) expect(c.reason).toContain(got.reason);
    else expect(got.reason).toBe(c.reason);
  });

  it('never makes a 5.7.x rejection hard or soft, whatever words about the address it carries', () => {
    const replies = [
      '550 5.7.1 <x@example.com>: Recipient address rejected: user unknown (blocked by policy)',
      '550 5.7.1 Mailbox unavailable: message rejected as spam',
      '554 5.7.1 <x@example.com>: Relay access denied',
      '550 5.7.606 Access denied, banned sending IP [203.0.113.5]. To request removal from this list please visit https://sender.office.com/ and follow the directions.',
      '550 5.7.23 The message was rejected because of Sender Policy Framework violation',
      '550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected as spam by Content Filtering',
      '550 5.7.0 Mailbox does not exist',
    ];
    for (const text of replies) expect(classifyReply(550, text), text).toMatchObject({ class: 'policy' });
  });

  it('does not call an Office 365 tenant rejection (5.4.1 Access denied) hard', () => {
    // Directory-based edge blocking and tenant configuration: a whole organisation can answer this
    // for a while (a tenant mid-migration, a misconfigured accepted domain), so it must not
    // suppress the address on one reply.
    const got = classifyReply(
      550,
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM11FT012.eop-nam11.prod.protection.outlook.com 2026-11-30T08:00:00.000Z 08DD0000000000000]',
    );
    expect(got.status).toBe('5.4.1');
    expect(got.class).not.toBe('hard');
  });

  it('treats a 4xx as transient even when its words describe a bad address', () => {
    expect(classifyReply(450, '450 4.1.1 <x@example.com>: Recipient address rejected: unverified address: host mx.example.com said: 550 5.1.1 User unknown')).toMatchObject({
      class: 'transient',
      status: '4.1.1',
    });
    expect(classifyReply(421, '421 Service not available, closing transmission channel')).toMatchObject({ class: 'transient', status: null });
  });

  it('trusts the enhanced code over the basic one', () => {
    // A 550 basic code with a 4.x.x enhanced code is a temporary failure (RFC 3463 §3.1).
    expect(classifyReply(550, '550 4.2.1 Mailbox temporarily disabled').class).toBe('transient');
    // 5.2.2 is soft even where the text also says "recipient address rejected".
    expect(classifyReply(552, '552 5.2.2 <x@example.com>: Recipient address rejected: over quota')).toMatchObject({ class: 'soft', reason: 'mailboxfull' });
  });

  it('does not take an IP address in a reply without an enhanced code for one', () => {
    // Exim's default DNSBL rejection quotes our IP and carries no enhanced code. An IP such as
    // 5.1.1.9 or 85.4.118.20 contains something that looks like a status code; taking it for one
    // turns a block into a hard bounce (suppressing the reader) or a 550 into a retry.
    const hard = classifyReply(550, '550 rejected because 5.1.1.9 is in a black list at zen.spamhaus.org');
    expect(hard).toEqual({ class: 'policy', reason: 'blocked', status: null });
    const retried = classifyReply(550, '550 rejected because 85.4.118.20 is in a black list at zen.spamhaus.org');
    expect(retried).toEqual({ class: 'policy', reason: 'blocked', status: null });
  });
});

describe('enhancedStatus', () => {
  it.each([
    ['550 5.1.1 <x@example.com>: Recipient address rejected: User unknown', '5.1.1'],
    ['550-5.1.1 The email account that you tried to reach does not exist.', '5.1.1'],
    ['smtp; 550 5.1.1 user unknown', '5.1.1'],
    ['556 5.1.10 Recipient address has null MX', '5.1.10'],
    ['550-5.7.26 This mail is unauthenticated', '5.7.26'],
    ['421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred - 4.16.55.1', '4.7.0'],
    ['250 2.0.0 OK  1732953600 d75a77b69052e-4a7f1b2c3d4si123456cf.12 - gsmtp', '2.0.0'],
  ])('finds the code in %j', (text, status) => {
    expect(enhancedStatus(text)).toBe(status);
  });

  it.each([
    ['550 Unrouteable address'],
    ['552 1 Requested mail action aborted, mailbox not found'],
    ['554 Transaction failed'],
    ['connect ECONNREFUSED 127.0.0.1:2525'],
    ['Timeout'],
    [''],
  ])('returns null for %j', (text) => {
    expect(enhancedStatus(text)).toBeNull();
  });

  it('returns null for an IP address that merely looks like a code', () => {
    expect(enhancedStatus('550 rejected because 5.1.1.9 is in a black list at zen.spamhaus.org')).toBeNull();
    expect(enhancedStatus('550 rejected because 85.4.118.20 is in a black list at zen.spamhaus.org')).toBeNull();
  });
});

describe('retryTime', () => {
  const config = { maxAttempts: 20, retryBaseSeconds: 60, retryDeadlineHours: 24 * 14 };
  const now = new Date('2026-11-30T08:00:00Z');
  const queuedAt = '2026-11-30T07:00:00Z';
  const half = () => 0.5;
  /** The delay, in seconds, that retryTime chose after `attempts` earlier attempts. */
  const delay = (attempts: number, random: () => number, cfg = config): number | null => {
    const at = retryTime(cfg, { attempts, queued_at: queuedAt }, now, random);
    return at === null ? null : (Date.parse(at) - now.getTime()) / 1000;
  };

  it('doubles the delay with each attempt, from the base', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => delay(a, half))).toEqual([60, 120, 240, 480, 960, 1920]);
    expect(delay(0, half, { ...config, retryBaseSeconds: 300 })).toBe(300);
  });

  it('returns an ISO timestamp', () => {
    expect(retryTime(config, { attempts: 0, queued_at: queuedAt }, now, half)).toBe('2026-11-30T08:01:00.000Z');
  });

  it('keeps the jitter within ±25 %', () => {
    expect(delay(2, () => 0)).toBe(240 * 0.75);
    expect(delay(2, () => 0.999_999)).toBeLessThan(240 * 1.25);
    expect(delay(2, () => 0.999_999)).toBeGreaterThan(240 * 1.249);
    for (let i = 0; i < 200; i++) {
      const d = delay(3, Math.random) as number;
      expect(d).toBeGreaterThanOrEqual(480 * 0.75);
      expect(d).toBeLessThanOrEqual(480 * 1.25);
    }
  });

  it('gives up once the attempt that failed was the last one allowed', () => {
    const cfg = { ...config, maxAttempts: 6 };
    // attempts counts the earlier attempts; the one that just failed is attempts + 1.
    expect(delay(4, half, cfg)).not.toBeNull(); // the 5th failed: a 6th is allowed
    expect(delay(5, half, cfg)).toBeNull(); // the 6th failed: that was the last
    expect(delay(9, half, cfg)).toBeNull();
    expect(delay(0, half, { ...config, maxAttempts: 1 })).toBeNull();
  });

  it('gives up when the next attempt would fall past queued_at + the deadline', () => {
    const cfg = { ...config, retryDeadlineHours: 24 };
    const queued = '2026-11-29T08:00:00Z'; // a day before, less a minute or so below
    const at = (nowIso: string) => retryTime(cfg, { attempts: 0, queued_at: queued }, new Date(nowIso), half);
    expect(at('2026-11-30T07:58:00Z')).toBe('2026-11-30T07:59:00.000Z'); // due before the deadline
    expect(at('2026-11-30T07:59:00Z')).toBe('2026-11-30T08:00:00.000Z'); // exactly at it
    expect(at('2026-11-30T07:59:30Z')).toBeNull(); // 30 s past it
  });

  it('caps the backoff at 6 hours', () => {
    // 60 s · 2^9 = 8.5 h, over the cap.
    expect(delay(8, half)).toBe(60 * 2 ** 8);
    expect(delay(9, half)).toBe(6 * 3600);
    expect(delay(15, half)).toBe(6 * 3600);
    // The cap holds whatever the jitter: no retry waits longer than 6 hours.
    expect(delay(15, () => 0)).toBe(6 * 3600);
    expect(delay(15, () => 0.999)).toBe(6 * 3600);
  });
});

// What a bounce reports as final: the DSN's status, the remote's reply, and the SMTP command it answered.
describe('classifyFailure', () => {
  const cases: Array<{ who: string; status: string | null; text: string; command?: string; class: BounceClass; reason: BounceReason }> = [
    { who: 'a final failure with 4.4.7 (retries given up)', status: '4.4.7', text: '421 4.4.7 Message expired', class: 'soft', reason: 'expired' },
    { who: 'a null MX reported with a 4.x.x status', status: '4.0.0', text: "DNS type 'mx' lookup responded: returned Null MX", class: 'hard', reason: 'notaccept' },
    { who: 'user unknown at end of DATA, no precise code', status: '5.0.0', text: '550 User unknown', command: 'DATA', class: 'policy', reason: 'filtered' },
    { who: 'user unknown at DATA with a precise 5.1.1', status: '5.1.1', text: '550 5.1.1 <a@b.example>... User unknown', command: 'DATA', class: 'hard', reason: 'userunknown' },
    { who: 'a MAIL FROM refusal that says "does not exist"', status: '5.1.0', text: '553 5.1.0 neko.example.com does not exist', command: 'MAIL', class: 'policy', reason: 'rejected' },
    { who: 'the remote reply (mailbox full) over the DSN summary (5.1.1)', status: '5.1.1', text: '552 5.2.2 Over quota', class: 'soft', reason: 'mailboxfull' },
    { who: "a DSN's 5.7.1 over a codeless reply at RCPT TO that only says the mailbox is unknown", status: '5.7.1', text: '553 Invalid recipient kijitora@example.org (Mode: normal)', command: 'RCPT', class: 'hard', reason: 'userunknown' },
    { who: "a DSN's 5.7.1 over a codeless reply that names a blocklist", status: '5.7.1', text: '553 Invalid recipient: listed at zen.spamhaus.org', class: 'policy', reason: 'blocked' },
    { who: 'a recipient address that happens to say "filtered"', status: '5.1.1', text: '550 5.1.1 <filtered@example.jp>... User Unknown', class: 'hard', reason: 'userunknown' },
    { who: 'a status inside the text (qmail chkusr)', status: null, text: '511 sorry, no mailbox here by that name (#5.1.1 - chkusr)', class: 'hard', reason: 'userunknown' },
    { who: "Postfix's DNS without an answer", status: null, text: 'Name service error for domain example.com: Host not found, try again', class: 'soft', reason: 'networkerror' },
    { who: 'a Google Group one may not post to', status: null, text: 'the group may not exist, or you may not have permission to post messages to the group', class: 'policy', reason: 'rejected' },
    { who: "Gmail's per-recipient rate limit", status: '5.2.1', text: '550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages', class: 'policy', reason: 'toomanyconn' },
    { who: 'our sender domain refused', status: '5.1.8', text: '553 5.1.8 <recap@recap.test>: Sender address rejected: Domain not found', class: 'policy', reason: 'rejected' },
    // "User unknown" needs a witness: an address status (5.1.x) or a refusal at RCPT TO.
    { who: 'user unknown with neither an address status nor a command', status: '5.0.0', text: '550 <a@b.example> No such user here', class: 'policy', reason: 'filtered' },
    { who: 'user unknown, no status, no command (qmail-style, a summary of a reply)', status: null, text: "<a@b.example>: This user doesn't have a b.example account", class: 'policy', reason: 'filtered' },
    { who: "the same words answering RCPT TO", status: '5.0.0', text: '550 <a@b.example> No such user here', command: 'RCPT', class: 'hard', reason: 'userunknown' },
    { who: 'the same words beside an address status', status: '5.1.1', text: '550 <a@b.example> No such user here', class: 'hard', reason: 'userunknown' },
    { who: "Exchange's 5.1.10 (recipient not found) as the witness", status: '5.1.10', text: "The email address wasn't found at the destination domain", class: 'hard', reason: 'userunknown' },
    { who: "Exchange's extended 5.1.351 as the witness", status: '5.1.351', text: '550 5.1.351 Remote server returned unknown recipient -> 550 <a@b.example>: User unknown', class: 'hard', reason: 'userunknown' },
    { who: "a DSN's 5.7.1 over a codeless reply that only says the mailbox is unknown, command unknown", status: '5.7.1', text: '553 Invalid recipient kijitora@example.org (Mode: normal)', class: 'policy', reason: 'filtered' },
    { who: "qmail's \"Giving up on <host>\" after a permanent reply, not an expiry", status: null, text: '550 <a@b.example>... User Unknown Giving up on 192.0.2.1.', command: 'RCPT', class: 'hard', reason: 'userunknown' },
    // 5.2.1: "mailbox disabled, not accepting messages": the mailbox exists.
    { who: 'a bare 5.2.1', status: '5.2.1', text: '550 5.2.1 Mailbox unavailable', class: 'policy', reason: 'filtered' },
    { who: '5.2.1 with "User Unknown", command unknown', status: '5.2.1', text: '550 5.2.1 <a@b.example>... User Unknown', class: 'policy', reason: 'filtered' },
    { who: '5.2.1 with "User Unknown" at RCPT TO', status: '5.2.1', text: '550 5.2.1 <a@b.example>... User Unknown Giving up on 192.0.2.1.', command: 'RCPT', class: 'hard', reason: 'userunknown' },
    { who: '5.2.1 with words that the account is disabled', status: '5.2.1', text: '550 5.2.1 The email account that you tried to reach is disabled.', class: 'hard', reason: 'suspend' },
  ];
  for (const c of cases) {
    it(`${c.who} → ${c.class} / ${c.reason}`, () => {
      expect(classifyFailure(c.status, c.text, c.command)).toMatchObject({ class: c.class, reason: c.reason });
    });
  }

  it('finds a status code inside text, but not in an IP address', () => {
    expect(statusInText('no mailbox here by that name (#5.1.1 - chkusr)')).toBe('5.1.1');
    expect(statusInText('Client host [192.0.2.5] blocked')).toBeNull();
  });
});

// Receivers' own documented vocabulary (Sisimai's Rhost modules), looked up by the recipient's domain.
describe('classifyFailure with the receiver known', () => {
  const cases: Array<{ who: string; recipient: string; status: string | null; text: string; class: BounceClass; reason: BounceReason }> = [
    { who: "au (KDDI): \"550 : User unknown\" names nobody: the reader's filter", recipient: 'neko@ezweb.ne.jp', status: '5.0.0', text: '550 : User unknown', class: 'policy', reason: 'filtered' },
    { who: 'au (KDDI): the address named: it does not exist', recipient: 'neko@au.com', status: '5.0.0', text: '550 <neko@au.com>: User unknown', class: 'hard', reason: 'userunknown' },
    { who: 'La Poste: LPN007_416 is an invalid recipient', recipient: 'x@laposte.net', status: '5.5.0', text: '550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416', class: 'hard', reason: 'userunknown' },
    { who: 'Orange: OFR_101 is our IP blocked', recipient: 'x@orange.fr', status: '5.0.0', text: '550 5.0.0 Service refuse. Veuillez essayer plus tard. OFR_101 [101]', class: 'policy', reason: 'blocked' },
    { who: 'Orange: OFR_420, an archived recipient', recipient: 'x@wanadoo.fr', status: '5.0.0', text: '550 5.5.0 Boite du destinataire archivee. Archived recipient. OFR_420', class: 'hard', reason: 'suspend' },
  ];
  for (const c of cases) {
    it(`${c.who} → ${c.class} / ${c.reason}`, () => {
      expect(classifyFailure(c.status, c.text, null, { recipient: c.recipient })).toMatchObject({ class: c.class, reason: c.reason });
    });
  }

  it('knows the receiver by the host the report names, when the recipient\'s domain hides it', () => {
    // A domain hosted by Tencent QQ, named by the DSN's Remote-MTA, or in Postfix's "host … said:".
    expect(classifyFailure('5.0.0', '550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728', null, { recipient: 'neko@corp.example.cn', host: 'mx3.qq.com' })).toMatchObject({ class: 'hard', reason: 'userunknown' });
    expect(classifyFailure(null, '<neko@corp.example.cn>: host mx3.qq.com[203.0.113.40] said: 550 Mailbox unavailable or access denied', null, { recipient: 'neko@corp.example.cn' })).toMatchObject({ class: 'policy', reason: 'toomanyconn' });
    expect(classifyFailure('5.0.0', '550 Mailbox is frozen. See http://mail.i.ua/err/3/', null, { recipient: 'neko@corp.example.ua', host: 'mx3.email.ua' })).toMatchObject({ class: 'hard', reason: 'suspend' });
    expect(classifyFailure('5.0.0', '550 Sender verify failed. See http://mail.i.ua/err/8/', null, { recipient: 'neko@email.ua' })).toMatchObject({ class: 'policy', reason: 'rejected' });
    // Without the receiver known, the same words have no witness.
    expect(classifyFailure('5.0.0', '550 Mailbox not found.', null, { recipient: 'neko@corp.example.cn', host: 'mx.example.cn' })).toMatchObject({ class: 'policy', reason: 'filtered' });
  });

  it('applies a receiver\'s vocabulary to its own domains only', () => {
    expect(classifyFailure('5.0.0', '550 : User unknown', 'RCPT', { recipient: 'neko@example.org' })).toMatchObject({ class: 'hard', reason: 'userunknown' });
    expect(classifyFailure('5.5.0', '550 5.5.0 Invalid recipient. LPN007_101', 'RCPT', { recipient: 'x@example.net' })).toMatchObject({ class: 'hard', reason: 'userunknown' });
  });
});
