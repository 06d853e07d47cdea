// A queued edition for tests of the send loop's database work: `count` active, confirmed members
// (inserted in bulk, so thousands are quick), the sample week's edition, and a queued delivery for
// each of them. And the members alone, for tests that enqueue themselves.
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import { importArticles } from '../../src/articles/import.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { findList } from '../../src/audience/lists.ts';
import { enqueueDeliveries } from '../../src/delivery/enqueue.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { sampleArticles } from './articles.ts';
import type { TestContext } from './context.ts';

export async function queuedEdition(ctx: TestContext, count: number): Promise<{ editionId: number; ids: number[] }> {
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  await addReaders(ctx, count);
  const rules = { maxStories: ctx.config.maxStories, maxPerTopic: ctx.config.maxPerTopic, minStories: ctx.config.minStories };
  const planned = await ensureEdition(ctx.db, list, { week: '2026-W48', timeZone: ctx.config.timeZone, rules, now: ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  const editionId = planned.edition.row.id;
  await enqueueDeliveries(ctx.db, planned.edition, undefined, ctx.clock.now(), ctx.config);
  const ids = (await ctx.db.selectFrom('deliveries').select('id').where('edition_id', '=', editionId).orderBy('id').execute()).map((r) => r.id);
  return { editionId, ids };
}

/** `count` active, confirmed members of the list (reader-0@example.com, …), inserted in bulk. */
export async function addReaders(ctx: TestContext, count: number): Promise<void> {
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const at = ctx.clock.now().toISOString();
  await ctx.db.transaction().execute(async (trx) => {
    for (let start = 0; start < count; start += 500) {
      const people = Array.from({ length: Math.min(500, count - start) }, (_, k) => `reader-${start + k}@example.com`).map((email) => ({
        email, email_hash: hashEmail(email), name: null, status: 'active' as const, created_at: at, updated_at: at, consent_at: at,
        consent_source: 'test', consent_ip: null, consent_user_agent: null, confirmed_at: at, paused_at: null, confirm_requested_at: null,
      }));
      const added = await trx.insertInto('subscribers').values(people).returning('id').execute();
      await trx.insertInto('list_members').values(added.map((r) => ({ list_id: list.id, subscriber_id: r.id, status: 'active' as const, created_at: at, updated_at: at }))).execute();
    }
  });
}
