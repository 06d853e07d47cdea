// Writes the outcomes of a send's deliveries in groups, one short transaction each, instead of one
// write (and one commit) per message. A group is written once it has `maxPending` outcomes, once
// its first has waited `maxDelayMs`, and whenever the send flushes (each batch's end, before it
// pauses, stops or returns). A crash loses at most the outcomes not yet written: those rows were
// marked handed over (claimed_at) before their message was completed (send.ts), so the next start
// reports them uncertain, never queues them again.
import type { Kysely } from 'kysely';
import type { Database, DeliveryStatus } from '../../db/schema.ts';

export interface Finish {
  status: DeliveryStatus;
  at: string;
  error?: string | null;
  reason?: string | null;
  response?: string;
  variantId?: number;
  messageId?: string;
  nextAttemptAt?: string;
  /** False for a delivery deferred without trying (a paused domain). */
  attempted?: boolean;
}

export interface OutcomeWriter {
  /** Queues one claimed delivery's outcome; throws if an earlier group could not be written. */
  add(id: number, outcome: Finish): void;
  /** Writes everything queued so far; resolves once it is committed. */
  flush(): Promise<void>;
}

/** The outcomes of the batch `token`: a row another sender has taken over since is left alone. */
export function outcomeWriter(db: Kysely<Database>, token: string, { maxPending = 50, maxDelayMs = 100 } = {}): OutcomeWriter {
  let pending: Array<{ id: number; outcome: Finish }> = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown;
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const group = pending;
    pending = [];
    // One group at a time, in order; a failure is kept and thrown by the next add or flush.
    if (group.length > 0) writing = writing.then(() => writeGroup(db, token, group)).catch((e: unknown) => void (failure ??= e));
    await writing;
    check();
  };
  const background = () => void flush().catch(() => {});
  return {
    add(id, outcome) {
      check();
      pending.push({ id, outcome });
      if (pending.length >= maxPending) background();
      else timer ??= setTimeout(background, maxDelayMs);
    },
    flush,
  };
}

async function writeGroup(db: Kysely<Database>, token: string, group: Array<{ id: number; outcome: Finish }>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const { id, outcome } of group) await finish(trx, token, id, outcome);
  });
}

async function finish(db: Kysely<Database>, token: string, id: number, f: Finish): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: f.status,
      claim_token: null,
      error: f.error ?? null,
      reason: f.reason ?? null,
      smtp_response: f.response ?? null,
      next_attempt_at: f.nextAttemptAt ?? null,
      updated_at: f.at,
      ...(f.variantId !== undefined ? { variant_id: f.variantId } : {}),
      ...(f.messageId !== undefined ? { message_id: f.messageId } : {}),
      ...(f.status === 'submitted' ? { submitted_at: f.at } : {}),
      ...(f.status !== 'skipped' && f.attempted !== false ? { attempts: eb(eb.ref('attempts'), '+', 1) } : {}),
    }))
    .where('id', '=', id)
    .where('status', '=', 'claimed')
    .where('claim_token', '=', token)
    .execute();
}
