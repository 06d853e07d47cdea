// Subscription requests are answered before anything that depends on the address happens: the
// handler only queues the request. The worker drains the queue (state-dependent work and the
// email), and a crash anywhere loses no confirmation and at worst mails the same link twice.
import type { KyselyPlugin, RootOperationNode } from 'kysely';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { eraseSubscriber } from '../../src/audience/subscriptions.ts';
import { THIS_PROCESS } from '../../src/delivery/lease.ts';
import { outboxTransport, type Transport } from '../../src/delivery/transport.ts';
import { serveLimits } from '../../src/web/rate-limit.ts';
import { type DrainDeps, drainSubscriptionRequests } from '../../src/web/subscription-requests.ts';
import { addSubscriber, suppress } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { createWebTest, form, linkPath, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

let t: WebTest;
afterEach(async () => {
  await t.close();
});

/** Records every statement the app's handlers send to the database. */
function recorder(): { plugin: KyselyPlugin; queries: RootOperationNode[] } {
  const queries: RootOperationNode[] = [];
  return {
    queries,
    plugin: {
      transformQuery: ({ node }) => {
        queries.push(node);
        return node;
      },
      transformResult: async ({ result }) => result,
    },
  };
}

const queued = () => t.ctx.db.selectFrom('subscription_requests').selectAll().orderBy('id').execute();
const subscriber = (email: string) => t.ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();

/** A worker as a restarted `recap serve` builds it: same database, its own transport. */
function restarted(transport: Transport = outboxTransport(t.ctx.config.outboxDir)): DrainDeps {
  return { ...t.ctx, secret: TEST_SECRET, transport, log: (l) => t.logs.push(l), limits: serveLimits(t.ctx.db, t.ctx.clock, 1000, 1000) };
}

/** The outbox, but the connection "drops" after the server took the message: sent, not recorded. */
function dropsAfterSending(inner: Transport): Transport {
  return {
    target: inner.target,
    close: () => inner.close(),
    submit: async (message, file) => {
      await inner.submit(message, file);
      throw new Error('connection lost after DATA');
    },
  };
}

describe('the answer to a subscription request', () => {
  const STATES = ['new', 'pending', 'active', 'unsubscribed', 'bounced', 'complained', 'suppressed'] as const;

  async function addressesInEveryState(): Promise<Record<(typeof STATES)[number], string>> {
    await addSubscriber(t.ctx, 'pending@example.com', { status: 'pending' });
    await addSubscriber(t.ctx, 'active@example.com');
    await addSubscriber(t.ctx, 'unsubscribed@example.com', { status: 'unsubscribed' });
    await addSubscriber(t.ctx, 'bounced@example.com', { status: 'bounced' });
    await addSubscriber(t.ctx, 'complained@example.com', { status: 'complained' });
    await addSubscriber(t.ctx, 'suppressed@example.com');
    await suppress(t.ctx, 'suppressed@example.com');
    return Object.fromEntries(STATES.map((s) => [s, `${s}@example.com`])) as Record<(typeof STATES)[number], string>;
  }

  it.each([
    ['the form', (email: string) => t.app.request('/subscribe', { method: 'POST', body: form({ email, topics: ['compute'] }), headers: { ...SAME_ORIGIN, 'User-Agent': 'UA/1' } })],
    ['the JSON API', (email: string) => t.app.request('/api/subscribe', { method: 'POST', body: JSON.stringify({ email, topics: ['compute'] }), headers: { 'Content-Type': 'application/json', 'User-Agent': 'UA/1' } })],
  ])('through %s: same status, headers and body, and the same statements, whatever the address’s state', async (_, request) => {
    const rec = recorder();
    t = await createWebTest({}, undefined, { appDb: (db) => db.withPlugin(rec.plugin) });
    const addresses = await addressesInEveryState();
    const before = await t.ctx.db.selectFrom('subscribers').selectAll().orderBy('id').execute();

    const seen = [];
    for (const state of STATES) {
      rec.queries.length = 0;
      const res = await request(addresses[state]);
      const work = rec.queries.map((q) => JSON.stringify(q).replaceAll(addresses[state], '<email>'));
      seen.push({ state, status: res.status, headers: [...res.headers.entries()], body: (await res.text()).replaceAll(addresses[state], '<email>'), work });
    }
    const first = seen[0] as (typeof seen)[number];
    expect(first.status).toBeLessThan(300);
    for (const s of seen) expect({ ...s, state: first.state }).toEqual(first);
    // Nothing that reads or writes subscribers: the list's topics (to validate), then one insert.
    expect(rec.queries.map((q) => q.kind)).toEqual(['SelectQueryNode', 'InsertQueryNode']);
    expect(first.work.join('\n')).not.toMatch(/subscribers|suppressions|list_members/);

    // The answers changed nothing: every request waits in the queue, with its consent data.
    expect(await t.ctx.db.selectFrom('subscribers').selectAll().orderBy('id').execute()).toEqual(before);
    expect(await t.transactional()).toEqual([]);
    const rows = await queued();
    expect(rows.map((r) => r.email)).toEqual(STATES.map((s) => addresses[s]));
    expect(rows[0]).toMatchObject({ user_agent: 'UA/1', requested_at: t.ctx.clock.now().toISOString(), topics: '["compute"]', subscriber_id: null });

    // The worker then does what each state calls for.
    const report = await t.drain();
    expect(report).toEqual({ mailed: 3, quiet: 4, retrying: 0 });
    expect((await t.transactional()).map((m) => m.to).sort()).toEqual([addresses.new, addresses.pending, addresses.unsubscribed]);
    expect(await subscriber(addresses.new)).toMatchObject({ status: 'pending', consent_user_agent: 'UA/1' });
    expect(await queued()).toEqual([]);
  });
});

describe('draining the queue', () => {
  it('mails, on the next drain, a request that was answered but never drained (a crash right after the answer)', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'crash@example.com', name: 'Ada' }), headers: SAME_ORIGIN });
    // The process dies here: the app's worker never ran. A new one, over the same database:
    expect(await drainSubscriptionRequests(restarted())).toEqual({ mailed: 1, quiet: 0, retrying: 0 });
    const [mail] = await t.transactional();
    expect(mail?.to).toBe('crash@example.com');
    const res = await t.app.request(linkPath(mail?.text ?? '', '/confirm/'), { method: 'POST', headers: SAME_ORIGIN });
    expect(await res.text()).toContain('You are subscribed');
    expect(await queued()).toEqual([]);
  });

  it('keeps a request whose email failed, retries it later with the same link, and mails nothing twice', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'retry@example.com' }), headers: SAME_ORIGIN });
    const down: Transport = { target: 'down', close: async () => undefined, submit: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:25')) };
    expect(await drainSubscriptionRequests(restarted(down))).toEqual({ mailed: 0, quiet: 0, retrying: 1 });
    const [row] = await queued();
    expect(row).toMatchObject({ attempts: 1, last_error: 'connect ECONNREFUSED 127.0.0.1:25', next_attempt_at: '2026-11-30T08:01:00.000Z' });
    expect(row?.confirm_nonce).toBeTruthy();
    const requested = await t.ctx.db.selectFrom('events').select('id').where('type', '=', 'subscribe_requested').execute();
    expect(requested).toHaveLength(1);

    // Not due yet: nothing happens.
    expect(await t.drain()).toEqual({ mailed: 0, quiet: 0, retrying: 0 });
    t.ctx.clock.advance(60_000);
    expect(await t.drain()).toEqual({ mailed: 1, quiet: 0, retrying: 0 });
    expect(await t.drain()).toEqual({ mailed: 0, quiet: 0, retrying: 0 });
    const mails = await t.transactional();
    expect(mails).toHaveLength(1);
    // The retry did not record a second request, and its link is the one prepared the first time.
    expect(await t.ctx.db.selectFrom('events').select('id').where('type', '=', 'subscribe_requested').execute()).toHaveLength(1);
    const link = linkPath(mails[0]?.text ?? '', '/confirm/');
    const payload = Buffer.from(link.slice('/confirm/'.length).split('.')[0] as string, 'base64url').toString();
    expect(payload.split('.')[4]).toBe(row?.confirm_nonce);
    expect((await t.app.request(link, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(200);
  });

  it('re-sends at most the same link once when it crashed after the server took the email', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'twice@example.com' }), headers: SAME_ORIGIN });
    expect((await drainSubscriptionRequests(restarted(dropsAfterSending(outboxTransport(t.ctx.config.outboxDir))))).retrying).toBe(1);
    t.ctx.clock.advance(60_000);
    expect((await drainSubscriptionRequests(restarted())).mailed).toBe(1);
    const mails = await t.transactional();
    expect(mails).toHaveLength(2);
    const [a, b] = mails.map((m) => linkPath(m.text, '/confirm/'));
    expect(a).toBe(b);
    expect((await t.app.request(a as string, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(200);
  });

  it('drops a request whose link would have expired before it could be mailed', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'late@example.com' }), headers: SAME_ORIGIN });
    t.ctx.clock.advance(72 * 3_600_000);
    expect(await t.drain()).toEqual({ mailed: 0, quiet: 1, retrying: 0 });
    expect(await queued()).toEqual([]);
    expect(await t.transactional()).toEqual([]);
    expect(t.logs.join('\n')).toContain('expired');
  });

  it('mails once however many drains are asked for at once', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'once@example.com' }), headers: SAME_ORIGIN });
    const drains = [t.drain(), t.drain()];
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'later@example.com' }), headers: SAME_ORIGIN });
    drains.push(t.drain());
    await Promise.all(drains);
    // Each address once, the one queued while the first drain ran included.
    expect((await t.transactional()).map((m) => m.to).sort()).toEqual(['later@example.com', 'once@example.com']);
    expect(await queued()).toEqual([]);
  });

  it('mails each request once when the workers of two processes drain the queue at the same time', async () => {
    t = await createWebTest();
    const emails = Array.from({ length: 8 }, (_, i) => `both-${i}@example.com`);
    for (const email of emails) await t.app.request('/subscribe', { method: 'POST', body: form({ email }), headers: SAME_ORIGIN });
    // Two workers, each with its own transport, as two processes have; they share one connection
    // here (better-sqlite3 blocks the thread while another connection writes), and interleave at
    // every statement. test/cli/serve-several.test.ts runs two real processes.
    const reports = await Promise.all([drainSubscriptionRequests(restarted()), drainSubscriptionRequests(restarted())]);
    expect(reports.reduce((n, r) => n + r.mailed, 0)).toBe(8);
    expect(reports.every((r) => r.mailed > 0), 'both workers took part').toBe(true);
    expect((await t.transactional()).map((m) => m.to).sort()).toEqual([...emails].sort());
    expect(await queued()).toEqual([]);
  });

  it('leaves a request claimed by a live worker to it until the claim runs out, and takes over a dead one’s at once', async () => {
    t = await createWebTest();
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'live@example.com' }), headers: SAME_ORIGIN });
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'dead@example.com' }), headers: SAME_ORIGIN });
    const until = new Date(t.ctx.clock.now().getTime() + 10 * 60_000).toISOString();
    // A worker of this process (alive), and one of a process on this host that no longer exists.
    await t.ctx.db.updateTable('subscription_requests').set({ claimed_by: `${THIS_PROCESS}:other`, claimed_until: until }).where('email', '=', 'live@example.com').execute();
    await t.ctx.db.updateTable('subscription_requests').set({ claimed_by: `${hostname()}:4194303:0123456789abcdef:gone`, claimed_until: until }).where('email', '=', 'dead@example.com').execute();

    expect(await t.drain()).toEqual({ mailed: 1, quiet: 0, retrying: 0 });
    expect((await t.transactional()).map((m) => m.to)).toEqual(['dead@example.com']);
    expect((await queued()).map((r) => r.email)).toEqual(['live@example.com']);

    t.ctx.clock.set(until);
    expect(await t.drain()).toEqual({ mailed: 1, quiet: 0, retrying: 0 });
    expect((await t.transactional()).map((m) => m.to).sort()).toEqual(['dead@example.com', 'live@example.com']);
  });

  it('runs by itself after the answer in `recap serve`’s set-up', async () => {
    t = await createWebTest({}, undefined, { background: true });
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'bg@example.com' }), headers: SAME_ORIGIN });
    expect(res.status).toBe(200);
    await t.drain(); // waits for the drain the answer woke
    expect((await t.transactional()).map((m) => m.to)).toEqual(['bg@example.com']);
  });

  it('forgets queued requests of an address that is erased', async () => {
    t = await createWebTest();
    const id = await addSubscriber(t.ctx, 'gone@example.com', { status: 'unsubscribed' });
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'gone@example.com' }), headers: SAME_ORIGIN });
    await eraseSubscriber(t.ctx.db, id, t.ctx.clock.now());
    expect(await queued()).toEqual([]);
  });
});
