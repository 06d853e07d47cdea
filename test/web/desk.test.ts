// The editor's desk through the app's request function.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, form, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

const TOKEN = 'editor-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let t: WebTest;

async function draft() {
  const list = await findList(t.ctx.db, 'weekly-ai-recap');
  const planned = await ensureEdition(t.ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: t.ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  return planned.edition;
}

async function order(): Promise<number[]> {
  const rows = await t.ctx.db.selectFrom('edition_articles').select('article_id').orderBy('position').execute();
  return rows.map((r) => r.article_id);
}

/** Posts a desk form and, like a browser, follows the redirect that answers a success. */
async function post(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const res = await t.app.request('/desk/editions/2026-W48', { method: 'POST', body: form(fields), headers: { ...AUTH, ...SAME_ORIGIN, ...headers } });
  if (res.status !== 303) return res;
  return t.app.request(res.headers.get('location') as string, { headers: AUTH });
}

beforeEach(async () => {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: TOKEN, RECAP_EDITORS: 'ed@example.com' });
});
afterEach(async () => {
  await t.close();
});

describe('access', () => {
  it('is closed when RECAP_EDITOR_TOKEN is unset', async () => {
    await t.close();
    t = await createWebTest();
    expect((await t.app.request('/desk/', { headers: AUTH })).status).toBe(403);
  });

  it('needs the token, as a bearer token or the basic-auth password', async () => {
    const none = await t.app.request('/desk/');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    expect((await t.app.request('/desk/', { headers: { Authorization: 'Bearer wrong-token-xxxxxxxx' } })).status).toBe(401);
    expect((await t.app.request('/desk/', { headers: AUTH })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`editor:${TOKEN}`).toString('base64')}`;
    expect((await t.app.request('/desk/', { headers: { Authorization: basic } })).status).toBe(200);
  });

  it('refuses forms posted from another site', async () => {
    await draft();
    const res = await post({ action: 'cancel' }, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect((await t.ctx.db.selectFrom('editions').select('status').executeTakeFirstOrThrow()).status).toBe('draft');
  });
});

describe('a draft', () => {
  it('shows the stories in order with their scores, and the edition list links to it', async () => {
    const edition = await draft();
    const list = await (await t.app.request('/desk/', { headers: AUTH })).text();
    expect(list).toContain('href="/desk/editions/2026-W48"');
    const body = await (await t.app.request('/desk/editions/2026-W48', { headers: AUTH })).text();
    const first = edition.stories[0];
    expect(body).toContain(`score ${first?.score}`);
    expect(body.indexOf(escape(first?.title ?? ''))).toBeLessThan(body.indexOf(escape(edition.stories[1]?.title ?? '')));
    expect(body).toContain('<iframe title="Desktop preview"');
    expect(body).toContain('<iframe title="Phone preview"');
  });

  it('answers a successful form with a redirect, so a reload does not repeat it', async () => {
    const edition = await draft();
    const res = await t.app.request('/desk/editions/2026-W48', { method: 'POST', body: form({ action: 'move', article: String(edition.stories[2]?.id), move: 'up' }), headers: { ...AUTH, ...SAME_ORIGIN } });
    expect(res.status).toBe(303);
    // Back to the story that moved, not to the top of the page.
    expect(res.headers.get('location')).toBe(`/desk/editions/2026-W48?done=Stories%20reordered.#story-${edition.stories[2]?.id}`);
  });

  it('pins, moves and excludes stories; a generated subject follows the new top story', async () => {
    const edition = await draft();
    const pinned = edition.stories[3];
    const ids = edition.stories.map((s) => s.id);
    await post({ action: 'move', article: String(ids[3]), move: 'pin' });
    expect((await order()).slice(0, 2)).toEqual([ids[3], ids[0]]);
    const row = await t.ctx.db.selectFrom('editions').select(['subject', 'preheader']).executeTakeFirstOrThrow();
    expect(row.subject).toBe(pinned?.title);
    expect(row.preheader).toBe(pinned?.hook);
    await post({ action: 'move', article: String(ids[0]), move: 'up' });
    expect((await order()).slice(0, 2)).toEqual([ids[0], ids[3]]);
    await post({ action: 'move', article: String(ids[0]), move: 'down' });
    expect((await order()).slice(0, 2)).toEqual([ids[3], ids[0]]);
    const res = await post({ action: 'move', article: String(ids[5]), move: 'exclude' });
    expect(await res.text()).toContain('Stories reordered.');
    expect(await order()).not.toContain(ids[5]);
    expect(await order()).toHaveLength(ids.length - 1);
  });

  it('edits subject, preheader and note, escaping them on the page', async () => {
    await draft();
    await post({ action: 'details', subject: 'A <b>bold</b> week\r\nBcc: x@evil.test', preheader: 'Short', note: 'Hello readers' });
    const row = await t.ctx.db.selectFrom('editions').select(['subject', 'preheader', 'editor_note']).executeTakeFirstOrThrow();
    expect(row).toEqual({ subject: 'A <b>bold</b> week Bcc: x@evil.test', preheader: 'Short', editor_note: 'Hello readers' });
    const body = await (await t.app.request('/desk/editions/2026-W48', { headers: AUTH })).text();
    expect(body).toContain('A &lt;b&gt;bold&lt;/b&gt; week');
    expect(body).not.toContain('<b>bold</b>');
  });

  it('previews a variant, and what one subscriber gets, as the email itself', async () => {
    await draft();
    await addSubscriber(t.ctx, 'ada@example.com', { name: 'Ada Reader', topics: ['policy'] });
    const variant = await t.app.request('/desk/editions/2026-W48/preview?variant=policy', { headers: AUTH });
    expect(variant.status).toBe(200);
    expect(variant.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(await variant.text()).toContain('leading with what you follow: Policy');
    const mine = await (await t.app.request('/desk/editions/2026-W48/preview?subscriber=ada@example.com', { headers: AUTH })).text();
    expect(mine.replace(/<!-- -->/g, '')).toContain('Hi Ada,');
    expect(mine).toMatch(/https:\/\/recap\.test\/unsubscribe\/[\w-]+\.[\w-]+/);
    expect((await t.app.request('/desk/editions/2026-W48/preview?subscriber=nobody@example.com', { headers: AUTH })).status).toBe(404);
  });

  it('test-sends to editors with [TEST] in the subject, counting no delivery', async () => {
    await draft();
    const res = await post({ action: 'test', variant: '', to: 'ed@example.com, chief@example.com' });
    expect(await res.text()).toContain('Test of the full edition sent to ed@example.com, chief@example.com');
    const dir = join(t.ctx.config.outboxDir, 'tests');
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    const mail = await simpleParser(readFileSync(join(dir, files[0] as string)));
    expect(mail.subject).toBe(`[TEST] ${(await t.ctx.db.selectFrom('editions').select('subject').executeTakeFirstOrThrow()).subject}`);
    expect(await t.ctx.db.selectFrom('deliveries').selectAll().execute()).toEqual([]);
    expect((await post({ action: 'test', to: 'not an address' })).status).toBe(400);
  });

  it('approves now or for a time, and cancels', async () => {
    await draft();
    await post({ action: 'approve', send_at: '2026-11-30T12:30', readers: '0' });
    const row = await t.ctx.db.selectFrom('editions').select(['status', 'send_at', 'approved_by']).executeTakeFirstOrThrow();
    expect(row.status).toBe('approved');
    // The form's time is in the list's zone (UTC here).
    expect(row.send_at).toBe('2026-11-30T12:30:00.000Z');
    // Approved is no longer a draft: edits are refused with a clear message.
    const refused = await post({ action: 'details', subject: 'x', preheader: 'y', note: '' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('only a draft can be changed');
    await post({ action: 'cancel' });
    expect((await t.ctx.db.selectFrom('editions').select('status').executeTakeFirstOrThrow()).status).toBe('cancelled');
  });
});

describe('after the send', () => {
  it('shows submitted, failed, bounced, complained and unsubscribed-since counts, as a chart', async () => {
    await addSubscriber(t.ctx, 'a@example.com');
    await addSubscriber(t.ctx, 'b@example.com');
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const a = await t.ctx.db.selectFrom('subscribers').select('id').where('email', '=', 'a@example.com').executeTakeFirstOrThrow();
    t.ctx.clock.advance(3_600_000);
    await t.ctx.db.insertInto('events').values({ subscriber_id: a.id, edition_id: null, type: 'unsubscribed', data: null, created_at: t.ctx.clock.now().toISOString() }).execute();
    const body = await (await t.app.request('/desk/editions/2026-W48', { headers: AUTH })).text();
    expect(body).toContain('<svg class="chart"');
    expect(body).toContain('aria-label="2 submitted, 0 deferred, 0 failed, 0 uncertain, 0 bounced, 0 complained, 1 unsubscribed since"');
  });
});

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
