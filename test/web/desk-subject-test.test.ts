// The subject test on the desk: refused without counted clicks or with a local send time, set up
// field by field on a draft (errors named), announced on the approval question, and after the send
// its figures per arm, its state and its decision in words.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { findList } from '../../src/audience/lists.ts';
import { findSubjectTest } from '../../src/delivery/subject-test.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addReaders } from '../helpers/deliveries.ts';
import { seededRandom } from '../../bench/population.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, form, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

const TOKEN = 'editor-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let t: WebTest;

afterEach(async () => {
  await t.close();
});

async function open(env: Record<string, string>) {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: TOKEN, RECAP_EDITORS: 'ed@example.com', ...env });
  const list = await findList(t.ctx.db, 'weekly-ai-recap');
  const planned = await ensureEdition(t.ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: t.ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  return planned.edition;
}

async function post(fields: Record<string, string>): Promise<Response> {
  const res = await t.app.request('/desk/editions/2026-W48', { method: 'POST', body: form(fields), headers: { ...AUTH, ...SAME_ORIGIN } });
  if (res.status !== 303) return res;
  return t.app.request(res.headers.get('location') as string, { headers: AUTH });
}

const page = async (path = '/desk/editions/2026-W48') => (await t.app.request(path, { headers: AUTH })).text();
const good = { action: 'subject-test', subject_0: 'The week in AI chips', subject_1: 'Who won the GPU week?', subject_2: '', subject_3: '', sample_kind: 'percent', sample: '20', wait_hours: '4', confidence: '95' };

describe('the subject test on the desk', () => {
  it('cannot run without counted clicks: the desk says so and refuses it', async () => {
    const edition = await open({});
    const html = await page();
    expect(html).toContain('The subject test cannot run: a subject test needs counted clicks (RECAP_TRACK_CLICKS=true)');
    expect(html).not.toContain('name="subject_1"');
    const res = await post(good);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('subject test: a subject test needs counted clicks (RECAP_TRACK_CLICKS=true)');
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toBeNull();
  });

  it('cannot run with RECAP_LOCAL_SEND_TIME, and says why', async () => {
    const edition = await open({ RECAP_TRACK_CLICKS: 'true', RECAP_LOCAL_SEND_TIME: '08:00' });
    expect(await page()).toContain("cannot run with RECAP_LOCAL_SEND_TIME=08:00: the rest waits for the test&#39;s result, which would move readers&#39; mornings");
    expect((await post(good)).status).toBe(400);
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toBeNull();
  });

  it('names each bad field and keeps nothing of a bad form; a good one is set up, changed and removed', async () => {
    const edition = await open({ RECAP_TRACK_CLICKS: 'true' });
    const bad = await post({ ...good, subject_1: ' The week in AI chips ', subject_2: 'x'.repeat(201), sample: '120', wait_hours: 'soon', confidence: '50' });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    for (const e of ['subject B: the same as subject A', 'subject C: 201 characters, more than 200', 'sample: &quot;120&quot; is not a share from 1 to 99 %', 'wait: &quot;soon&quot; is not a number of hours', 'confidence: &quot;50&quot; is not a percentage from 80 to 99.9']) expect(text).toContain(e);
    expect((await post({ ...good, subject_1: '' })).status).toBe(400);
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toBeNull();

    const ok = await post({ ...good, subject_1: 'Who won\r\nthe GPU week?' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Subject test set up');
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toMatchObject({ subjects: ['The week in AI chips', 'Who won the GPU week?'], sample: { percent: 20 }, waitMinutes: 240, confidence: 0.95, state: 'planned' });
    await post({ ...good, subject_2: 'Five things about inference', sample_kind: 'count', sample: '60', wait_hours: '2.5' });
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toMatchObject({ subjects: ['The week in AI chips', 'Who won the GPU week?', 'Five things about inference'], sample: { count: 60 }, waitMinutes: 150 });
    expect(await (await post({ action: 'subject-test-remove' })).text()).toContain('Subject test removed');
    expect(await findSubjectTest(t.ctx.db, edition.row.id)).toBeNull();
  });

  it('is on the approval question, and after the send shows the figures and why it picked the winner', async () => {
    const edition = await open({ RECAP_TRACK_CLICKS: 'true', RECAP_RATE: '0' });
    await addReaders(t.ctx, 200);
    await post({ ...good, sample: '50' });
    const question = await page('/desk/editions/2026-W48/approve');
    expect(question).toContain('A subject test runs first:</strong> a sample of 100 readers (50 %) gets the 2 subjects at random; after a wait of 4 hours');
    expect(question).toContain('goes to the other 100 readers');

    const io = testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir), { random: seededRandom(9), waitForRetries: false });
    await runWeeklyRecap(t.ctx, io, { week: '2026-W48' });
    const waiting = await page();
    expect(waiting).toContain('Waiting for clicks: the decision comes at');
    expect(waiting).toContain('(in about 240 min)');
    const at = t.ctx.clock.now().toISOString();
    const click = (arm: number, n: number) =>
      t.ctx.db.insertInto('message_clicks').values(Array.from({ length: n }, () => ({ edition_id: edition.row.id, message_tag: randomBytes(9).toString('base64url'), article_id: (edition.stories[0] as { id: number }).id, format: 'full' as const, subject_arm: arm, sent_at: at, clicks: 1, first_at: at, last_at: at }))).execute();
    await click(0, 5);
    await click(1, 25);
    // The figures as they stand, before the decision.
    expect(await page()).toMatch(/<td>B<\/td><td>Who won the GPU week\?<\/td><td>50<\/td><td>25<\/td><td>50\.0 %<\/td><td>z = [\d.]+, p = [\d.e-]+<\/td>/);

    t.ctx.clock.advance(4 * 3_600_000 + 1000);
    await runWeeklyRecap(t.ctx, io, { week: '2026-W48' });
    const decided = await page();
    expect(decided).toContain('Decided at');
    expect(decided).toContain('B went to the rest');
    expect(decided).toContain('Winner B: 50.0 % of 50 delivered clicked against 10.0 % for A; a two-proportion z-test gives p &lt; 0.0001 &lt; 0.05.');
    expect(decided).toMatch(/<tr class="winner"><td>B<\/td>/);
    expect(decided).not.toContain('name="subject_0"');
  });
});
