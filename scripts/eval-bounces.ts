// Measures the bounce reader against Sisimai on the shared corpus of real bounce mails (see its
// README): for every (file, recipient) Sisimai reports, did we find a bounce for that recipient, and
// do we agree on whether the address is suppressed? And every suppression of ours that is wrong on
// its face: for a policy reason, from a mail that is not a bounce, or of an address that is not a
// recipient of the bounce. Run with `npm run eval:bounces [-- MAIL_DIR [REFERENCE.jsonl]]` (default
// ../shared/corpora/bounces, i.e. its mail/ and its sisimai-reference.jsonl); `--list` names every
// file behind a disagreement. Not part of `npm test`: the corpus lives outside the project.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseReport, type ReportedBounce } from '../src/audience/bounce-reports.ts';
import { suppresses } from '../src/delivery/classify.ts';

interface Reference {
  file: string;
  none?: boolean;
  recipient?: string;
  reason?: string;
  deliverystatus?: string;
  feedbacktype?: string;
}

const args = process.argv.slice(2).filter((a) => a !== '--');
const list = args.includes('--list');
const [dirArg, refArg] = args.filter((a) => !a.startsWith('--'));
// The corpus folder itself (with mail/ and the reference in it) will do as well as its mail/.
const given = resolve(dirArg ?? '../shared/corpora/bounces');
const mailDir = existsSync(join(given, 'mail')) && existsSync(join(given, 'sisimai-reference.jsonl')) ? join(given, 'mail') : given;
const referencePath = resolve(refArg ?? join(dirname(mailDir), 'sisimai-reference.jsonl'));

for (const path of [mailDir, referencePath]) {
  if (!existsSync(path)) {
    console.error(`${path} does not exist: pass the corpus folder (or its mail/) and, if it is elsewhere, the reference: npm run eval:bounces -- MAIL_DIR [REFERENCE.jsonl]`);
    process.exit(2);
  }
}

const references: Reference[] = readFileSync(referencePath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Reference);

// Sisimai's verdict turned into our policy: only a bad address suppresses, and a complaint.
const BAD_ADDRESS = new Set(['userunknown', 'hostunknown', 'hasmoved', 'notaccept', 'suspend']);
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other', '']);
const POLICY = new Set(['blocked', 'policyviolation', 'spamdetected', 'securityerror']);
const theySuppress = (r: Reference) => BAD_ADDRESS.has(r.reason ?? '') || (r.reason === 'feedback' && COMPLAINT_TYPES.has(r.feedbacktype ?? ''));
// Sisimai writes a placeholder where a complaint hides its recipient; we then name nobody and
// find the reader through our Message-ID instead.
const redacted = (address: string) => /\.invalid$|^redacted@/i.test(address);

const files = readdirSync(mailDir).filter((f) => !f.startsWith('.')).sort();
const byFile = new Map<string, Reference[]>();
for (const r of references) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);

let records = 0;
let autoReplies = 0;
let found = 0;
let agreements = 0;
let decisions = 0;
const causes = new Map<string, string[]>();
const wrongful = { policy: [] as string[], nonBounce: [] as string[], notRecipient: [] as string[] };
const note = (cause: string, file: string) => causes.set(cause, [...(causes.get(cause) ?? []), file]);

for (const file of files) {
  const refs = byFile.get(file) ?? [];
  let ours: ReportedBounce[] = [];
  try {
    ours = (await parseReport(readFileSync(join(mailDir, file)))).bounces;
  } catch (e) {
    note(`unreadable: ${(e as Error).message}`, file);
  }
  const suppressed = ours.filter((b) => suppresses(b.kind));
  // Auto-replies (out of office) are not bounces: Sisimai reports them as "vacation", we record nothing.
  const vacation = refs.filter((r) => r.reason === 'vacation');
  autoReplies += vacation.length;
  if (vacation.length > 0 && ours.length > 0) note('read an auto-reply as a bounce', file);
  const real = refs.filter((r) => !r.none && r.recipient && r.reason !== 'vacation');
  if (vacation.length > 0 && real.length === 0) continue;
  if (real.length === 0) {
    // Sisimai finds no bounce here: nothing of ours may suppress.
    decisions++;
    if (suppressed.length === 0) agreements++;
    else {
      wrongful.nonBounce.push(`${file} (${suppressed.map((b) => `${b.email}: ${b.reason}`).join(', ')})`);
      note('suppressed; Sisimai finds no bounce', file);
    }
    continue;
  }
  for (const r of real) {
    records++;
    decisions++;
    const recipient = (r.recipient as string).toLowerCase();
    const mine = ours.filter((b) => b.email === recipient || b.finalRecipient === recipient || (b.email === null && redacted(recipient)));
    if (mine.length > 0) found++;
    else note(ours.length === 0 ? 'missed: nothing read from the mail' : 'missed: other recipients read', file);
    const we = mine.some((b) => suppresses(b.kind));
    const they = theySuppress(r);
    if (we === they) agreements++;
    else note(we ? `we suppress, Sisimai says ${r.reason}` : `Sisimai suppresses (${r.reason}), we say ${mine[0]?.reason ?? 'nothing'}`, file);
    if (we && POLICY.has(r.reason ?? '')) wrongful.policy.push(`${file} ${recipient}: ${r.reason}`);
  }
  const recipients = new Set(real.map((r) => (r.recipient as string).toLowerCase()));
  for (const b of suppressed) {
    if (b.email !== null && !recipients.has(b.email) && !recipients.has(b.finalRecipient ?? '')) {
      wrongful.notRecipient.push(`${file} ${b.email}`);
      note('suppressed an address that is not a recipient', file);
    }
  }
}

const pct = (n: number, d: number) => `${d ? ((100 * n) / d).toFixed(1) : '0.0'}%`;
console.log(`${files.length} mails in ${basename(mailDir)}, ${records} (file, recipient) records from Sisimai`);
console.log(`recall: ${found}/${records} = ${pct(found, records)} (not counted: ${autoReplies} auto-replies Sisimai calls "vacation")`);
console.log(`suppress agreement: ${agreements}/${decisions} = ${pct(agreements, decisions)}`);
console.log(`wrongful suppressions: ${wrongful.policy.length} for policy reasons, ${wrongful.nonBounce.length} from mails Sisimai finds no bounce in (not bounces, or agents it does not know: look at them), ${wrongful.notRecipient.length} of addresses that are not recipients`);
for (const line of [...wrongful.policy, ...wrongful.nonBounce, ...wrongful.notRecipient]) console.log(`  ${line}`);
console.log('\ndisagreements by cause:');
const sorted = [...causes.entries()].sort((a, b) => b[1].length - a[1].length);
for (const [cause, where] of sorted) {
  console.log(`  ${String(where.length).padStart(4)}  ${cause}`);
  if (list) for (const f of where) console.log(`          ${f}`);
}
