// Segments and the edition audience, against a real migrated SQLite database. Subscribers go in
// through the same validation and upsert as the importers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubscriberStatus } from '../../db/schema.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { NotFoundError } from '../../src/audience/lists.ts';
import {
  audienceBreakdown,
  countQuery,
  createSegment,
  eligibleMembers,
  findSegment,
  segmentMembers,
  segmentRulesSchema,
} from '../../src/audience/segments.ts';
import { subscriberInputSchema, upsertSubscriber } from '../../src/audience/subscribers.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext();
});

afterEach(async () => {
  await ctx.close();
});

interface Person {
  status?: SubscriberStatus;
  /** Defaults to true unless the status is pending. */
  confirmed?: boolean;
  topics?: string[];
  attributes?: Record<string, string>;
  /** Sign-up time (consent.at), which becomes created_at. */
  signedUpAt?: string;
  listId?: number;
}

async function add(email: string, person: Person = {}): Promise<void> {
  const status = person.status ?? 'active';
  const confirmed = person.confirmed ?? status !== 'pending';
  const at = person.signedUpAt ?? '2026-06-01T12:00:00Z';
  const input = subscriberInputSchema.parse({
    email,
    topics: person.topics ?? [],
    attributes: person.attributes,
    status,
    consent: { at, source: 'test', confirmedAt: confirmed ? at : null },
  });
  await upsertSubscriber(ctx.db, person.listId ?? ctx.listId, input, ctx.clock.now());
}

async function suppress(email: string): Promise<void> {
  await ctx.db.insertInto('suppressions').values({ email_hash: hashEmail(email), reason: 'bounced', created_at: ctx.clock.now().toISOString() }).execute();
}

async function leaveList(email: string): Promise<void> {
  const { id } = await ctx.db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirstOrThrow();
  await ctx.db
    .updateTable('list_members')
    .set({ status: 'unsubscribed' })
    .where('subscriber_id', '=', id)
    .where('list_id', '=', ctx.listId)
    .execute();
}

type Query = ReturnType<typeof segmentMembers>;

async function emails(query: Query): Promise<string[]> {
  const rows = await query.select('s.email').orderBy('s.email').execute();
  return rows.map((r) => r.email);
}

describe('eligibleMembers', () => {
  it('counts an active, confirmed member', async () => {
    await add('ada@example.com');
    expect(await countQuery(eligibleMembers(ctx.db, ctx.listId))).toBe(1);
  });

  it('leaves out pending, unsubscribed, bounced and complained subscribers', async () => {
    await add('ada@example.com');
    await add('pending@example.com', { status: 'pending' });
    await add('unsub@example.com', { status: 'unsubscribed' });
    await add('bounced@example.com', { status: 'bounced' });
    await add('complained@example.com', { status: 'complained' });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId))).toEqual(['ada@example.com']);
    expect(await countQuery(eligibleMembers(ctx.db, ctx.listId))).toBe(1);
  });

  it('leaves out an active subscriber who never confirmed', async () => {
    await add('ada@example.com');
    await add('unconfirmed@example.com', { confirmed: false });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId))).toEqual(['ada@example.com']);
  });

  it('leaves out a subscriber whose list membership is unsubscribed', async () => {
    await add('ada@example.com');
    await add('left@example.com');
    await leaveList('left@example.com');
    expect(await emails(eligibleMembers(ctx.db, ctx.listId))).toEqual(['ada@example.com']);
  });

  it('leaves out a suppressed address', async () => {
    await add('ada@example.com');
    await add('suppressed@example.com');
    await suppress('suppressed@example.com');
    expect(await emails(eligibleMembers(ctx.db, ctx.listId))).toEqual(['ada@example.com']);
  });

  it('leaves out subscribers of another list', async () => {
    const other = await ctx.db
      .insertInto('lists')
      .values({ slug: 'other-list', name: 'Other', created_at: ctx.clock.now().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await add('ada@example.com');
    await add('elsewhere@example.com', { listId: other.id });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId))).toEqual(['ada@example.com']);
    expect(await emails(eligibleMembers(ctx.db, other.id))).toEqual(['elsewhere@example.com']);
  });
});

describe('segment rules', () => {
  it('topics match subscribers who follow any of the topics', async () => {
    await add('compute@example.com', { topics: ['compute'] });
    await add('policy@example.com', { topics: ['policy', 'safety'] });
    await add('safety@example.com', { topics: ['safety'] });
    await add('none@example.com');
    const rules = segmentRulesSchema.parse({ topics: ['compute', 'policy'] });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['compute@example.com', 'policy@example.com']);
  });

  it('status matches subscribers with one of the statuses', async () => {
    await add('active@example.com');
    await add('pending@example.com', { status: 'pending' });
    await add('unsub@example.com', { status: 'unsubscribed' });
    await add('bounced@example.com', { status: 'bounced' });
    const rules = segmentRulesSchema.parse({ status: ['pending', 'unsubscribed'] });
    expect(await emails(segmentMembers(ctx.db, ctx.listId, rules))).toEqual(['pending@example.com', 'unsub@example.com']);
  });

  it('an attribute rule matches only the exact value', async () => {
    await add('acme@example.com', { attributes: { company: 'Acme' } });
    await add('acme-inc@example.com', { attributes: { company: 'Acme Inc' } });
    await add('lower@example.com', { attributes: { company: 'acme' } });
    await add('none@example.com');
    const rules = segmentRulesSchema.parse({ attributes: { company: 'Acme' } });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['acme@example.com']);
  });

  it('several attribute rules must all match', async () => {
    await add('both@example.com', { attributes: { company: 'Acme', role: 'CTO' } });
    await add('company@example.com', { attributes: { company: 'Acme', role: 'Engineer' } });
    await add('role@example.com', { attributes: { company: 'Other', role: 'CTO' } });
    const rules = segmentRulesSchema.parse({ attributes: { company: 'Acme', role: 'CTO' } });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['both@example.com']);
  });

  it('signedUpFrom includes subscribers from the start of that UTC day', async () => {
    await add('before@example.com', { signedUpAt: '2026-01-31T23:59:59Z' });
    await add('midnight@example.com', { signedUpAt: '2026-02-01T00:00:00Z' });
    await add('later@example.com', { signedUpAt: '2026-03-15T10:00:00Z' });
    const rules = segmentRulesSchema.parse({ signedUpFrom: '2026-02-01' });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['later@example.com', 'midnight@example.com']);
  });

  it('signedUpBefore excludes subscribers from the start of that UTC day on', async () => {
    await add('earlier@example.com', { signedUpAt: '2026-01-10T10:00:00Z' });
    await add('last-second@example.com', { signedUpAt: '2026-02-28T23:59:59Z' });
    await add('midnight@example.com', { signedUpAt: '2026-03-01T00:00:00Z' });
    const rules = segmentRulesSchema.parse({ signedUpBefore: '2026-03-01' });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['earlier@example.com', 'last-second@example.com']);
  });

  it('combined rules must all hold', async () => {
    const cto = { company: 'Acme', role: 'CTO' };
    await add('all@example.com', { topics: ['compute'], attributes: cto, signedUpAt: '2026-05-01T00:00:00Z' });
    await add('wrong-topic@example.com', { topics: ['policy'], attributes: cto, signedUpAt: '2026-05-01T00:00:00Z' });
    await add('wrong-role@example.com', { topics: ['compute'], attributes: { company: 'Acme', role: 'Intern' }, signedUpAt: '2026-05-01T00:00:00Z' });
    await add('too-early@example.com', { topics: ['compute'], attributes: cto, signedUpAt: '2026-01-01T00:00:00Z' });
    await add('too-late@example.com', { topics: ['compute'], attributes: cto, signedUpAt: '2026-09-01T00:00:00Z' });
    const rules = segmentRulesSchema.parse({
      topics: ['compute', 'data-center'],
      status: ['active'],
      attributes: { role: 'CTO' },
      signedUpFrom: '2026-02-01',
      signedUpBefore: '2026-08-01',
    });
    expect(await emails(eligibleMembers(ctx.db, ctx.listId, rules))).toEqual(['all@example.com']);
  });
});

describe('saved segments', () => {
  it('createSegment and findSegment round-trip the rules', async () => {
    const rules = segmentRulesSchema.parse({
      topics: ['compute', 'policy'],
      status: ['active'],
      attributes: { role: 'CTO' },
      signedUpFrom: '2026-02-01',
      signedUpBefore: '2026-08-01',
    });
    await createSegment(ctx.db, { name: 'infra-leads', listId: ctx.listId, rules }, ctx.clock.now());
    const found = await findSegment(ctx.db, 'infra-leads');
    expect(found.parsedRules).toEqual(rules);
    expect(found.list_id).toBe(ctx.listId);
  });

  it('createSegment rejects a name that is already taken', async () => {
    await createSegment(ctx.db, { name: 'infra-leads', listId: ctx.listId, rules: {} }, ctx.clock.now());
    await expect(createSegment(ctx.db, { name: 'infra-leads', listId: ctx.listId, rules: { topics: ['compute'] } }, ctx.clock.now())).rejects.toThrow(
      /already exists/,
    );
    const rows = await ctx.db.selectFrom('segments').select('rules').execute();
    expect(rows.map((r) => JSON.parse(r.rules))).toEqual([{}]);
  });

  it('findSegment throws NotFoundError for an unknown name', async () => {
    await expect(findSegment(ctx.db, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('the NotFoundError for an unknown segment lists the known ones', async () => {
    await createSegment(ctx.db, { name: 'beta', listId: ctx.listId, rules: {} }, ctx.clock.now());
    await createSegment(ctx.db, { name: 'alpha', listId: ctx.listId, rules: {} }, ctx.clock.now());
    await expect(findSegment(ctx.db, 'gamma')).rejects.toThrow(/no segment "gamma".*alpha, beta/);
  });
});

describe('audienceBreakdown', () => {
  it('counts the eligible members and the excluded ones by reason', async () => {
    await add('ada@example.com');
    await add('ben@example.com');
    await add('pending@example.com', { status: 'pending' });
    await add('unsub@example.com', { status: 'unsubscribed' });
    await add('bounced@example.com', { status: 'bounced' });
    await add('unconfirmed@example.com', { confirmed: false });
    await add('left@example.com');
    await leaveList('left@example.com');
    await add('suppressed@example.com');
    await suppress('suppressed@example.com');
    expect(await audienceBreakdown(ctx.db, ctx.listId)).toEqual({
      members: 8,
      eligible: 2,
      excluded: { pending: 1, unsubscribed: 1, bounced: 1, unconfirmed: 1, 'left the list': 1, suppressed: 1 },
    });
  });

  it('agrees with eligibleMembers on the eligible count', async () => {
    await add('ada@example.com', { topics: ['compute'] });
    await add('ben@example.com', { topics: ['policy'] });
    await add('suppressed@example.com', { topics: ['compute'] });
    await suppress('suppressed@example.com');
    await add('pending@example.com', { status: 'pending', topics: ['compute'] });
    const rules = segmentRulesSchema.parse({ topics: ['compute'] });
    const breakdown = await audienceBreakdown(ctx.db, ctx.listId, rules);
    expect(breakdown).toEqual({ members: 3, eligible: 1, excluded: { suppressed: 1, pending: 1 } });
    expect(await countQuery(eligibleMembers(ctx.db, ctx.listId, rules))).toBe(breakdown.eligible);
  });
});

describe('segmentRulesSchema', () => {
  it('rejects a date that is not a calendar date', () => {
    expect(segmentRulesSchema.safeParse({ signedUpFrom: '2026-13-01' }).success).toBe(false);
    expect(segmentRulesSchema.safeParse({ signedUpBefore: '31/01/2026' }).success).toBe(false);
  });

  it('rejects an unknown status', () => {
    expect(segmentRulesSchema.safeParse({ status: ['vip'] }).success).toBe(false);
  });

  it('accepts well-formed rules', () => {
    expect(segmentRulesSchema.safeParse({ topics: ['compute'], status: ['active'], signedUpFrom: '2026-01-31' }).success).toBe(true);
  });
});
