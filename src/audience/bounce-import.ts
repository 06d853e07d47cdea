// `recap bounces import` and the bounce webhook: reports are matched to our deliveries (by the
// Message-ID we gave each one, or by address) and recorded; what they mean for the address is
// decided in one place, recordBounce. Unsubscribe requests sent to the List-Unsubscribe mailto are
// honoured here too, so the mailbox behind LIST_UNSUBSCRIBE_MAILTO can be fed to the same command.
import type { Db } from '../../db/connect.ts';
import type { Config } from '../config.ts';
import { deliveryMessageId } from '../delivery/send.ts';
import { type BounceEffect, recordBounce } from './bounces.ts';
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
}

export function emptyReport(): BounceImportReport {
  return { messages: 0, recorded: { hard: 0, soft: 0, policy: 0, complaint: 0 }, delayed: 0, suppressed: 0, unmatched: 0, unsubscribed: 0, skipped: [] };
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

/** Reads .eml files and mboxes; every message is reported on, none stops the others. */
export async function importBounceFiles(db: Db, config: Config, secret: string, files: Array<{ name: string; content: string }>, now: Date): Promise<BounceImportReport> {
  const report = emptyReport();
  for (const file of files) {
    const messages = splitMbox(file.content);
    for (const [i, raw] of messages.entries()) {
      const where = messages.length > 1 ? `${file.name}, message ${i + 1}` : file.name;
      report.messages++;
      let parsed;
      try {
        parsed = await parseReport(raw);
      } catch (e) {
        report.skipped.push({ where, why: `not a readable message: ${(e as Error).message}` });
        continue;
      }
      if (parsed.unsubscribeToken) {
        const claims = verifyToken(secret, parsed.unsubscribeToken, 'unsubscribe', now);
        const outcome = claims && (await unsubscribe(db, claims.listId, claims.subscriberId, 'mailto', now));
        if (!outcome) report.skipped.push({ where, why: 'an unsubscribe request whose token is not valid' });
        else if (outcome === 'unknown') report.skipped.push({ where, why: `an unsubscribe request for list ${claims.listId}, which subscriber ${claims.subscriberId} is not a member of` });
        else if (outcome === 'unsubscribed') report.unsubscribed++;
        continue;
      }
      if (parsed.bounces.length === 0) report.skipped.push({ where, why: parsed.note ?? 'nothing to record' });
      for (const b of parsed.bounces) {
        const outcome = await applyReportedBounce(db, config, secret, b, now, report);
        if (outcome === 'no address') report.skipped.push({ where, why: 'the report names no recipient and quotes no message of ours' });
      }
    }
  }
  return report;
}
