// What a bounce does to an address, against a real migrated SQLite database: a hard bounce and a
// complaint suppress at once, a soft bounce only after a streak of editions, a policy rejection
// never. Subscribers go in through the same validation and upsert as the importers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BounceKind, DeliveryStatus } from '../../db/schema.ts';
import { type BounceInput, bounceKind, recordBounce } from '../../src/audience/bounces.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { countQuery, eligibleMembers } from '../../src/audience/segments.ts';
import { type BounceReason, classifyReply } from '../../src/delivery/classify.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

const SOFT_LIMIT = 3;

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext();
});

afterEach(async () => {
  await ctx.close();
});

/** An edition row of the test list, numbered 1, 2, 3 … in insertion order. */
async function edition(): Promise<number> {
  const n = (await ctx.db.selectFrom('editions').select('id').execute()).length + 1;
  const at = ctx.clock.now().toISOString();
  const row = await ctx.db
    .insertInto('editions')
    .values({
      list_id: ctx.listId,
      week: `2026-W${String(30 + n).padStart(2, '0')}`,
      number: n,
      status: 'sent',
      subject: `Weekly AI Recap #${n}`,
      preheader: 'This week in AI',
      starts_at: at,
      ends_at: at,
      created_at: at,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function delivery(editionId: number, subscriberId: number, status: DeliveryStatus): Promise<void> {
  const at = ctx.clock.now().toISOString();
  await ctx.db.insertInto('deliveries').values({ edition_id: editionId, subscriber_id: subscriberId, status, attempts: 1, queued_at: at, updated_at: at }).execute();
}

function bounce(email: string, kind: BounceKind, reason: BounceReason, editionId: number | null, extra: Partial<BounceInput> = {}) {
  const input: BounceInput = { email, editionId, kind, reason, status: null, diagnostic: null, source: 'smtp', ...extra };
  return recordBounce(ctx.db, input, SOFT_LIMIT, ctx.clock.now());
}

/** A soft bounce in a new edition, the way the sender records one: the delivery failed, then the bounce. */
async function softBouncedEdition(subscriberId: number, email: string) {
  const id = await edition();
  await delivery(id, subscriberId, 'failed');
  ctx.clock.advance(7 * 86_400_000);
  return bounce(email, 'soft', 'mailboxfull', id, { status: '5.2.2', diagnostic: '552 5.2.2 <x@example.com>: Recipient address rejected: Mailbox full' });
}

async function cleanEdition(subscriberId: number) {
  const id = await edition();
  await delivery(id, subscriberId, 'submitted');
  ctx.clock.advance(7 * 86_400_000);
}

async function suppressed(email: string) {
  return ctx.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hashEmail(email)).executeTakeFirst();
}

async function statusOf(id: number) {
  return (await ctx.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

async function bouncesOf(email: string) {
  return ctx.db.selectFrom('bounces').selectAll().where('email_hash', '=', hashEmail(email)).orderBy('id').execute();
}

async function eventsOf(id: number) {
  return ctx.db.selectFrom('events').selectAll().where('subscriber_id', '=', id).orderBy('id').execute();
}

async function eligible(): Promise<number> {
  return countQuery(eligibleMembers(ctx.db, ctx.listId));
}

describe('recordBounce', () => {
  it('suppresses a hard-bounced address and marks the subscriber bounced', async () => {
    const id = await addSubscriber(ctx, 'gone@example.com');
    await addSubscriber(ctx, 'here@example.com');
    const editionId = await edition();
    await delivery(editionId, id, 'failed');
    expect(await eligible()).toBe(2);

    const reply = '550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown in local recipient table';
    const c = classifyReply(550, reply);
    const kind = bounceKind(c);
    expect(kind).toBe('hard');
    const effect = await bounce('gone@example.com', kind as BounceKind, c.reason, editionId, { status: c.status, diagnostic: reply });
    expect(effect).toBe('suppressed');

    const row = await suppressed('gone@example.com');
    expect(row?.email_hash).toBe(hashEmail('gone@example.com'));
    expect(row?.email_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.reason).toContain('userunknown');
    expect(await statusOf(id)).toBe('bounced');

    const bounces = await bouncesOf('gone@example.com');
    expect(bounces).toHaveLength(1);
    expect(bounces[0]).toMatchObject({
      subscriber_id: id,
      edition_id: editionId,
      kind: 'hard',
      reason: 'userunknown',
      status_code: '5.1.1',
      diagnostic: reply,
      source: 'smtp',
      created_at: ctx.clock.now().toISOString(),
    });

    const events = await eventsOf(id);
    const bounced = events.filter((e) => e.type === 'bounced');
    expect(bounced).toHaveLength(1);
    expect(bounced[0]?.edition_id).toBe(editionId);
    expect(JSON.parse(bounced[0]?.data ?? '{}')).toMatchObject({ reason: 'userunknown', status: '5.1.1', source: 'smtp' });

    expect(await eligible()).toBe(1);
    expect(await suppressed('here@example.com')).toBeUndefined();
  });

  it('marks a complaint complained and suppresses it', async () => {
    const id = await addSubscriber(ctx, 'angry@example.com');
    await addSubscriber(ctx, 'happy@example.com');
    const editionId = await edition();
    await delivery(editionId, id, 'submitted');

    const effect = await bounce('angry@example.com', 'complaint', 'complaint', editionId, { source: 'arf' });
    expect(effect).toBe('complained');

    expect(await statusOf(id)).toBe('complained');
    expect(await suppressed('angry@example.com')).toMatchObject({ reason: 'complaint' });
    expect(await bouncesOf('angry@example.com')).toMatchObject([{ subscriber_id: id, kind: 'complaint', source: 'arf' }]);
    expect((await eventsOf(id)).map((e) => e.type)).toContain('complained');
    expect(await eligible()).toBe(1);
  });

  it('records a policy rejection and changes nothing about the address', async () => {
    const id = await addSubscriber(ctx, 'reader@outlook.com');
    const editionId = await edition();
    await delivery(editionId, id, 'failed');

    const reply =
      "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).";
    const c = classifyReply(550, reply);
    expect(bounceKind(c)).toBe('policy');
    const effect = await bounce('reader@outlook.com', 'policy', c.reason, editionId, { status: c.status, diagnostic: reply });
    expect(effect).toBe('recorded');

    expect(await bouncesOf('reader@outlook.com')).toMatchObject([{ subscriber_id: id, edition_id: editionId, kind: 'policy', reason: 'blocked', status_code: '5.7.1' }]);
    expect(await suppressed('reader@outlook.com')).toBeUndefined();
    expect(await statusOf(id)).toBe('active');
    expect(await eligible()).toBe(1);
  });

  it('never suppresses on policy rejections, however many editions in a row', async () => {
    const id = await addSubscriber(ctx, 'reader@outlook.com');
    for (let i = 0; i < SOFT_LIMIT + 2; i++) {
      const editionId = await edition();
      await delivery(editionId, id, 'failed');
      expect(await bounce('reader@outlook.com', 'policy', 'blocked', editionId, { status: '5.7.1' })).toBe('recorded');
    }
    expect(await bouncesOf('reader@outlook.com')).toHaveLength(SOFT_LIMIT + 2);
    expect(await suppressed('reader@outlook.com')).toBeUndefined();
    expect(await statusOf(id)).toBe('active');
    expect(await eligible()).toBe(1);
  });

  it('counts a soft bounce without suppressing it', async () => {
    const id = await addSubscriber(ctx, 'full@example.com');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted');

    expect(await bouncesOf('full@example.com')).toMatchObject([{ subscriber_id: id, kind: 'soft', reason: 'mailboxfull', status_code: '5.2.2' }]);
    expect((await eventsOf(id)).map((e) => e.type).filter((t) => t !== 'subscribed')).toEqual(['soft_bounced']);
    expect(await suppressed('full@example.com')).toBeUndefined();
    expect(await statusOf(id)).toBe('active');
    expect(await eligible()).toBe(1);
  });

  it('suppresses after soft bounces in softLimit editions in a row', async () => {
    const id = await addSubscriber(ctx, 'full@example.com');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted');
    expect(await suppressed('full@example.com')).toBeUndefined();
    expect(await eligible()).toBe(1);

    expect(await softBouncedEdition(id, 'full@example.com')).toBe('suppressed');
    expect(await suppressed('full@example.com')).toMatchObject({ email_hash: hashEmail('full@example.com') });
    expect(await statusOf(id)).toBe('bounced');
    expect(await bouncesOf('full@example.com')).toHaveLength(3);
    expect(await eligible()).toBe(0);
  });

  it('starts the streak again after a clean edition', async () => {
    const id = await addSubscriber(ctx, 'full@example.com');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted'); // 1
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted'); // 2
    await cleanEdition(id); // 3: delivered, no bounce
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted'); // 4

    expect(await suppressed('full@example.com')).toBeUndefined();
    expect(await statusOf(id)).toBe('active');
    expect(await eligible()).toBe(1);

    // 5 and then 6 make three in a row again (4, 5, 6).
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('suppressed');
    expect(await statusOf(id)).toBe('bounced');
  });

  it('counts two soft bounces in one edition as one edition of the streak', async () => {
    const id = await addSubscriber(ctx, 'full@example.com');
    const first = await edition();
    await delivery(first, id, 'failed');
    // The SMTP reply and the DSN that follows it both report the same edition.
    expect(await bounce('full@example.com', 'soft', 'mailboxfull', first, { source: 'smtp' })).toBe('counted');
    expect(await bounce('full@example.com', 'soft', 'mailboxfull', first, { source: 'dsn' })).toBe('counted');
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('counted');
    expect(await suppressed('full@example.com')).toBeUndefined();
    expect(await softBouncedEdition(id, 'full@example.com')).toBe('suppressed');
  });

  it('does not start a streak from editions the subscriber was not sent', async () => {
    const id = await addSubscriber(ctx, 'new@example.com');
    await addSubscriber(ctx, 'other@example.com');
    // Editions before this subscriber joined have no delivery to them.
    await edition();
    await edition();
    expect(await softBouncedEdition(id, 'new@example.com')).toBe('counted');
    expect(await suppressed('new@example.com')).toBeUndefined();
  });

  it('records a bounce for an address it does not know, without throwing', async () => {
    await addSubscriber(ctx, 'known@example.com');
    const editionId = await edition();

    await expect(bounce('stranger@example.com', 'soft', 'mailboxfull', editionId)).resolves.toBe('counted');
    await expect(bounce('stranger@example.com', 'policy', 'blocked', null)).resolves.toBe('recorded');
    await expect(bounce('stranger@example.com', 'hard', 'userunknown', editionId, { status: '5.1.1', source: 'dsn' })).resolves.toBe('suppressed');

    const bounces = await bouncesOf('stranger@example.com');
    expect(bounces).toHaveLength(3);
    for (const b of bounces) expect(b.subscriber_id).toBeNull();
    expect(bounces.map((b) => b.kind)).toEqual(['soft', 'policy', 'hard']);
    // A hard bounce still suppresses the hash, so the address is never mailed if it signs up.
    expect(await suppressed('stranger@example.com')).toBeDefined();
    // No events: there is no subscriber to hang them on (and no orphan rows with a null subscriber).
    expect(await ctx.db.selectFrom('events').select('type').where('type', '!=', 'subscribed').execute()).toEqual([]);
    expect(await eligible()).toBe(1);
  });

  it('records a complaint for an unknown address without throwing', async () => {
    await expect(bounce('stranger@example.com', 'complaint', 'complaint', null, { source: 'arf' })).resolves.toBe('complained');
    expect(await bouncesOf('stranger@example.com')).toMatchObject([{ subscriber_id: null, kind: 'complaint' }]);
    expect(await suppressed('stranger@example.com')).toMatchObject({ reason: 'complaint' });
  });

  it('suppresses an address only once when it hard-bounces twice', async () => {
    const id = await addSubscriber(ctx, 'gone@example.com');
    const editionId = await edition();
    await bounce('gone@example.com', 'hard', 'userunknown', editionId, { status: '5.1.1' });
    await bounce('gone@example.com', 'hard', 'userunknown', editionId, { status: '5.1.1', source: 'dsn' });
    const rows = await ctx.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hashEmail('gone@example.com')).execute();
    expect(rows).toHaveLength(1);
    expect(await bouncesOf('gone@example.com')).toHaveLength(2);
    expect(await statusOf(id)).toBe('bounced');
  });

  it('does not turn an unsubscribed subscriber into a bounced one', async () => {
    const id = await addSubscriber(ctx, 'left@example.com', { status: 'unsubscribed' });
    await bounce('left@example.com', 'hard', 'userunknown', null, { status: '5.1.1' });
    expect(await statusOf(id)).toBe('unsubscribed');
    expect(await suppressed('left@example.com')).toBeDefined();
  });

  it('keeps the first 1000 characters of a long diagnostic', async () => {
    await addSubscriber(ctx, 'gone@example.com');
    await bounce('gone@example.com', 'hard', 'userunknown', null, { diagnostic: `550 5.1.1 ${'x'.repeat(5000)}` });
    const [row] = await bouncesOf('gone@example.com');
    expect(row?.diagnostic).toHaveLength(1000);
  });
});

describe('bounceKind', () => {
  it('maps each class to what is recorded, and a transient failure to nothing', () => {
    expect(bounceKind({ class: 'hard', reason: 'userunknown', status: '5.1.1' })).toBe('hard');
    expect(bounceKind({ class: 'soft', reason: 'mailboxfull', status: '5.2.2' })).toBe('soft');
    expect(bounceKind({ class: 'policy', reason: 'blocked', status: '5.7.1' })).toBe('policy');
    expect(bounceKind({ class: 'transient', reason: 'networkerror', status: null })).toBeNull();
  });
});
