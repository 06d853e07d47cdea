// The desk and the two formats: "Who gets what" names each variant's format, the picker offers both
// formats of every variant, a subscriber's preview is in their format, a test send of a brief sends
// the brief, and a sent edition's deliveries and clicks are shown per format.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, form, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

const TOKEN = 'editor-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const WEEK = '2026-W48';
let w: WebTest;

beforeEach(async () => {
  w = await createWebTest({ RECAP_EDITOR_TOKEN: TOKEN, RECAP_EDITORS: 'ed@example.com' });
  const planned = await ensureEdition(w.ctx.db, await findList(w.ctx.db, 'weekly-ai-recap'), { week: WEEK, timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: w.ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  await addSubscriber(w.ctx, 'ada@example.com', { name: 'Ada', topics: ['policy'] });
  await addSubscriber(w.ctx, 'ben@example.com', { name: 'Ben', topics: ['policy'], format: 'brief' });
  await addSubscriber(w.ctx, 'cy@example.com', { format: 'brief' });
});
afterEach(async () => {
  await w.close();
});

const get = async (path: string) => (await w.app.request(path, { headers: AUTH })).text();
const text = (html: string) => html.replace(/<!-- -->/g, '').replace(/<[^>]+>/g, ' ').replace(/&#39;|&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
const isBrief = (html: string) => html.includes('full analysis of every story') && !html.includes('Key takeaways');

it('shows each variant’s format and readers, and offers both formats of each to preview', async () => {
  const page = await get(`/desk/editions/${WEEK}`);
  const table = text(/<table class="variants">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '');
  expect(table).toContain('Variant Format Readers');
  expect(table).toMatch(/Policy full 1 /);
  expect(table).toMatch(/Policy brief 1 /);
  expect(table).toMatch(/full edition brief 1 /);
  expect(table).toMatch(/full edition full 0 /);
  expect(table).toContain('Total 3');
  for (const key of ['', '|brief', 'policy', 'policy|brief']) expect(page).toContain(`<option value="${key}"`);
  expect(page).toContain('Policy · brief (1 reader)</option>');

  expect(isBrief(await get(`/desk/editions/${WEEK}/preview?variant=${encodeURIComponent('policy|brief')}`))).toBe(true);
  expect(isBrief(await get(`/desk/editions/${WEEK}/preview?variant=policy`))).toBe(false);
  // A subscriber's copy is in their format.
  expect(isBrief(await get(`/desk/editions/${WEEK}/preview?subscriber=ben%40example.com`))).toBe(true);
  expect(isBrief(await get(`/desk/editions/${WEEK}/preview?subscriber=ada%40example.com`))).toBe(false);
  expect(text(await get(`/desk/editions/${WEEK}?subscriber=ben%40example.com`))).toContain('Showing what ben@example.com gets (the Policy variant · brief).');
});

it('sends a test of the brief when the brief is previewed', async () => {
  const res = await w.app.request(`/desk/editions/${WEEK}`, { method: 'POST', body: form({ action: 'test', variant: '|brief', to: 'ed@example.com' }), headers: { ...AUTH, ...SAME_ORIGIN } });
  expect(res.status).toBe(303);
  const dir = join(w.ctx.config.outboxDir, 'tests');
  const [mail] = await Promise.all(readdirSync(dir).map((f) => simpleParser(readFileSync(join(dir, f)))));
  expect(String(mail?.headers.get('x-recap-test'))).toMatch(/^=\?UTF-8\?Q\?the_full_edition_=C2=B7_brief\?=$/);
  expect(isBrief((mail?.html || '').replace(/<!-- -->/g, ''))).toBe(true);
  expect(mail?.text).toContain('full analysis of every story: read the full edition');
});

it('shows a sent edition’s deliveries per format', async () => {
  const report = await runWeeklyRecap(w.ctx, testIo(w.ctx, () => outboxTransport(w.ctx.config.outboxDir)), { week: WEEK });
  if (report.kind !== 'sent') throw new Error(report.kind);
  const page = await get(`/desk/editions/${WEEK}`);
  const table = text(/<table class="formats">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '');
  expect(table).toBe(' Format readers submitted failed deferred uncertain to send clicks full 1 1 0 0 0 0 0 brief 2 2 0 0 0 0 0 ');
});
