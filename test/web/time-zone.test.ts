// A reader's time zone for local send time, through every way in: the subscribe form (kept
// through the double opt-in), its JSON twin, the preferences page, a CSV import, and out again in
// the subscriber export.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importSubscribersCsv } from '../../src/audience/csv-import.ts';
import { exportRecords } from '../../src/audience/subscriber-export.ts';
import { subscriberLinks } from '../../src/audience/tokens.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, form, linkPath, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

let t: WebTest;
const EDITOR_TOKEN = 'desk-token-0123456789abcdef';
beforeEach(async () => {
  t = await createWebTest({ RECAP_TZ: 'Europe/Berlin', RECAP_LOCAL_SEND_TIME: '08:00', RECAP_EDITOR_TOKEN: EDITOR_TOKEN });
});
afterEach(async () => {
  await t.close();
});

async function zoneOf(email: string) {
  const s = await t.ctx.db.selectFrom('subscribers').select(['time_zone', 'status']).where('email', '=', email).executeTakeFirst();
  return s;
}

async function confirmLatest(): Promise<void> {
  const mails = await t.transactional();
  const res = await t.app.request(linkPath(mails.at(-1)?.text ?? '', '/confirm/'), { method: 'POST', headers: SAME_ORIGIN });
  expect(res.status).toBe(200);
}

describe('the subscribe form', () => {
  it('offers every IANA zone, the list’s first, and preselects the browser’s with the one script its policy allows', async () => {
    const res = await t.app.request('/subscribe');
    const body = await res.text();
    expect(body).toContain('<select id="time_zone" name="time_zone"><option value="" selected>Europe/Berlin (the list\'s)</option>');
    for (const zone of ['Asia/Tokyo', 'America/New_York', 'Pacific/Auckland', 'UTC']) expect(body).toContain(`<option value="${zone}">`);
    const scripts = [...body.matchAll(/<script>([^<]*)<\/script>/g)].map((m) => m[1] as string);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain('Intl.DateTimeFormat().resolvedOptions().timeZone');
    const hash = createHash('sha256').update(scripts[0] as string).digest('base64');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    // Other pages run no script at all.
    expect((await t.app.request('/archive')).headers.get('content-security-policy')).not.toContain('script-src');
  });

  it('keeps the chosen zone through the double opt-in', async () => {
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'tokyo@example.com', time_zone: 'Asia/Tokyo' }), headers: SAME_ORIGIN });
    expect(res.status).toBe(200);
    // Queued with the request: nothing is written to the subscriber before the worker drains it.
    const queued = await t.ctx.db.selectFrom('subscription_requests').select('time_zone').executeTakeFirstOrThrow();
    expect(queued.time_zone).toBe('Asia/Tokyo');
    await t.drain();
    expect(await zoneOf('tokyo@example.com')).toEqual({ time_zone: 'Asia/Tokyo', status: 'pending' });
    await confirmLatest();
    expect(await zoneOf('tokyo@example.com')).toEqual({ time_zone: 'Asia/Tokyo', status: 'active' });
  });

  it('leaves the zone empty (the list’s) when none is chosen, as without JavaScript', async () => {
    await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'nojs@example.com', time_zone: '' }), headers: SAME_ORIGIN });
    await t.drain();
    await confirmLatest();
    expect(await zoneOf('nojs@example.com')).toEqual({ time_zone: null, status: 'active' });
  });

  it('refuses a zone that is not one, and keeps what was typed', async () => {
    const res = await t.app.request('/subscribe', { method: 'POST', body: form({ email: 'mars@example.com', name: 'Marvin', time_zone: 'Mars/Olympus_Mons' }), headers: SAME_ORIGIN });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('timeZone: &quot;Mars/Olympus_Mons&quot; is not an IANA time zone such as Europe/Berlin');
    expect(body).toContain('value="Marvin"');
    expect(await t.ctx.db.selectFrom('subscription_requests').select('id').execute()).toEqual([]);
  });

  it('takes the zone in the JSON API too, in its canonical spelling', async () => {
    const res = await t.app.request('/api/subscribe', { method: 'POST', body: JSON.stringify({ email: 'json@example.com', timeZone: 'america/new_york' }), headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(202);
    await t.drain();
    expect((await zoneOf('json@example.com'))?.time_zone).toBe('America/New_York');
  });
});

describe('the preferences page', () => {
  it('shows the stored zone and changes it, back to the list’s too', async () => {
    const id = await addSubscriber(t.ctx, 'prefs@example.com', { name: 'Pat' });
    const path = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, t.ctx.listId).preferencesUrl).pathname;
    const save = (zone: string) => t.app.request(path, { method: 'POST', body: form({ action: 'save', name: 'Pat', first_name: '', time_zone: zone }), headers: SAME_ORIGIN });
    expect(await (await t.app.request(path)).text()).toContain('<option value="" selected>Europe/Berlin (the list\'s)</option>');

    expect((await save('Asia/Tokyo')).status).toBe(200);
    expect((await zoneOf('prefs@example.com'))?.time_zone).toBe('Asia/Tokyo');
    const page = await (await t.app.request(path)).text();
    expect(page).toContain('<option value="Asia/Tokyo" selected>');
    expect(page).not.toContain('<script'); // the stored zone is never replaced by the browser's

    expect((await save('Nowhere/Else')).status).toBe(400);
    expect((await zoneOf('prefs@example.com'))?.time_zone).toBe('Asia/Tokyo');
    expect((await save('')).status).toBe(200);
    expect((await zoneOf('prefs@example.com'))?.time_zone).toBeNull();
  });
});

describe('a CSV time_zone column', () => {
  it('stores good zones, reports a bad one by line and column, keeps the rows around it, and exports them', async () => {
    const file = join(t.ctx.dir, 'people.csv');
    writeFileSync(file, ['email,name,time_zone', 'a@example.com,Ada,Asia/Tokyo', 'b@example.com,Ben,Europe/Atlantis', 'c@example.com,Cy,', 'd@example.com,Dee,america/new_york', ''].join('\n'));
    const report = await importSubscribersCsv(t.ctx.db, file, { listId: t.ctx.listId, now: t.ctx.clock.now(), confirmed: true });
    expect(report.errors).toEqual([{ line: 3, message: 'time_zone: "Europe/Atlantis" is not an IANA time zone such as Europe/Berlin' }]);
    expect(report.inserted).toBe(3);
    expect(await zoneOf('b@example.com')).toBeUndefined();
    const exported = [];
    for await (const r of exportRecords(t.ctx.db, { listId: t.ctx.listId })) exported.push([r.email, r.time_zone]);
    expect(exported).toEqual([['a@example.com', 'Asia/Tokyo'], ['c@example.com', null], ['d@example.com', 'America/New_York']]);

    // A re-import without the column, or with it empty, keeps the stored zone.
    writeFileSync(file, ['email,time_zone', 'a@example.com,', ''].join('\n'));
    await importSubscribersCsv(t.ctx.db, file, { listId: t.ctx.listId, now: t.ctx.clock.now(), confirmed: true });
    expect((await zoneOf('a@example.com'))?.time_zone).toBe('Asia/Tokyo');
  });
});

describe('the desk', () => {
  it('shows an edition’s waves, done and to come, and offers no edit once the first went', async () => {
    // 08:00Z on Monday: Berlin's 08:00 has passed (at once), New York's is at 13:00Z.
    await addSubscriber(t.ctx, 'berlin@example.com');
    const ny = await addSubscriber(t.ctx, 'ny@example.com');
    await t.ctx.db.updateTable('subscribers').set({ time_zone: 'America/New_York' }).where('id', '=', ny).execute();
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => createTransport(t.ctx.config), { waitForRetries: false }), { week: '2026-W48' });
    const page = await (await t.app.request('/desk/editions/2026-W48', { headers: { Authorization: `Bearer ${EDITOR_TOKEN}` } })).text();
    expect(page).toContain('<h2 id="waves">Waves</h2>');
    expect(page).toContain('<li>2026-11-30 08:00 UTC · 09:00 Europe/Berlin · 1 reader · done</li>');
    expect(page).toContain('<li>2026-11-30 13:00 UTC · 08:00 America/New_York · 1 reader · to come</li>');
    expect(page).not.toContain('Edit the blurb');
  });
});
