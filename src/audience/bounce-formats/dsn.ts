// RFC 3464 delivery status notifications: the message/delivery-status part (or the same fields
// written into the text, as some agents do). Blocks with a recipient are per-recipient fields,
// whatever their place: a part with a single block still names its recipient.
import { powerMtaVerdict } from './agents.ts';
import { addressOf, commandIn, type Failure, fieldBlocks, first, squeeze } from './fields.ts';

/** The DSN's field groups; a recipient field seen twice starts a new group even without the blank line some agents leave out. */
function recipientBlocks(part: string): Array<Map<string, string[]>> {
  const separated = part.replace(/\r\n/g, '\n').split('\n').reduce<{ lines: string[]; seen: Set<string> }>(
    (acc, line) => {
      const name = /^(final-recipient|original-recipient)\s*:/i.exec(line)?.[1]?.toLowerCase();
      if (line.trim() === '') acc.seen.clear();
      else if (name && acc.seen.has(name)) {
        acc.lines.push('');
        acc.seen.clear();
      }
      if (name) acc.seen.add(name);
      acc.lines.push(line);
      return acc;
    },
    { lines: [], seen: new Set() },
  );
  return fieldBlocks(separated.lines.join('\n'));
}

/** The failures a delivery-status part reports; `human` is the report's text part, for the SMTP command. */
export function readDsn(part: string, human: string): Failure[] {
  const failures: Failure[] = [];
  for (const block of recipientBlocks(part)) {
    const final = addressOf(first(block, 'final-recipient'));
    const original = addressOf(first(block, 'original-recipient'));
    // The address we sent to is the original recipient; the final one may be an alias behind it.
    const email = original ?? final ?? addressOf(first(block, 'x-actual-recipient'));
    if (!email) continue;
    const diagnostic = (block.get('diagnostic-code') ?? []).map((d) => d.replace(/^[a-z-]+;\s*/i, '')).join(' ');
    const status = /^\s*([245]\.\d{1,3}\.\d{1,3})/.exec(first(block, 'status') ?? '')?.[1] ?? null;
    const verdict = powerMtaVerdict(first(block, 'x-powermta-bouncecategory'));
    const remoteHost = /^\s*dns;\s*([\w-]+(?:\.[\w-]+)+)/i.exec(first(block, 'remote-mta') ?? '')?.[1];
    failures.push({
      email,
      ...(final && final !== email ? { finalRecipient: final } : {}),
      status,
      diagnostic: squeeze(diagnostic),
      action: first(block, 'action')?.toLowerCase().split(/[\s(]/)[0],
      command: commandIn(diagnostic) ?? commandIn(paragraphAbout(human, [final, original])),
      ...(verdict ? { verdict } : {}),
      ...(remoteHost ? { remoteHost: remoteHost.toLowerCase() } : {}),
    });
  }
  return failures;
}

/** The paragraph of the human-readable text that names this recipient, or all of it when none does. */
export function paragraphAbout(text: string, addresses: Array<string | null>): string {
  const lower = text.toLowerCase();
  for (const a of addresses) {
    const at = a ? lower.indexOf(a) : -1;
    if (at >= 0) return text.slice(at, at + 1500).split(/\n\s*\n(?=\S*<?[^\s@]+@)/)[0] as string;
  }
  return text;
}
