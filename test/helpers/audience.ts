// Subscribers for tests, through the same validation and upsert the importers use.
import { hashEmail } from '../../src/audience/email.ts';
import { subscriberInputSchema, upsertSubscriber } from '../../src/audience/subscribers.ts';
import type { TestContext } from './context.ts';

export async function addSubscriber(
  ctx: TestContext,
  email: string,
  options: { name?: string; format?: 'full' | 'brief'; topics?: string[]; status?: 'active' | 'pending' | 'unsubscribed' | 'bounced' | 'complained'; confirmed?: boolean; attributes?: Record<string, string> } = {},
): Promise<number> {
  const now = ctx.clock.now().toISOString();
  const status = options.status ?? 'active';
  const confirmed = options.confirmed ?? status !== 'pending';
  const input = subscriberInputSchema.parse({
    email,
    name: options.name ?? null,
    format: options.format,
    topics: options.topics ?? [],
    attributes: options.attributes,
    status,
    consent: { at: now, source: 'test', confirmedAt: confirmed ? now : null },
  });
  await ctx.db.transaction().execute((trx) => upsertSubscriber(trx, ctx.listId, input, ctx.clock.now()));
  const row = await ctx.db.selectFrom('subscribers').select('id').where('email', '=', input.email).executeTakeFirstOrThrow();
  return row.id;
}

export async function suppress(ctx: TestContext, email: string): Promise<void> {
  await ctx.db.insertInto('suppressions').values({ email_hash: hashEmail(email), reason: 'test', created_at: ctx.clock.now().toISOString() }).execute();
}
