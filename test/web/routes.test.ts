// Every path of `recap serve` through the app's request function, against a real SQLite file.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashEmail } from '../../src/audience/email.ts';
import { countQuery, eligibleMembers } from '../../src/audience/segments.ts';
import { signToken, subscriberLinks } from '../../src/audience/tokens.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, form, linkPath, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

let t: WebTest;
beforeEach(async () => {
  t = await createWebTest();
});
afterEach(async () => {
  await t.close();
});

const post = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
  t.app.request('/subscribe', { method: 'POST', body: form(fields), headers: { ...SAME_ORIGIN, ...headers } });

/** Posts the form, then lets the worker do what `recap serve` does once the answer has gone. */
async function subscribe(fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
  const res = await post(fields, headers);
  await t.drain();
  return res;
}

async function subscriber(email: string) {
  return t.ctx.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
}

async function events(type: string) {
  return t.ctx.db.selectFrom('events').selectAll().where('type', '=', type).execute();
}

/** Subscribes and confirms through the pages; returns the subscriber id. */
async function subscribeAndConfirm(email: string, topics: string[] = ['compute']): Promise<number> {
  await subscribe({ email, name: 'Ada', topics });
  const mails = await t.transactional();
  const confirm = linkPath(mails[mails.length - 1]?.text ?? '', '/confirm/');
  const res = await t.app.request(confirm, { method: 'POST', headers: SAME_ORIGIN });
  expect(res.status).toBe(200);
  return (await subscriber(email))?.id as number;
}

describe('security headers', () => {
  it('sends a strict Content-Security-Policy and friends on every page', async () => {
    for (const path of ['/subscribe', '/archive', '/nope', '/healthz']) {
      const res = await t.app.request(path);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('loads nothing from other hosts', async () => {
    const body = await (await t.app.request('/subscribe')).text();
    expect(body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(body).not.toMatch(/<script[^>]*src=/);
    expect(body).not.toMatch(/ style="/);
  });
});

describe('subscribe', () => {
  it('shows a form with the list’s topics and a honeypot', async () => {
    const body = await (await t.app.request('/subscribe')).text();
    expect(body).toContain('name="email"');
    expect(body).toContain('value="compute"');
    expect(body).toContain('value="data-center"');
    expect(body).toContain('name="website"');
  });

  it('stores a pending subscriber with the consent record and mails a confirmation link', async () => {
    const res = await subscribe({ email: 'New@Example.com', name: 'Ada Lovelace', topics: ['compute', 'policy'] }, { 'User-Agent': 'TestBrowser/1.0', 'X-Forwarded-For': '203.0.113.9' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    const s = await subscriber('new@example.com');
    expect(s).toMatchObject({ status: 'pending', confirmed_at: null, consent_source: 'form', consent_user_agent: 'TestBrowser/1.0', name: 'Ada Lovelace' });
    expect(s?.consent_at).toBe(t.ctx.clock.now().toISOString());
    const topics = await t.ctx.db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', s?.id as number).orderBy('topic').execute();
    expect(topics.map((x) => x.topic)).toEqual(['compute', 'policy']);
    const [mail] = await t.transactional();
    expect(mail?.to).toBe('new@example.com');
    expect(mail?.subject).toBe('Confirm your subscription to Weekly AI Recap');
    expect(mail?.text).toMatch(/https:\/\/recap\.test\/confirm\/[\w-]+\.[\w-]+/);
    expect(mail?.html).toContain('Confirm my subscription');
  });

  it('answers the same for a new, a pending and an active address, and mails no active one', async () => {
    await addSubscriber(t.ctx, 'active@example.com');
    const answers = [];
    for (const email of ['fresh@example.com', 'fresh@example.com', 'active@example.com']) {
      const res = await subscribe({ email });
      answers.push([res.status, (await res.text()).replace(/\s+/g, ' ')]);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const mails = await t.transactional();
    expect(mails.map((m) => m.to)).toEqual(['fresh@example.com', 'fresh@example.com']);
    expect((await subscriber('active@example.com'))?.status).toBe('active');
  });

  it('accepts the same as JSON for other sites, with CORS', async () => {
    const res = await t.app.request('/api/subscribe', {
      method: 'POST',
      body: JSON.stringify({ email: 'json@example.com', topics: ['models'] }),
      headers: { 'Content-Type': 'application/json', Origin: 'https://elsewhere.example' },
    });
    await t.drain();
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await subscriber('json@example.com'))?.consent_source).toBe('api');
  });

  it('stores nothing and sends nothing when the honeypot is filled, yet answers as usual', async () => {
    const res = await subscribe({ email: 'bot@example.com', website: 'http://spam.example' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    expect(await subscriber('bot@example.com')).toBeUndefined();
    expect(await t.transactional()).toEqual([]);
  });

  it.each([
    [{ email: 'not-an-address' }, 'email: is not a valid email address'],
    [{ email: `${'a'.repeat(250)}@example.com` }, 'email: must be at most 254 characters'],
    [{ email: 'ok@example.com', name: 'x'.repeat(101) }, 'name: must be at most 100 characters'],
    [{ email: 'ok@example.com', name: '<script>alert(1)</script>' }, 'name: must not contain &lt; or &gt;'],
    [{ email: 'ok@example.com', name: 'Visit https://spam.example' }, 'name: must not contain a link'],
    [{ email: 'ok@example.com', topics: ['quantum-crypto'] }, 'topics[0]: is not a topic of this list'],
    [{ email: 'ok@example.com', topics: ['<b>'] }, 'is not a topic slug'],
  ])('rejects %j with a clear 400, stores nothing and escapes what it shows', async (fields, message) => {
    const res = await subscribe(fields as Record<string, string | string[]>);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain(message);
    expect(body).not.toContain('<script>alert');
    expect(body).not.toContain('<b>');
    expect(await t.ctx.db.selectFrom('subscribers').select('id').execute()).toEqual([]);
    expect(await t.transactional()).toEqual([]);
  });

  it('rejects bad JSON input with 400 and the reasons', async () => {
    const res = await t.app.request('/api/subscribe', { method: 'POST', body: JSON.stringify({ email: 'x', name: '<i>' }), headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: string[] };
    expect(body.errors).toEqual(expect.arrayContaining(['email: is not a valid email address', 'name: must not contain < or >']));
  });

  it('refuses a form posted from another site', async () => {
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'x@example.com' }), headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(await subscriber('x@example.com')).toBeUndefined();
  });

  it('limits requests per IP with 429', async () => {
    await t.close();
    t = await createWebTest({ RECAP_TRUST_PROXY: 'true' }, { perIp: 2, perAddress: 100 });
    const from = (ip: string, email: string) => subscribe({ email }, { 'X-Forwarded-For': ip });
    expect((await from('198.51.100.1', 'a@example.com')).status).toBe(200);
    expect((await from('198.51.100.1', 'b@example.com')).status).toBe(200);
    expect((await from('198.51.100.1', 'c@example.com')).status).toBe(429);
    expect((await from('198.51.100.2', 'd@example.com')).status).toBe(200);
    t.ctx.clock.set('2026-11-30T08:16:00Z');
    expect((await from('198.51.100.1', 'e@example.com')).status).toBe(200);
  });

  it('sends at most the per-address number of confirmations, quietly', async () => {
    await t.close();
    t = await createWebTest({}, { perIp: 100, perAddress: 2 });
    for (let i = 0; i < 4; i++) expect((await subscribe({ email: 'flood@example.com' })).status).toBe(200);
    expect(await t.transactional()).toHaveLength(2);
  });
});

describe('confirm', () => {
  it('never confirms on GET; the page’s button POSTs and activates, recording consent', async () => {
    await subscribe({ email: 'c@example.com', topics: ['policy'] }, { 'User-Agent': 'UA/2' });
    const [mail] = await t.transactional();
    const path = linkPath(mail?.text ?? '', '/confirm/');
    const get = await t.app.request(path);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain('<form method="post">');
    expect((await subscriber('c@example.com'))?.status).toBe('pending');
    t.ctx.clock.set('2026-11-30T09:00:00Z');
    const post = await t.app.request(path, { method: 'POST', headers: { ...SAME_ORIGIN, 'User-Agent': 'UA/3' } });
    expect(post.status).toBe(200);
    const body = await post.text();
    expect(body).toContain('You are subscribed');
    expect(body).toMatch(/href="https:\/\/recap\.test\/preferences\/[\w.-]+"/);
    const s = await subscriber('c@example.com');
    expect(s).toMatchObject({ status: 'active', confirmed_at: '2026-11-30T09:00:00.000Z', consent_at: '2026-11-30T08:00:00.000Z', consent_user_agent: 'UA/2' });
    const confirmed = await events('confirmed');
    expect(JSON.parse(confirmed[0]?.data ?? '{}')).toMatchObject({ userAgent: 'UA/3' });
    // The link is spent: a second POST says it was already done, and changes nothing.
    const again = await t.app.request(path, { method: 'POST', headers: SAME_ORIGIN });
    expect(await again.text()).toContain('already subscribed');
  });

  it('rejects tampered, expired, wrong-purpose and superseded tokens', async () => {
    await subscribe({ email: 'd@example.com' });
    const [first] = await t.transactional();
    const path = linkPath(first?.text ?? '', '/confirm/');
    const token = path.slice('/confirm/'.length);
    const id = (await subscriber('d@example.com'))?.id as number;
    // One character of the signature changed (to one it is not).
    const tampered = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.slice(-1)}`;
    const wrongPurpose = signToken(TEST_SECRET, { purpose: 'unsubscribe', subscriberId: id, listId: t.ctx.listId });
    const otherSecret = signToken('another-secret-0123456789abcdef0123456789', { purpose: 'confirm', subscriberId: id, listId: t.ctx.listId, expiresAt: new Date('2026-12-03T08:00:00Z') });
    for (const bad of [tampered, wrongPurpose, otherSecret, 'garbage', 'a.b']) {
      const res = await t.app.request(`/confirm/${bad}`, { method: 'POST', headers: SAME_ORIGIN });
      expect(res.status, bad).toBe(400);
    }
    // A newer request replaces the older link.
    t.ctx.clock.set('2026-11-30T10:00:00Z');
    await subscribe({ email: 'd@example.com' });
    expect((await t.app.request(path, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(400);
    // Expired: three days and a bit later.
    const mails = await t.transactional();
    const latest = linkPath(mails[1]?.text ?? '', '/confirm/');
    t.ctx.clock.set('2026-12-03T10:00:01Z');
    expect((await t.app.request(latest, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(400);
    expect((await subscriber('d@example.com'))?.status).toBe('pending');
  });

  it('lets only the newest of two requests made in the same millisecond confirm', async () => {
    await subscribe({ email: 'fast@example.com', topics: ['compute'] });
    const [older] = await t.transactional();
    await subscribe({ email: 'fast@example.com', topics: ['policy'] }); // the clock has not moved
    const newer = (await t.transactional()).find((m) => m.text !== older?.text);
    const olderPath = linkPath(older?.text ?? '', '/confirm/');
    const newerPath = linkPath(newer?.text ?? '', '/confirm/');
    expect(newerPath).not.toBe(olderPath);
    expect((await t.app.request(olderPath)).status).toBe(400);
    expect((await t.app.request(olderPath, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(400);
    expect((await subscriber('fast@example.com'))?.status).toBe('pending');
    expect((await t.app.request(newerPath, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(200);
    expect((await subscriber('fast@example.com'))?.status).toBe('active');
    // And once confirmed, the older link still does nothing.
    expect(await (await t.app.request(olderPath, { method: 'POST', headers: SAME_ORIGIN })).text()).toContain('already subscribed');
  });

  it('sends a welcome email when configured', async () => {
    await t.close();
    t = await createWebTest({ RECAP_WELCOME_EMAIL: 'true' });
    await subscribeAndConfirm('w@example.com');
    const mails = await t.transactional();
    expect(mails.map((m) => m.subject).sort()).toEqual(['Confirm your subscription to Weekly AI Recap', 'Welcome to Weekly AI Recap']);
    expect(mails.find((m) => m.subject.startsWith('Welcome'))?.text).toContain('https://recap.test/preferences/');
  });

  it('greets by first name in the confirmation and the welcome email', async () => {
    await t.close();
    t = await createWebTest({ RECAP_WELCOME_EMAIL: 'true' });
    await subscribe({ email: 'chidi@example.org', name: 'Okafor, Chidi' });
    const [confirmation] = await t.transactional();
    expect(confirmation?.text).toContain('Hi Chidi, someone');
    expect(confirmation?.html.replace(/<!-- -->/g, '')).toContain('Hi Chidi, someone');
    // A first name set before confirming (the CLI, an import) is what the welcome uses.
    await t.ctx.db.updateTable('subscribers').set({ first_name: 'Emeka' }).where('email', '=', 'chidi@example.org').execute();
    await t.app.request(linkPath(confirmation?.text ?? '', '/confirm/'), { method: 'POST', headers: SAME_ORIGIN });
    const welcome = (await t.transactional()).find((m) => m.subject.startsWith('Welcome'));
    expect(welcome?.text).toContain('Hi Emeka, you are subscribed');
    expect(welcome?.html.replace(/<!-- -->/g, '')).toContain('Hi Emeka, you are subscribed');
    for (const mail of await t.transactional()) expect(mail.text + mail.html).not.toContain('Hi Okafor');
  });

  it('greets neutrally when no first name can be told from the name', async () => {
    await subscribe({ email: 'nameless@example.org', name: '' });
    await subscribe({ email: 'emoji@example.org', name: '😀 🚀' });
    for (const mail of await t.transactional()) expect(mail.text).toContain('Hi there, someone');
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  let id: number;
  let path: string;
  beforeEach(async () => {
    id = await addSubscriber(t.ctx, 'u@example.com', { topics: ['compute'] });
    path = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).unsubscribeUrl).pathname;
  });

  it('never unsubscribes on GET: it shows a page whose button POSTs', async () => {
    const res = await t.app.request(path);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('<form method="post">');
    expect(body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(body).toContain('u**@example.com');
    expect((await subscriber('u@example.com'))?.status).toBe('active');
  });

  it('unsubscribes at once on a urlencoded POST with no cookie, answers 200 without redirect, and is idempotent', async () => {
    const post = () => t.app.request(path, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://mail.provider.example' } });
    const first = await post();
    expect(first.status).toBe(200);
    expect(first.headers.get('location')).toBeNull();
    expect((await subscriber('u@example.com'))?.status).toBe('unsubscribed');
    const member = await t.ctx.db.selectFrom('list_members').select('status').where('subscriber_id', '=', id).executeTakeFirst();
    expect(member?.status).toBe('unsubscribed');
    const second = await post();
    expect(second.status).toBe(200);
    expect(await events('unsubscribed')).toHaveLength(1);
  });

  it('accepts multipart/form-data as well', async () => {
    const body = new FormData();
    body.append('List-Unsubscribe', 'One-Click');
    const res = await t.app.request(path, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect((await subscriber('u@example.com'))?.status).toBe('unsubscribed');
  });

  it('rejects a tampered or wrong-purpose token and changes nothing', async () => {
    const prefs = signToken(TEST_SECRET, { purpose: 'preferences', subscriberId: id, listId: t.ctx.listId });
    for (const bad of [`${path}x`, `/unsubscribe/${prefs}`]) {
      const res = await t.app.request(bad, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(400);
    }
    expect((await subscriber('u@example.com'))?.status).toBe('active');
  });

  it('leaves the address out of the next send', async () => {
    await addSubscriber(t.ctx, 'stays@example.com');
    await t.app.request(path, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const report = await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    expect(report.kind === 'sent' && report.outcome.submitted).toBe(1);
    const who = await t.ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select('s.email').execute();
    expect(who.map((w) => w.email)).toEqual(['stays@example.com']);
  });
});

describe('tokens act on the membership of the list they name, and only on it', () => {
  let id: number;
  let other: number;
  const NO_SUCH_LIST = 999;
  let notMember: number;
  const oneClick = (listId: number) =>
    t.app.request(new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, listId).unsubscribeUrl).pathname, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  const memberships = async () => {
    const rows = await t.ctx.db.selectFrom('list_members').select(['list_id', 'status']).where('subscriber_id', '=', id).orderBy('list_id').execute();
    return Object.fromEntries(rows.map((r) => [r.list_id, r.status]));
  };
  const newList = async (slug: string) => {
    const row = await t.ctx.db.insertInto('lists').values({ slug, name: slug, created_at: t.ctx.clock.now().toISOString() }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  };

  beforeEach(async () => {
    id = await addSubscriber(t.ctx, 'two-lists@example.com');
    other = await newList('other');
    notMember = await newList('not-member');
    await t.ctx.db.insertInto('list_members').values({ list_id: other, subscriber_id: id, status: 'active', created_at: '2026-11-30T08:00:00.000Z', updated_at: '2026-11-30T08:00:00.000Z', confirm_nonce: null }).execute();
  });

  it.each([
    ['a list that does not exist', () => NO_SUCH_LIST],
    ['a list the subscriber is not a member of', () => notMember],
  ])('refuses every kind of token for %s and changes nothing', async (_, listOf) => {
    const listId = listOf();
    const before = { row: await subscriber('two-lists@example.com'), members: await memberships() };
    const links = subscriberLinks('https://recap.test', TEST_SECRET, id, listId);
    const confirm = `/confirm/${signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: id, listId, expiresAt: new Date('2026-12-01T08:00:00Z'), nonce: 'abc' })}`;
    const prefs = new URL(links.preferencesUrl).pathname;
    const one = await oneClick(listId);
    expect(one.status).toBe(404);
    expect(await one.text()).toContain('not a member');
    const refused = [
      await t.app.request(new URL(links.unsubscribeUrl).pathname),
      await t.app.request(prefs),
      await t.app.request(`${prefs}/data.json`),
      await t.app.request(prefs, { method: 'POST', body: form({ action: 'unsubscribe' }), headers: SAME_ORIGIN }),
      await t.app.request(prefs, { method: 'POST', body: form({ action: 'resubscribe' }), headers: SAME_ORIGIN }),
      await t.app.request(prefs, { method: 'POST', body: form({ action: 'pause' }), headers: SAME_ORIGIN }),
      await t.app.request(confirm),
      await t.app.request(confirm, { method: 'POST', headers: SAME_ORIGIN }),
    ];
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 400));
    await t.drain();
    expect({ row: await subscriber('two-lists@example.com'), members: await memberships() }).toEqual(before);
    expect(await events('unsubscribed')).toEqual([]);
    expect(await t.transactional()).toEqual([]);
  });

  it('unsubscribes from the named list only; the address leaves for good when no list is left', async () => {
    expect((await oneClick(other)).status).toBe(200);
    expect(await memberships()).toEqual({ [t.ctx.listId]: 'active', [other]: 'unsubscribed' });
    expect((await subscriber('two-lists@example.com'))?.status).toBe('active');
    expect(await countQuery(eligibleMembers(t.ctx.db, other))).toBe(0);
    expect(await countQuery(eligibleMembers(t.ctx.db, t.ctx.listId))).toBe(1);

    const prefs = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).preferencesUrl).pathname;
    expect((await t.app.request(prefs, { method: 'POST', body: form({ action: 'unsubscribe' }), headers: SAME_ORIGIN })).status).toBe(200);
    expect(await memberships()).toEqual({ [t.ctx.listId]: 'unsubscribed', [other]: 'unsubscribed' });
    expect((await subscriber('two-lists@example.com'))?.status).toBe('unsubscribed');
    expect(await countQuery(eligibleMembers(t.ctx.db, t.ctx.listId))).toBe(0);
    expect((await events('unsubscribed')).map((e) => JSON.parse(e.data ?? '{}').listId)).toEqual([other, t.ctx.listId]);
  });

  it('confirms only the membership its link names', async () => {
    await oneClick(other);
    const prefs = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, other).preferencesUrl).pathname;
    expect(await (await t.app.request(prefs, { method: 'POST', body: form({ action: 'resubscribe' }), headers: SAME_ORIGIN })).text()).toContain('confirmation link');
    await t.drain();
    const [mail] = await t.transactional();
    const path = linkPath(mail?.text ?? '', '/confirm/');
    // The same request's nonce, correctly signed for a list the subscriber is not a member of: refused.
    const claims = Buffer.from(path.slice('/confirm/'.length).split('.')[0] as string, 'base64url').toString().split('.');
    const forged = signToken(TEST_SECRET, { purpose: 'confirm', subscriberId: id, listId: notMember, expiresAt: new Date(parseInt(claims[3] as string, 36) * 1000), nonce: claims[4] as string });
    expect((await t.app.request(`/confirm/${forged}`, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(400);
    expect((await t.app.request(path, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(200);
    expect(await memberships()).toEqual({ [t.ctx.listId]: 'active', [other]: 'active' });
  });
});

describe('preferences', () => {
  let id: number;
  let path: string;
  const act = (fields: Record<string, string | string[]>) => t.app.request(path, { method: 'POST', body: form(fields), headers: SAME_ORIGIN });
  beforeEach(async () => {
    id = await addSubscriber(t.ctx, 'p@example.com', { name: 'Pat', topics: ['compute'] });
    path = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).preferencesUrl).pathname;
  });

  it('shows the subscriber’s own settings, and nobody else’s', async () => {
    const body = await (await t.app.request(path)).text();
    expect(body).toContain('p@example.com');
    expect(body).toMatch(/value="compute" checked/);
    const other = await addSubscriber(t.ctx, 'other@example.com');
    const forged = signToken(TEST_SECRET.replace('t', 'x'), { purpose: 'preferences', subscriberId: other, listId: t.ctx.listId });
    expect((await t.app.request(`/preferences/${forged}`)).status).toBe(400);
  });

  it('changes topics and name', async () => {
    const res = await act({ action: 'save', name: 'Patricia', topics: ['policy', 'models'] });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Saved.');
    expect((await subscriber('p@example.com'))?.name).toBe('Patricia');
    const topics = await t.ctx.db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', id).orderBy('topic').execute();
    expect(topics.map((x) => x.topic)).toEqual(['models', 'policy']);
  });

  it('sets the first name the emails greet by; left empty, the greeting takes it from the name', async () => {
    const page = await (await t.app.request(path)).text();
    expect(page).toContain('name="first_name"');
    expect(page).toContain('left empty, the emails say “Hi Pat”');
    const saved = await act({ action: 'save', name: 'Okafor, Chidi', first_name: '  Chidi-Emeka ', topics: ['compute'] });
    expect(saved.status).toBe(200);
    expect(await subscriber('p@example.com')).toMatchObject({ name: 'Okafor, Chidi', first_name: 'Chidi-Emeka' });
    const shown = await saved.text();
    expect(shown).toContain('value="Chidi-Emeka"');
    expect(shown).toContain('left empty, the emails say “Hi Chidi”');
    const data = (await (await t.app.request(`${path}/data.json`)).json()) as { profile: { firstName: string | null } };
    expect(data.profile.firstName).toBe('Chidi-Emeka');
    await act({ action: 'save', name: 'Okafor, Chidi', first_name: '', topics: ['compute'] });
    expect((await subscriber('p@example.com'))?.first_name).toBeNull();
  });

  it('rejects markup, links, control characters and overlong first names, naming the field and changing nothing', async () => {
    await act({ action: 'save', name: 'Pat', first_name: 'Patty', topics: ['compute'] });
    for (const [firstName, reason] of [
      ['<img src=x onerror=alert(1)>', 'firstName: must not contain &lt; or &gt;'],
      ['https://evil.test', 'firstName: must not contain a link'],
      ['Pat\u001b[2J', 'firstName: must not contain control characters'],
      ['x'.repeat(51), 'firstName: must be at most 50 characters'],
    ]) {
      const res = await act({ action: 'save', name: 'Pat', first_name: firstName as string, topics: ['compute'] });
      expect(res.status, firstName).toBe(400);
      const body = await res.text();
      expect(body, firstName).toContain(reason);
      expect(body, firstName).not.toContain('<img src=x');
      expect((await subscriber('p@example.com'))?.first_name, firstName).toBe('Patty');
    }
  });

  it('rejects unknown topics and markup in names, changing nothing', async () => {
    const res = await act({ action: 'save', name: '<img src=x onerror=alert(1)>', topics: ['nope'] });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).not.toContain('<img src=x');
    expect(body).toContain('&lt;img src=x');
    expect((await subscriber('p@example.com'))?.name).toBe('Pat');
  });

  it('pauses and resumes: a paused subscriber receives no edition', async () => {
    await act({ action: 'pause' });
    expect((await subscriber('p@example.com'))?.paused_at).not.toBeNull();
    expect(await countQuery(eligibleMembers(t.ctx.db, t.ctx.listId))).toBe(0);
    await act({ action: 'resume' });
    expect(await countQuery(eligibleMembers(t.ctx.db, t.ctx.listId))).toBe(1);
  });

  it('unsubscribes, and resubscribing needs a new confirmation', async () => {
    await act({ action: 'unsubscribe' });
    expect((await subscriber('p@example.com'))?.status).toBe('unsubscribed');
    const res = await act({ action: 'resubscribe' });
    expect(await res.text()).toContain('confirmation link');
    await t.drain();
    expect((await subscriber('p@example.com'))?.status).toBe('unsubscribed');
    const [mail] = await t.transactional();
    expect(mail?.to).toBe('p@example.com');
    await t.app.request(linkPath(mail?.text ?? '', '/confirm/'), { method: 'POST', headers: SAME_ORIGIN });
    expect((await subscriber('p@example.com'))?.status).toBe('active');
  });

  it('downloads the subscriber’s data as JSON: profile, consent record, events', async () => {
    await act({ action: 'save', name: 'Pat', topics: ['policy'] });
    const res = await t.app.request(`${path}/data.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const data = (await res.json()) as { profile: { email: string; topics: string[] }; consent: { source: string }; events: Array<{ type: string }> };
    expect(data.profile).toMatchObject({ email: 'p@example.com', topics: ['policy'] });
    expect(data.consent.source).toBe('test');
    expect(data.events.map((e) => e.type)).toEqual(['subscribed', 'preferences_changed']);
  });

  it('erases personal data, keeps only a hash, and the address stays suppressed', async () => {
    await act({ action: 'save', name: 'Pat', first_name: 'Patty', topics: ['compute'] });
    expect((await act({ action: 'erase' })).status).toBe(400); // the box must be ticked
    const res = await act({ action: 'erase', confirm: 'yes' });
    expect(await res.text()).toContain('Your data is erased');
    expect(await subscriber('p@example.com')).toBeUndefined();
    const row = await t.ctx.db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: null, first_name: null, consent_ip: null, consent_user_agent: null, status: 'unsubscribed' });
    expect(row.email).toBe(`erased-${id}@erased.invalid`);
    const kept = await t.ctx.db.selectFrom('suppressions').selectAll().execute();
    expect(kept).toEqual([expect.objectContaining({ email_hash: hashEmail('p@example.com'), reason: 'erased' })]);
    expect(JSON.stringify(await t.ctx.db.selectFrom('events').selectAll().execute())).not.toContain('p@example.com');
    // The old link now leads nowhere.
    expect((await t.app.request(path)).status).toBe(400);
  });
});

describe('archive and feed', () => {
  beforeEach(async () => {
    await addSubscriber(t.ctx, 'reader@example.com', { name: 'Reader' });
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
  });

  it('lists sent editions newest first and shows each one’s web version, with no personal data or tokens', async () => {
    const list = await (await t.app.request('/archive')).text();
    expect(list).toContain('href="/archive/2026-W48"');
    expect(list).toContain('<strong>#1</strong>');
    const res = await t.app.request('/archive/2026-W48');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('script');
    // The web version is the email's HTML, styled inline: its policy must allow that, and only that.
    expect(res.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    const body = await res.text();
    expect(body).toContain('TL;DR');
    expect(body).not.toContain('reader@example.com');
    expect(body).not.toContain('Reader');
    expect(body).not.toMatch(/\/(unsubscribe|preferences)\/[\w-]+\.[\w-]+/);
    expect(body).not.toContain('%%recap-');
    expect((await t.app.request('/archive/2026-W47')).status).toBe(404);
    expect((await t.app.request('/archive/not-a-week')).status).toBe(404);
  });

  it('dates each edition by the week it covers, not by its ISO week key', async () => {
    const list = await (await t.app.request('/archive')).text();
    const visible = list.replace(/<[^>]*>/g, ' ');
    expect(visible).toContain('Week of 23 November 2026');
    expect(visible).not.toContain('2026-W48');
  });

  it('dates an edition in the list’s time zone: Auckland’s week 48 starts on 23 November, 22 November in UTC', async () => {
    await t.close();
    t = await createWebTest({ RECAP_TZ: 'Pacific/Auckland' });
    await addSubscriber(t.ctx, 'reader@example.com', { name: 'Reader' });
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const edition = await t.ctx.db.selectFrom('editions').select(['starts_at', 'status']).executeTakeFirstOrThrow();
    expect(edition).toEqual({ starts_at: '2026-11-22T11:00:00.000Z', status: 'sent' });
    const list = await (await t.app.request('/archive')).text();
    expect(list).toContain('Week of 23 November 2026');
    expect(list).not.toContain('22 November');
  });

  it('puts a call to subscribe at the top of the web version, before the first story', async () => {
    const body = (await (await t.app.request('/archive/2026-W48')).text()).replace(/<!-- -->/g, '');
    const call = body.search(/<a href="https:\/\/recap\.test\/subscribe"[^>]*>Subscribe<\/a> to get Weekly AI Recap in your\s+inbox every Monday/);
    expect(call).toBeGreaterThan(0);
    expect(call).toBeLessThan(body.indexOf('Top story'));
    expect(call).toBeLessThan(body.indexOf('In this issue'));
  });

  it('points every email’s "view in browser" link at the archive page', async () => {
    const dir = `${t.ctx.config.outboxDir}/2026-W48`;
    const eml = readFileSync(`${dir}/${readdirSync(dir)[0]}`, 'utf8');
    expect(eml).toContain('https://recap.test/archive/2026-W48');
  });

  it('publishes an RSS 2.0 feed of the editions', async () => {
    const res = await t.app.request('/feed.xml');
    expect(res.headers.get('content-type')).toContain('application/rss+xml');
    const xml = await res.text();
    expect(xml).toContain('<rss version="2.0">');
    expect(xml).toContain('<link>https://recap.test/archive/2026-W48</link>');
    expect(xml).toMatch(/<pubDate>[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} 2026/);
  });
});

describe('article intake', () => {
  const token = 'ingest-token-0123456789abcdef';
  const post = (body: string, headers: Record<string, string>) => t.app.request('/api/articles', { method: 'POST', body, headers });

  it('is closed when RECAP_INGEST_TOKEN is unset', async () => {
    const res = await post('[]', { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
  });

  it('needs the bearer token, then validates and upserts each record and answers per record', async () => {
    await t.close();
    t = await createWebTest({ RECAP_INGEST_TOKEN: token });
    const good = { title: 'Pushed story', url: 'https://news.example.com/pushed', source: { name: 'Example' }, collectedAt: '2026-11-25T10:00:00Z', topics: ['compute'] };
    expect((await post(JSON.stringify([good]), { 'Content-Type': 'application/json' })).status).toBe(401);
    expect((await post(JSON.stringify([good]), { 'Content-Type': 'application/json', Authorization: 'Bearer wrong' })).status).toBe(401);
    const res = await post(JSON.stringify([good, { ...good, url: 'nope' }]), { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` });
    expect(res.status).toBe(422);
    const report = (await res.json()) as { inserted: number; failed: number; results: Array<{ where: string; outcome: string; errors?: string[] }> };
    expect(report).toMatchObject({ inserted: 1, failed: 1 });
    expect(report.results[1]).toMatchObject({ where: 'index 1', outcome: 'failed' });
    const ndjson = `${JSON.stringify({ ...good, title: 'Updated' })}\n`;
    const again = await post(ndjson, { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${token}` });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ updated: 1 });
    expect((await post('{not json', { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` })).status).toBe(400);
  });
});

describe('healthz', () => {
  it('reports ok when the database answers', async () => {
    const res = await t.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
