// Submits an edition's queued deliveries in id-ordered batches. Each delivery records its outcome:
// submitted (with the server's reply), failed (with the error), or skipped when the subscriber may
// no longer be mailed. Variants are looked up per recipient and rendered at most once.
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/connect.ts';
import type { DeliveryStatus } from '../../db/schema.ts';
import type { Config } from '../config.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import { type Edition, editionTopics } from '../editions/editions.ts';
import { variantKey } from '../render/arrange.ts';
import { personalize } from '../render/personalize.ts';
import { composeMessage, newMessageId } from './compose.ts';
import type { Transport } from './transport.ts';
import { ensureVariant, type StoredVariant, topicsOfSubscribers } from './variants.ts';

export interface SendDeps {
  db: Db;
  config: Config;
  secret: string;
  transport: Transport;
  now: () => Date;
  onProgress?: (done: number, total: number) => void;
}

export interface VariantUse {
  key: string;
  htmlBytes: number;
  compacted: number[];
  recipients: number;
}

export interface SendOutcome {
  submitted: number;
  failed: number;
  skipped: number;
  variants: VariantUse[];
  /** The first few failures, for the summary. */
  errors: Array<{ email: string; error: string }>;
}

interface Outcome {
  id: number;
  status: DeliveryStatus;
  variantId: number | null;
  messageId: string | null;
  response: string | null;
  error: string | null;
}

export async function countQueued(db: Db, editionId: number): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('edition_id', '=', editionId)
    .where('status', '=', 'queued')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function sendQueued(deps: SendDeps, edition: Edition): Promise<SendOutcome> {
  const { db, config } = deps;
  const listId = edition.list.id;
  const topics = editionTopics(edition);
  const total = await countQueued(db, edition.row.id);
  const variants = new Map<string, Promise<StoredVariant>>();
  const uses = new Map<string, VariantUse>();
  const result: SendOutcome = { submitted: 0, failed: 0, skipped: 0, variants: [], errors: [] };
  const settings = { baseUrl: config.baseUrl, postalAddress: config.postalAddress };
  let after = 0;
  let done = 0;
  deps.onProgress?.(0, total);

  for (;;) {
    const batch = await db
      .selectFrom('deliveries as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .leftJoin('list_members as m', (j) => j.onRef('m.subscriber_id', '=', 's.id').on('m.list_id', '=', listId))
      .select((eb) => [
        'd.id',
        'd.subscriber_id',
        's.email',
        's.name',
        's.status',
        's.confirmed_at',
        's.paused_at',
        'm.status as member_status',
        eb.exists(eb.selectFrom('suppressions as x').select('x.id').whereRef('x.email_hash', '=', 's.email_hash')).as('suppressed'),
      ])
      .where('d.edition_id', '=', edition.row.id)
      .where('d.status', '=', 'queued')
      .where('d.id', '>', after)
      .orderBy('d.id')
      .limit(config.sendBatchSize)
      .execute();
    if (batch.length === 0) break;
    after = (batch[batch.length - 1] as { id: number }).id;
    const followed = await topicsOfSubscribers(db, batch.map((d) => d.subscriber_id), topics);

    const outcomes = await Promise.all(
      batch.map(async (d): Promise<Outcome> => {
        const none = { variantId: null, messageId: null, response: null };
        // The audience may have changed since the rows were queued.
        const reason =
          d.status !== 'active' ? `subscriber is ${d.status}`
          : d.confirmed_at === null ? 'subscriber has not confirmed'
          : d.paused_at !== null ? 'subscriber has paused the recap'
          : d.member_status !== 'active' ? 'not an active member of the list'
          : Number(d.suppressed) ? 'address is suppressed'
          : null;
        if (reason) return { id: d.id, status: 'skipped', error: reason, ...none };

        const key = variantKey(followed.get(d.subscriber_id) ?? [], topics);
        if (!variants.has(key)) variants.set(key, ensureVariant(db, edition, key, settings, deps.now()));
        const variant = await (variants.get(key) as Promise<StoredVariant>);
        const use = uses.get(key) ?? { key, htmlBytes: variant.row.html_bytes, compacted: variant.compacted, recipients: 0 };
        uses.set(key, use);

        const links = subscriberLinks(config.baseUrl, deps.secret, d.subscriber_id, listId);
        const body = personalize(variant.row, {
          name: d.name ?? 'there',
          email: d.email,
          unsubscribe_url: links.unsubscribeUrl,
          preferences_url: links.preferencesUrl,
        });
        const messageId = newMessageId(config, randomUUID());
        const message = composeMessage(config, {
          subject: edition.row.subject,
          listSlug: edition.list.slug,
          listName: edition.list.name,
          recipient: { email: d.email, name: d.name },
          body,
          unsubscribeUrl: links.unsubscribeUrl,
          unsubscribeToken: links.unsubscribeUrl.slice(links.unsubscribeUrl.lastIndexOf('/') + 1),
          messageId,
          date: deps.now(),
        });
        try {
          const submission = await deps.transport.submit(message, { folder: edition.row.week, id: String(d.id).padStart(7, '0'), email: d.email });
          use.recipients++;
          return { id: d.id, status: 'submitted', variantId: variant.row.id, messageId, response: submission.response, error: null };
        } catch (e) {
          const error = (e as Error).message;
          if (result.errors.length < 10) result.errors.push({ email: d.email, error });
          return { id: d.id, status: 'failed', variantId: variant.row.id, messageId, response: null, error };
        }
      }),
    );

    const at = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      for (const o of outcomes) {
        await trx
          .updateTable('deliveries')
          .set((eb) => ({
            status: o.status,
            variant_id: o.variantId,
            message_id: o.messageId,
            smtp_response: o.response,
            error: o.error,
            attempts: o.status === 'skipped' ? eb.ref('attempts') : eb(eb.ref('attempts'), '+', 1),
            submitted_at: o.status === 'submitted' ? at : null,
            updated_at: at,
          }))
          .where('id', '=', o.id)
          .execute();
        result[o.status as 'submitted' | 'failed' | 'skipped']++;
      }
    });
    done += batch.length;
    deps.onProgress?.(done, total);
  }
  result.variants = [...uses.values()];
  return result;
}

export async function deliveryCounts(db: Db, editionId: number): Promise<Record<DeliveryStatus, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('edition_id', '=', editionId)
    .groupBy('status')
    .execute();
  const counts: Record<DeliveryStatus, number> = { queued: 0, submitted: 0, failed: 0, skipped: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}
