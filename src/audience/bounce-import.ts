// `recap bounces import` and the bounce webhook: reports are matched to our deliveries (by the
// Message-ID we gave each one, or by address) and recorded; what they mean for the address is
// decided in one place, recordBounce. Unsubscribe requests sent to the List-Unsubscribe mailto are
// honoured here too, so the mailbox behind LIST_UNSUBSCRIBE_MAILTO can be fed to the same command.
import type { Db } from '../../db/connect.ts';
import type { Config } from '../config.ts';
import { deliveryMessageId } from '../delivery/composers.ts';
import { type BounceEffect, recordBounce } from './bounces.ts';
import { type MailFile, noHeader, notMail } from './bounce-files.ts';
import { type ReportedBounce, parseReport, splitMbox } from './bounce-reports.ts';
import { unsubscribe } from './subscriptions.ts';
import { verifyToken } from './tokens.ts';

export interface BounceImportReport {
  messages: number;
  recorded: Record<'hard' | 'soft' | 'policy' | 'complaint', number>;
  delayed: number;
  suppressed: number;
  /** Reports about addresses we never mailed: recorded (so they stay suppressed) but matched to no one. */
  unmatched: number;
  /** Readers who unsubscribed by mailing the List-Unsubscribe address. */
  unsubscribed: number;
  skipped: Array<{ where: string; why: string }>;
  /** One line per message: what it was and what it did (for --verbose). */
  outcomes: Array<{ where: string; outcome: string }>;
}

export function emptyReport(): BounceImportReport {
  return { messages: 0, recorded: { hard: 0, soft: 0, policy: 0, complaint: 0 }, delayed: 0, suppressed: 0, unmatched: 0, unsubscribed: 0, skipped: [], outcomes: [] };
}

/** Finds the delivery a Message-ID of ours names, checking its tag so a forged one matches nothing. */
async function deliveryFor(db: Db, config: Config, secret: string, messageId: string | null) {
  const m = messageId ? /^<recap\.(\d+)\.(\d+)\.[\w-]+@/.exec(messageId) : null;
  if (!m) return undefined;
  const editionId = Number(m[1]);
  const deliveryId = Number(m[2]);
  if (deliveryMessageId(config, secret, editionId, deliveryId) !== messageId) return undefined;
  return db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select(['d.edition_id', 's.email'])
    .where('d.id', '=', deliveryId)
    .where('d.edition_id', '=', editionId)
    .executeTakeFirst();
}

async function latestEditionSentTo(db: Db, email: string): Promise<number | null> {
  const row = await db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select('d.edition_id')
    .where('s.email', '=', email)
    .where('d.status', '=', 'submitted')
    .orderBy('d.edition_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.edition_id ?? null;
}

/** Records one reported bounce; returns what it did to the address, or why it was passed over. */
export async function applyReportedBounce(db: Db, config: Config, secret: string, b: ReportedBounce, now: Date, report: BounceImportReport): Promise<BounceEffect | 'delayed' | 'no address'> {
  if (b.kind === 'delayed') {
    report.delayed++;
    return 'delayed';
  }
  const delivery = await deliveryFor(db, config, secret, b.messageId);
  const email = delivery?.email ?? b.email;
  if (!email) return 'no address';
  const known = delivery ?? (await db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirst());
  if (!known) report.unmatched++;
  // Matched by address only (SES rewrites Message-IDs): it is about the latest edition they were sent.
  const editionId = delivery?.edition_id ?? (known ? await latestEditionSentTo(db, email) : null);
  const effect = await db.transaction().execute((trx) =>
    recordBounce(trx, { email, editionId, kind: b.kind as 'hard' | 'soft' | 'policy' | 'complaint', reason: b.reason, status: b.status, diagnostic: b.diagnostic, source: b.source }, config.softBounceLimit, now),
  );
  report.recorded[b.kind as 'hard' | 'soft' | 'policy' | 'complaint']++;
  if (effect === 'suppressed' || effect === 'complained') report.suppressed++;
  return effect;
}

const KIND = { hard: 'hard bounce', soft: 'soft bounce', policy: 'policy rejection' } as const;

const EFFECT: Record<BounceEffect | 'delayed', string> = {
  suppressed: 'address suppressed',
  complained: 'subscriber marked complained, address suppressed',
  counted: 'counted towards the soft bounce limit',
  recorded: 'recorded, address kept',
  delayed: 'a delay, ignored',
};

/** Reads single messages, mboxes and Maildir files; every message is reported on, none stops the others. */
export async function importBounceFiles(db: Db, config: Config, secret: string, files: MailFile[], now: Date): Promise<BounceImportReport> {
  const report = emptyReport();
  const skip = (where: string, why: string) => {
    report.skipped.push({ where, why });
    report.outcomes.push({ where, outcome: `skipped: ${why}` });
  };
  for (const file of files) {
    const unfit = notMail(file.content);
    if (unfit) {
      skip(file.name, unfit);
      continue;
    }
    // Bytes as Latin-1 split losslessly; each message goes back to bytes for the MIME parser.
    const text = typeof file.content === 'string' ? file.content : file.content.toString('latin1');
    const messages = splitMbox(text);
    for (const [i, message] of messages.entries()) {
      const where = messages.length > 1 ? `${file.name}, message ${i + 1}` : file.name;
      report.messages++;
      const headless = noHeader(message);
      if (headless) {
        skip(where, headless);
        continue;
      }
      let parsed;
      try {
        parsed = await parseReport(typeof file.content === 'string' ? message : Buffer.from(message, 'latin1'));
      } catch (e) {
        skip(where, `not a readable message: ${(e as Error).message}`);
        continue;
      }
      if (parsed.unsubscribeToken) {
        const claims = verifyToken(secret, parsed.unsubscribeToken, 'unsubscribe', now);
        const outcome = claims && (await unsubscribe(db, claims.listId, claims.subscriberId, 'mailto', now));
        if (!outcome) skip(where, 'an unsubscribe request whose token is not valid');
        else if (outcome === 'unknown') skip(where, `an unsubscribe request for list ${claims.listId}, which subscriber ${claims.subscriberId} is not a member of`);
        else {
          if (outcome === 'unsubscribed') report.unsubscribed++;
          report.outcomes.push({ where, outcome: `unsubscribe request: ${outcome}` });
        }
        continue;
      }
      if (parsed.bounces.length === 0) skip(where, parsed.note ?? 'nothing to record');
      const done: string[] = [];
      for (const b of parsed.bounces) {
        const outcome = await applyReportedBounce(db, config, secret, b, now, report);
        const who = b.email ?? 'a redacted recipient';
        const about = b.kind === 'delayed' ? `delay for ${who}` : b.kind === 'complaint' ? `complaint from ${who}` : `${KIND[b.kind]} (${b.reason}) for ${who}`;
        if (outcome === 'no address') {
          skip(where, 'the report names no recipient and quotes no message of ours');
        } else done.push(`${about}: ${EFFECT[outcome]}`);
      }
      if (done.length > 0) report.outcomes.push({ where, outcome: done.join('; ') });
    }
  }
  return report;
}
