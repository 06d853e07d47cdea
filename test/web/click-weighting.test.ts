// What readers read shapes next week: the click rates of the last sent editions weigh the next
// edition's scores within the bound, the edition records what each story got, the desk shows it
// and switches it.
import { afterEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { findList } from '../../src/audience/lists.ts';
import { CLICK_FACTOR_MAX, CLICK_FACTOR_MIN } from '../../src/editions/click-weights.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { article } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createWebTest, form, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

const AUTH = { Authorization: 'Bearer editor-token-0123456789' };
const RULES = { maxStories: 12, maxPerTopic: 4, minStories: 3 };
const READERS = 10;
let t: WebTest;
afterEach(async () => {
  await t.close();
});

async function makeEdition(week: string, trackClicks: boolean) {
  const planned = await ensureEdition(t.ctx.db, await findList(t.ctx.db, 'weekly-ai-recap'), { week, timeZone: 'UTC', rules: RULES, now: t.ctx.clock.now(), persist: true, trackClicks });
  if (!planned.ok) throw new Error(planned.reason);
  return planned.edition;
}

/**
 * Two sent editions (W46, W47), each with two agents and two compute stories delivered to every
 * reader. Every reader clicked every agents story; the compute stories were clicked only by a
 * link scanner (marked), which must not count. Then W49's candidates: agents 50, compute 50, 78, 79.
 */
async function clickedHistory(env: Record<string, string> = {}) {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: 'editor-token-0123456789', RECAP_TRACK_CLICKS: 'true', ...env });
  const readers: number[] = [];
  for (let i = 0; i < READERS; i++) readers.push(await addSubscriber(t.ctx, `reader${i}@example.com`));
  const at = t.ctx.clock.now().toISOString();
  for (const [week, day] of [['2026-W46', '2026-11-11'], ['2026-W47', '2026-11-18']] as const) {
    const stories = ['agents', 'agents', 'compute', 'compute'].map((topic) => article({ topics: [topic], collectedAt: `${day}T12:00:00Z`, score: 50 }));
    await importArticles(t.ctx.db, JSON.stringify(stories), { now: t.ctx.clock.now() });
    const edition = await makeEdition(week, true);
    await t.ctx.db.updateTable('editions').set({ status: 'sent', sent_at: at }).where('id', '=', edition.row.id).execute();
    await t.ctx.db.insertInto('deliveries').values(readers.map((id) => ({ edition_id: edition.row.id, subscriber_id: id, status: 'submitted' as const, attempts: 1, queued_at: at, updated_at: at, submitted_at: at }))).execute();
    for (const s of edition.stories) {
      const agents = s.topics[0] === 'agents';
      await t.ctx.db
        .insertInto('message_clicks')
        .values(readers.map((_, i) => ({ edition_id: edition.row.id, message_tag: `${agents ? 'reader' : 'scannr'}${String(i).padStart(6, '0')}`, article_id: s.id, format: 'full' as const, subject_arm: null, sent_at: at, clicks: 1, first_at: at, last_at: at, scanner: agents ? 0 : 1 })))
        .execute();
    }
  }
  const next = [
    article({ title: 'Compute at 50', topics: ['compute'], score: 50, collectedAt: '2026-12-02T12:00:00Z' }),
    article({ title: 'Agents at 50', topics: ['agents'], score: 50, collectedAt: '2026-12-02T12:00:00Z' }),
    article({ title: 'Compute at 78', topics: ['compute'], score: 78, collectedAt: '2026-12-02T12:00:00Z' }),
    article({ title: 'Compute at 79', topics: ['compute'], score: 79, collectedAt: '2026-12-02T12:00:00Z' }),
  ];
  await importArticles(t.ctx.db, JSON.stringify(next), { now: t.ctx.clock.now() });
}

const titles = (edition: { stories: Array<{ title: string }> }) => edition.stories.map((s) => s.title);
const desk = async (week: string) => (await t.app.request(`/desk/editions/${week}`, { headers: AUTH })).text();
const post = (week: string, fields: Record<string, string>) => t.app.request(`/desk/editions/${week}`, { method: 'POST', body: form(fields), headers: { ...AUTH, ...SAME_ORIGIN } });

describe('click weighting', () => {
  it('ranks a clicked topic’s story above an equal-scored one, and no further than the bound; the edition records why and the desk shows it', async () => {
    await clickedHistory();
    const edition = await makeEdition('2026-W49', true);
    // 79 × 0.8 = 63.2 > 50 × 1.25 = 62.5 > 78 × 0.8 = 62.4 > 50 × 0.8: the agents story overtakes the equal one and one 56 % above it, not one 58 % above.
    expect(titles(edition)).toEqual(['Compute at 79', 'Agents at 50', 'Compute at 78', 'Compute at 50']);
    // The stories keep their own scores; the factor each got is stored with the edition.
    expect(edition.stories.map((s) => s.score)).toEqual([79, 50, 78, 50]);
    const factors = await t.ctx.db.selectFrom('edition_articles').select(['position', 'click_factor']).where('edition_id', '=', edition.row.id).orderBy('position').execute();
    expect(factors.map((f) => f.click_factor)).toEqual([CLICK_FACTOR_MIN, CLICK_FACTOR_MAX, CLICK_FACTOR_MIN, CLICK_FACTOR_MIN]);
    // Per topic: 2 editions × 10 readers × 2 stories; the scanner's clicks on compute are not counted.
    const topics = await t.ctx.db.selectFrom('edition_topic_clicks').select(['topic', 'clicks', 'deliveries', 'exposures', 'rate', 'factor']).where('edition_id', '=', edition.row.id).orderBy('topic').execute();
    expect(topics).toEqual([
      { topic: 'agents', clicks: 40, deliveries: 20, exposures: 40, rate: 1, factor: CLICK_FACTOR_MAX },
      { topic: 'compute', clicks: 0, deliveries: 20, exposures: 40, rate: 0, factor: CLICK_FACTOR_MIN },
    ]);
    const page = await desk('2026-W49');
    expect(page).toContain('What readers read');
    expect(page).toMatch(/<td>Agents<\/td><td>100\.00 %<\/td><td>×1\.25<\/td><td>40<\/td><td>20<\/td>/);
    expect(page).toMatch(/<td>Compute<\/td><td>0\.00 %<\/td><td>×0\.80<\/td><td>0<\/td><td>20<\/td>/);
    expect(page).toContain('score 50 → 62.5 (clicks ×1.25)');
    expect(page).toContain('score 79 → 63.2 (clicks ×0.80)');
    expect(page).toContain('by at most ×1.25 and at least ×0.80');
    expect(page).toContain('click weighting is <strong>on</strong>');
  });

  it('an edition made with no clicks in the recent editions keeps every score, and says so', async () => {
    t = await createWebTest({ RECAP_EDITOR_TOKEN: 'editor-token-0123456789', RECAP_TRACK_CLICKS: 'true' });
    const edition = await makeEdition('2026-W48', true);
    const factors = await t.ctx.db.selectFrom('edition_articles').select('click_factor').where('edition_id', '=', edition.row.id).execute();
    expect(new Set(factors.map((f) => f.click_factor))).toEqual(new Set([1]));
    expect(await desk('2026-W48')).toContain('had no counted clicks: every story kept its score');
  });

  it('switched off on the desk: the next edition made is ranked by its scores alone, and the desk says so', async () => {
    await clickedHistory();
    const res = await post('2026-W47', { action: 'click_weighting', weighting: 'off' });
    expect(res.status).toBe(303);
    expect(decodeURIComponent(res.headers.get('location') as string)).toContain('the next edition made is ranked by its stories’ scores alone; this one keeps its order');
    expect(await desk('2026-W47')).toContain('click weighting is <strong>off</strong>. It will be ranked by its scores alone.');
    const edition = await makeEdition('2026-W49', true);
    // The base order: ties go to the lower id.
    expect(titles(edition)).toEqual(['Compute at 79', 'Compute at 78', 'Compute at 50', 'Agents at 50']);
    expect((await t.ctx.db.selectFrom('edition_articles').select('click_factor').where('edition_id', '=', edition.row.id).execute()).every((f) => f.click_factor === null)).toBe(true);
    expect(await t.ctx.db.selectFrom('edition_topic_clicks').selectAll().where('edition_id', '=', edition.row.id).execute()).toEqual([]);
    const page = await desk('2026-W49');
    expect(page).toContain('ranked by its stories\' scores alone: click weighting was off when it was made');
    expect(page).toContain('score 50 ·');
    // On again: the next one is weighted; W49, made already, keeps its order.
    expect((await post('2026-W49', { action: 'click_weighting', weighting: 'on' })).status).toBe(303);
    expect(titles(await makeEdition('2026-W49', true))).toEqual(['Compute at 79', 'Compute at 78', 'Compute at 50', 'Agents at 50']);
    expect(await desk('2026-W49')).toContain('click weighting is <strong>on</strong>');
  });

  it('is off without RECAP_TRACK_CLICKS, whatever the switch, and the desk says why', async () => {
    await clickedHistory({ RECAP_TRACK_CLICKS: 'false' });
    const edition = await makeEdition('2026-W49', false);
    expect(titles(edition)).toEqual(['Compute at 79', 'Compute at 78', 'Compute at 50', 'Agents at 50']);
    const page = await desk('2026-W49');
    expect(page).toContain('RECAP_TRACK_CLICKS is not set');
    expect(page).not.toContain('Switch click weighting');
    const res = await post('2026-W49', { action: 'click_weighting', weighting: 'on' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('click weighting needs RECAP_TRACK_CLICKS=true');
  });
});
