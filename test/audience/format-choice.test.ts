// Where a reader chooses full or brief, and that the choice is kept: the subscribe form and its JSON
// twin (through the double opt-in), the preferences page, a CSV import's `format` column and the
// export that writes it back. Real HTTP against the app, a migrated database of either kind.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importSubscribersCsv } from '../../src/audience/csv-import.ts';
import { writeSubscribersExport } from '../../src/audience/subscriber-export.ts';
import { subscriberLinks } from '../../src/audience/tokens.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { createWebTest, form, linkPath, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

let t: WebTest;
beforeEach(async () => {
  t = await createWebTest();
});
afterEach(async () => {
  await t.close();
});

const formatOf = async (email: string) => (await t.ctx.db.selectFrom('subscribers').select('format').where('email', '=', email).executeTakeFirst())?.format;

async function confirmLatest(): Promise<void> {
  await t.drain();
  const mails = await t.transactional();
  const res = await t.app.request(linkPath(mails[mails.length - 1]?.text ?? '', '/confirm/'), { method: 'POST', headers: SAME_ORIGIN });
  expect(res.status).toBe(200);
}

describe('the subscribe form', () => {
  it('offers full and brief, full chosen by default', async () => {
    const page = await (await t.app.request('/subscribe')).text();
    expect(page).toMatch(/<input type="radio" name="format" value="full" checked>/);
    expect(page).toMatch(/<input type="radio" name="format" value="brief">/);
  });

  it('keeps the brief chosen through the confirmation', async () => {
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'brief@example.com', format: 'brief', topics: ['policy'] }), headers: SAME_ORIGIN });
    expect(res.status).toBe(200);
    // Queued with the request: nothing is known of the address until the worker runs.
    expect(await t.ctx.db.selectFrom('subscription_requests').select('format').execute()).toEqual([{ format: 'brief' }]);
    await confirmLatest();
    expect(await t.ctx.db.selectFrom('subscribers').select(['status', 'format']).where('email', '=', 'brief@example.com').executeTakeFirst()).toEqual({ status: 'active', format: 'brief' });
  });

  it('takes the full digest when none is chosen, and the JSON API in any case', async () => {
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'full@example.com' }), headers: SAME_ORIGIN });
    await confirmLatest();
    expect(await formatOf('full@example.com')).toBe('full');
    const api = await t.app.request('/api/subscribe', { method: 'POST', body: JSON.stringify({ email: 'api@example.com', format: 'BRIEF' }), headers: { 'Content-Type': 'application/json' } });
    expect(api.status).toBe(202);
    await confirmLatest();
    expect(await formatOf('api@example.com')).toBe('brief');
  });

  it('refuses another format, naming the field, and keeps what was typed', async () => {
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'x@example.com', format: 'tiny' }), headers: SAME_ORIGIN });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(page).toContain('format: must be full or brief, not &quot;tiny&quot;');
    expect(page).toContain('value="x@example.com"');
    const api = await t.app.request('/api/subscribe', { method: 'POST', body: JSON.stringify({ email: 'y@example.com', format: 'short' }), headers: { 'Content-Type': 'application/json' } });
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({ ok: false, errors: ['format: must be full or brief, not "short"'] });
    expect(await t.ctx.db.selectFrom('subscription_requests').select('id').execute()).toEqual([]);
  });

  it('lets a reader who left come back with another format', async () => {
    const id = await addSubscriber(t.ctx, 'back@example.com', { status: 'unsubscribed' });
    expect(id).toBeGreaterThan(0);
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'back@example.com', format: 'brief' }), headers: SAME_ORIGIN });
    await t.drain();
    expect(await formatOf('back@example.com')).toBe('brief');
  });
});

describe('the preferences page', () => {
  it('shows the format chosen and saves another', async () => {
    const id = await addSubscriber(t.ctx, 'ada@example.com', { name: 'Ada', topics: ['policy'] });
    const { preferencesUrl } = subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId);
    const path = new URL(preferencesUrl).pathname;
    expect(await (await t.app.request(path)).text()).toMatch(/value="full" checked/);
    const saved = await t.app.request(path, { method: 'POST', body: form({ action: 'save', name: 'Ada', first_name: '', format: 'brief', topics: ['policy'] }), headers: SAME_ORIGIN });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toMatch(/value="brief" checked/);
    expect(await formatOf('ada@example.com')).toBe('brief');
    const event = await t.ctx.db.selectFrom('events').select('data').where('type', '=', 'preferences_changed').executeTakeFirstOrThrow();
    expect(JSON.parse(event.data as string)).toMatchObject({ format: 'brief' });
    // In the subscriber's own data download too.
    expect((await (await t.app.request(`${path}/data.json`)).json()).profile.format).toBe('brief');
  });

  it('refuses another format and changes nothing', async () => {
    const id = await addSubscriber(t.ctx, 'ada@example.com', { format: 'brief' });
    const path = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).preferencesUrl).pathname;
    const res = await t.app.request(path, { method: 'POST', body: form({ action: 'save', name: '', first_name: '', format: 'weekly' }), headers: SAME_ORIGIN });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('format: must be full or brief, not &quot;weekly&quot;');
    expect(await formatOf('ada@example.com')).toBe('brief');
  });

  it('sends a reader who comes back through the queue with their format', async () => {
    const id = await addSubscriber(t.ctx, 'ada@example.com', { format: 'brief', status: 'unsubscribed' });
    const path = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).preferencesUrl).pathname;
    await t.app.request(path, { method: 'POST', body: form({ action: 'resubscribe' }), headers: SAME_ORIGIN });
    expect(await t.ctx.db.selectFrom('subscription_requests').select('format').execute()).toEqual([{ format: 'brief' }]);
  });
});

describe('a CSV import', () => {
  const csv = (text: string) => {
    const file = join(tempDir('recap-format-csv-'), 'subscribers.csv');
    writeFileSync(file, text);
    return file;
  };
  const run = (text: string) => importSubscribersCsv(t.ctx.db, csv(text), { listId: t.ctx.listId, now: t.ctx.clock.now(), confirmed: true });

  it('reads the format column in any case; an empty cell keeps the stored one (full for a new subscriber)', async () => {
    const first = await run('email,format\nfull@example.com,Full\nbrief@example.com,BRIEF\nnone@example.com,\n');
    expect(first).toMatchObject({ inserted: 3, errors: [] });
    expect(await formatOf('full@example.com')).toBe('full');
    expect(await formatOf('brief@example.com')).toBe('brief');
    expect(await formatOf('none@example.com')).toBe('full');
    const second = await run('email,format\nfull@example.com,brief\nbrief@example.com,\nnone@example.com, full \n');
    expect(second).toMatchObject({ updated: 1, unchanged: 2, errors: [] });
    expect(await formatOf('full@example.com')).toBe('brief');
    expect(await formatOf('brief@example.com')).toBe('brief');
  });

  it('reports a bad value by line and field and keeps the good rows', async () => {
    const report = await run('email,format\nok@example.com,brief\nbad@example.com,digest\nalso@example.com,full\n');
    expect(report.inserted).toBe(2);
    expect(report.errors).toEqual([{ line: 3, message: 'format: must be full or brief, not "digest"' }]);
    expect(await formatOf('bad@example.com')).toBeUndefined();
  });

  it('comes back out of an export, which an import reads again', async () => {
    await addSubscriber(t.ctx, 'brief@example.com', { format: 'brief' });
    await addSubscriber(t.ctx, 'full@example.com');
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => { out += String(chunk); done(); } });
    await writeSubscribersExport(t.ctx.db, { listId: t.ctx.listId }, 'csv', sink);
    const [header, ...rows] = out.trim().split('\n');
    expect(header?.split(',')).toContain('format');
    const at = (header as string).split(',').indexOf('format');
    expect(rows.map((r) => [r.split(',')[0], r.split(',')[at]])).toEqual([['brief@example.com', 'brief'], ['full@example.com', 'full']]);
    await t.ctx.db.updateTable('subscribers').set({ format: 'full' }).execute();
    expect((await run(out)).updated).toBe(1);
    expect(await formatOf('brief@example.com')).toBe('brief');
  });
});
