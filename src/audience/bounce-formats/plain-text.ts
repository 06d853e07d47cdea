// Bounces written as prose, the way most mail agents still write them: qmail ("<addr>:" then the
// reply), Exim and the agents that copy it (GMX, Zoho: the address, then "SMTP error from remote
// server…"), Sendmail and Postfix without a DSN part ("<addr>... User unknown", "<addr>: host …
// said: …"), Exchange 2003 ("addr on DATE" under "did not reach the following recipient(s)"),
// Lotus Notes, Gmail, Yahoo, Google Groups, DragonFly ("error delivering your mail to <addr>"),
// Japanese carriers. What they share is read once here: the report's own words come first and the
// returned original after a marker line; each failed recipient stands at the start of a line (or
// after "to"/"recipient"), and the words between it and the next recipient are its diagnostic.
import { ADDRESS_SOURCE, cleanAddress, commandIn, type Failure, squeeze } from './fields.ts';

/** Where the returned original begins: marker lines of the agents named above, most specific first. */
const ORIGINAL_MARKERS = [
  /^-+ ?(This is a copy of the message|Below this line is a copy of the message|Original message|Returned message|Message headers follow|The header of the original message|Unsent message below|Original message follows|Original message headers|Forwarded message)/im,
  /^[ \t]*-+ ?(original|returned|unsent|the original) message/im,
  /^(Message headers follow|Original message headers?|Unsent message below|Below is a copy|Included is a copy|Your message reads|The text you sent follows|Original message:?[ \t]*$|Original message follows)/im,
  /^Content-Type: (message\/rfc822|text\/rfc822-headers)/im,
];

/** Two header lines in a row (continuations allowed): the returned original's header, unannounced. */
const HEADER_BLOCK = /^(Received|Return-Path|DKIM-Signature|ARC-Seal|X-Google-Smtp-Source|Message-ID)\s*:[^\n]*\n(?:[ \t][^\n]*\n)*(Received|Return-Path|Message-ID|DKIM-Signature|ARC-[\w-]+|X-[\w-]+|MIME-Version|Date|From|To|Subject|Authentication-Results)\s*:/im;

/** A header-like line in the report's words ("  To: x@y", "Subject: …"): it names the original's parties. */
const HEADER_LINE = /^\s*(To|From|Cc|Bcc|Sender|Reply-To|Return-Path|Subject|Sent|Date|Message-ID|In-Reply-To|References)\s*:/i;

const ADDRESS = ADDRESS_SOURCE;
/** An address opening a line: "<a@b>:", "a@b", "\"a@b\":", "a@b on DATE", "<a@b>... User unknown", ">>> RCPT TO:<a@b>", "554 <a@b>... 550 Host unknown". */
const LINE_START = new RegExp(`^[ \\t*>-]*(?:[45]\\d\\d[ -](?:[245]\\.\\d{1,3}\\.\\d{1,3} )?)?(?:RCPT TO:\\s*)?["'<(\\[]*(${ADDRESS})`, 'gim');
/** An address the words name as the one that failed. */
const NAMED = new RegExp(`(?:\\bto|recipients?(?:\\(s\\))?|address(?:ee)?|rcpt|mailbox|user|for|errors?|full|unknown|failed)\\s*:?\\s*["'<(\\[]*(${ADDRESS})`, 'gi');

export interface PlainTextContext {
  /** Addresses that are not recipients: the bounce's own From and To, the original's sender, Message-IDs. */
  notRecipients: Set<string>;
  /** X-Failed-Recipients (Exim, Google and others write it): the recipients, said outright. */
  failedRecipients: string[];
  /** The returned original's sole recipient: who failed when the words name nobody. */
  originalTo: string[];
  /** The domain the bounce comes from: its postmaster or helpdesk, named for help, is not a recipient. */
  reporter?: string | null;
}

const ROLE = /^(postmaster|mailer-daemon|abuse|support|help|helpdesk|hostmaster|webmaster|noc)@(.+)$/;
const lastLabels = (domain: string) => domain.split('.').slice(-2).join('.');

/** "Please contact <support@isp.example>" in a report from mx.isp.example: the reporter's own role address. */
function reportersOwn(address: string, reporter: string | null | undefined): boolean {
  const m = ROLE.exec(address);
  return !!m && !!reporter && lastLabels(m[2] as string) === lastLabels(reporter);
}

/** The report's own words: the text before the returned original. */
export function reportSection(body: string): string {
  let end = body.length;
  for (const marker of [...ORIGINAL_MARKERS, HEADER_BLOCK]) {
    const m = marker.exec(body);
    if (m && m.index > 0 && m.index < end) end = m.index;
  }
  return body.slice(0, end);
}

/** Qmail-style text that was sent quoted-printable without saying so (Zoho): its soft line breaks undone. */
function undoSoftBreaks(text: string): string {
  return /quoted-printable/i.test(text) ? text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : text;
}

export function readPlainText(body: string, context: PlainTextContext): Failure[] {
  const section = reportSection(undoSoftBreaks(body).replace(/\r\n/g, '\n'));
  const found = (re: RegExp) =>
    [...section.matchAll(re)]
      .filter((m) => !HEADER_LINE.test(lineAt(section, m.index)))
      .map((m) => ({ email: cleanAddress(m[1] as string), at: m.index }))
      .filter((c) => !context.notRecipients.has(c.email) && !reportersOwn(c.email, context.reporter));
  let candidates = found(LINE_START);
  if (candidates.length === 0) candidates = found(NAMED);
  if (candidates.length === 0) candidates = context.originalTo.map((email) => ({ email, at: -1 }));
  if (context.failedRecipients.length > 0) {
    const failed = new Set(context.failedRecipients);
    const inText = candidates.filter((c) => failed.has(c.email));
    candidates = [...inText, ...context.failedRecipients.filter((e) => !inText.some((c) => c.email === e)).map((email) => ({ email, at: -1 }))];
  }
  // One entry per recipient, its words running to the next recipient's line (or the next step of
  // a Sendmail transcript), after the transcript lines just above it ("<<< 550 …" is its reply).
  const firsts = candidates.filter((c, i) => candidates.findIndex((o) => o.email === c.email) === i);
  const steps = [...section.matchAll(TRANSCRIPT_STEP)].map((m) => ({ email: '', at: m.index }));
  const starts = [...candidates.filter((c) => c.at >= 0), ...steps].map((c) => ({ email: c.email, at: lineStart(section, c.at) })).sort((a, b) => a.at - b.at);
  return firsts.map((c) => {
    const from = c.at >= 0 ? lineStart(section, c.at) : -1;
    // (The same address quoted again in its own diagnostic does not end it.)
    const next = starts.find((s) => s.at > from && s.email !== c.email)?.at ?? section.length;
    const above = from >= 0 ? transcriptAbove(section, from) : '';
    const own = from >= 0 ? above + section.slice(from, next) : '';
    // Words about this recipient alone, unless they say nothing (Notes and others give the reason
    // before the address list): then the whole report.
    const diagnostic = /\d\.\d{1,3}\.\d{1,3}|\b[45]\d\d\b|[a-z]{3,}.*[a-z]{3,}/i.test(own.replace(c.email, '').replace(/[<>:"']/g, '')) ? own : section;
    return { email: c.email, status: null, diagnostic: squeeze(diagnostic), command: commandIn(own) ?? (firsts.length === 1 ? commandIn(section) : null) };
  });
}

/** Where a Sendmail transcript moves on: to another host, another command, another host's summary. */
const TRANSCRIPT_STEP = /^(?:\.\.\. )?while talking to |^>>> |^\d{3} [\w.-]+ \(\w+\)\.\.\. /gim;

/** The ">>> command" and "<<< reply" lines right above a line of a Sendmail transcript. */
function transcriptAbove(text: string, at: number): string {
  const lines = text.slice(0, at).split('\n').slice(0, -1);
  let i = lines.length;
  while (i > 0 && /^(<<<|>>>) /.test(lines[i - 1] as string)) i--;
  return lines.slice(i).map((l) => `${l}\n`).join('');
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at) + 1;
}

function lineAt(text: string, at: number): string {
  const start = lineStart(text, at);
  const end = text.indexOf('\n', at);
  return text.slice(start, end < 0 ? text.length : end);
}
