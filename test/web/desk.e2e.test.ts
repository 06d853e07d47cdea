/// <reference lib="dom" />
// The editor's desk in a real browser (Debian's chromium through playwright-core), against
// `recap serve`'s app on a real local port, signed in with basic auth: open the week's draft, pin a
// story (it leads every variant), preview a variant, one subscriber's copy and the full edition at
// desktop and phone widths beside the controls, approve after the desk's question (who gets it,
// when), let the scheduler's tick send it, and see the delivery chart. Each step is
// checked in the database too; the sent emails are read back from the outbox. Every desk page must
// fit 375 px without sideways scrolling (the preview frames may scroll inside), and nothing may load
// from another host or trip a Content-Security-Policy. Screenshots land in var/screenshots/desk.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { cronSlots } from '../../src/schedule/slots.ts';
import { tick } from '../../src/schedule/weekly.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { testIo } from '../helpers/send.ts';
import { chromiumAvailable, launchChromium, type LocalServer, type Served, startLocalServer } from '../helpers/browser.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const SHOTS = join(import.meta.dirname, '../../var/screenshots/desk');
const available = chromiumAvailable;

const TOKEN = 'desk-e2e-token-0123456789';
const WEEK = '2026-W48';
const WIDE = { width: 1280, height: 800 };
/** Who gets the edition: two follow policy, two follow nothing (the full edition), one follows models. */
const READERS: Array<{ email: string; name?: string; topics: string[] }> = [
  { email: 'ada@example.com', name: 'Ada Reader', topics: ['policy'] },
  { email: 'grace@example.com', topics: ['policy'] },
  { email: 'linus@example.com', topics: [] },
  { email: 'alan@example.com', topics: [] },
  { email: 'kate@example.com', topics: ['models'] },
];

let local: LocalServer | undefined;
let web: WebTest | undefined;
let origin = '';
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
/** What the server answered, as it saw it; `authorized` when the request carried credentials. */
let served: Served[] = [];

beforeAll(async () => {
  if (!available) return;
  // The server first, so that BASE_URL can be the origin the browser really uses (the CSRF check
  // compares the Origin header to it).
  local = await startLocalServer();
  served = local.served;
  origin = local.origin;
  web = await createWebTest({ BASE_URL: origin, RECAP_EDITOR_TOKEN: TOKEN, RECAP_EDITORS: 'ed@example.com' });
  local.use(web.app);

  const launched = await launchChromium();
  browser = launched;
  context = await launched.newContext({ viewport: WIDE, httpCredentials: { username: 'editor', password: TOKEN } });
  page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await local?.close();
  await web?.close();
});

/** Full-page screenshots at 375 and 1280 px, after checking that neither width scrolls sideways. */
async function shoot(name: string): Promise<void> {
  const before = page.viewportSize() ?? WIDE;
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

async function goto(path: string): Promise<void> {
  const response = await page.goto(`${origin}${path}`);
  expect(response?.status(), path).toBe(200);
}

/** Clicks a form's button: the POST answers with a redirect (so a reload repeats nothing), then the page. */
async function submit(button: Locator): Promise<void> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.waitForURL((u) => u.searchParams.has('done'), { waitUntil: 'load' }),
    button.click(),
  ]);
  expect(response.status(), response.url()).toBe(303);
}

/** Clicks the preview form's Show (a GET) and waits for the page it asks for, frames included. */
async function show(variant: string, subscriber = ''): Promise<void> {
  const asked = (u: URL) => u.pathname === `/desk/editions/${WEEK}` && u.searchParams.get('variant') === variant && u.searchParams.get('subscriber') === subscriber;
  await Promise.all([page.waitForURL(asked, { waitUntil: 'load' }), page.getByRole('button', { name: 'Show', exact: true }).click()]);
}

/** The text of a preview frame's email, whitespace-normalised, once it has rendered. */
async function frameText(which: 'desktop' | 'phone'): Promise<string> {
  const body = page.frameLocator(`iframe.${which}`).locator('body');
  await body.locator('h2').first().waitFor();
  return normalise((await body.textContent()) ?? '');
}

const storyTitles = () => page.locator('ol.stories > li > strong').allTextContents();

async function order(): Promise<number[]> {
  const rows = await web!.ctx.db.selectFrom('edition_articles').select('article_id').orderBy('position').execute();
  return rows.map((r) => r.article_id);
}

async function edition() {
  return web!.ctx.db.selectFrom('editions').selectAll().where('week', '=', WEEK).executeTakeFirstOrThrow();
}

function normalise(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe.skipIf(!available)('an editor at the desk in a browser', () => {
  it('pins a story, previews, approves, and sees the edition sent', async () => {
    const ctx = web!.ctx;
    const heading = () => page.locator('h1');

    for (const r of READERS) await addSubscriber(ctx, r.email, { name: r.name, topics: r.topics });
    const list = await findList(ctx.db, 'weekly-ai-recap');
    const planned = await ensureEdition(ctx.db, list, { week: WEEK, timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    if (!planned.ok) throw new Error(planned.reason);
    const stories = planned.edition.stories;
    expect(stories.length).toBeGreaterThanOrEqual(5);
    const pinned = stories[3]!;
    const newOrder = [pinned, ...stories.filter((s) => s !== pinned)];

    // The edition list, and the draft from it.
    await goto('/desk/');
    await expect(heading().textContent()).resolves.toBe("Editor's desk");
    await expect(page.locator('ol.archive > li').count()).resolves.toBe(1);
    await shoot('desk-list');
    await Promise.all([page.waitForURL(`${origin}/desk/editions/${WEEK}`), page.getByRole('link', { name: new RegExp(WEEK) }).click()]);
    await expect(heading().textContent()).resolves.toBe(`#1 · ${WEEK} · draft`);
    await expect(storyTitles()).resolves.toEqual(stories.map((s) => s.title));
    await shoot('desk-draft');

    // Pin the fourth story to the top: first on the page and in the database, the rest in order.
    const fourth = page.locator('ol.stories > li').nth(3);
    await expect(fourth.locator('strong').textContent()).resolves.toBe(pinned.title);
    await submit(fourth.getByRole('button', { name: 'Pin to top' }));
    await expect(page.locator('.notice').textContent()).resolves.toContain('Pinned: it leads every variant.');
    // Back at the story that moved (the redirect's anchor), not at the top of the page.
    expect(new URL(page.url()).hash).toBe(`#story-${pinned.id}`);
    await expect(page.locator('#order + p').textContent()).resolves.toMatch(/^The pinned story leads all 3 variants \(5 readers\); it takes the place of the readers' own top story in /);
    await expect(storyTitles()).resolves.toEqual(newOrder.map((s) => s.title));
    await expect(page.locator('ol.stories > li').first().textContent()).resolves.toContain('top story');
    // The top story has nothing above it to pin or move up.
    await expect(page.locator('ol.stories > li').first().getByRole('button', { name: 'Pin to top' }).count()).resolves.toBe(0);
    expect(await order()).toEqual(newOrder.map((s) => s.id));
    await shoot('desk-pinned');

    // Preview the policy readers' variant: both frames show the email, led by the pinned story.
    const policyLabel = await page.locator('#variant option[value=policy]').textContent();
    expect(policyLabel).toBe('Policy (2 readers)');
    await page.selectOption('#variant', 'policy');
    await show('policy');
    for (const which of ['desktop', 'phone'] as const) {
      const text = await frameText(which);
      expect(text, which).toContain('leading with what you follow: Policy');
      expect(text, which).toMatch(new RegExp(`Top story\\s*${escapeRegExp(normalise(pinned.title))}`));
    }
    await shoot('desk-preview-policy');

    // What one subscriber gets: greeted by name, with their own unsubscribe link.
    await page.fill('#subscriber', 'ada@example.com');
    await show('policy', 'ada@example.com');
    const adas = await frameText('phone');
    expect(adas).toContain('Hi Ada,');
    expect(adas).toContain('leading with what you follow: Policy');

    // The full edition leads with the pinned story, at both widths.
    await page.fill('#subscriber', '');
    await page.selectOption('#variant', '');
    await show('');
    await expect(page.locator('#variant').inputValue()).resolves.toBe('');
    for (const which of ['desktop', 'phone'] as const) {
      const text = await frameText(which);
      expect(text, which).not.toContain('leading with what you follow');
      expect(text, which).toMatch(new RegExp(`Top story\\s*${escapeRegExp(normalise(pinned.title))}`));
    }
    const desktop = await page.locator('iframe.desktop').boundingBox();
    const phone = await page.locator('iframe.phone').boundingBox();
    expect(Math.round(desktop!.width)).toBe(600);
    expect(Math.round(phone!.width)).toBe(375);
    // The preview sits beside the controls on a wide screen: its frames start right of them.
    const controls = await page.locator('.controls').boundingBox();
    expect(desktop!.x).toBeGreaterThanOrEqual(controls!.x + controls!.width);
    await expect(page.locator('#variant option[value=""]').textContent()).resolves.toBe('full edition (2 readers)');
    await shoot('desk-preview-full');

    // Approve for now (no send time): the desk asks first, saying who gets it and when.
    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/approve'), { waitUntil: 'load' }), page.getByRole('button', { name: 'Approve…' }).click()]);
    await expect(page.locator('main').textContent()).resolves.toMatch(/It goes to 5 readers in 3 variants[\s\S]*no scheduler is running/);
    expect((await edition()).status).toBe('draft');
    await shoot('desk-approve-question');
    await submit(page.getByRole('button', { name: 'Approve: send to 5 readers' }));
    await expect(page.locator('.notice').textContent()).resolves.toContain('Approved for 5 readers. It goes out within a minute of approval');
    await expect(page.getByRole('button', { name: 'Back to draft' }).count()).resolves.toBe(1);
    await expect(heading().textContent()).resolves.toBe(`#1 · ${WEEK} · approved`);
    await expect(page.getByRole('button', { name: 'Pin to top' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Approve…' }).count()).resolves.toBe(0);
    expect(await edition()).toMatchObject({ status: 'approved', approved_by: 'the desk', send_at: null, approved_at: ctx.clock.now().toISOString() });
    await shoot('desk-approved');

    // The scheduler's next minute: the week is due, and its approved edition goes out.
    ctx.clock.set('2026-11-30T08:01:00Z');
    const io = testIo(ctx, () => outboxTransport(ctx.config.outboxDir), { waitForRetries: false });
    const done = await tick(ctx, io, cronSlots(ctx.config.cron, 'UTC'));
    expect(done.join('\n')).toMatch(new RegExp(`${WEEK}: approved by the desk; ${READERS.length} submitted, 0 failed, edition sent`));
    expect(await edition()).toMatchObject({ status: 'sent' });
    const run = await ctx.db.selectFrom('schedule_runs').select(['week', 'state']).execute();
    expect(run).toEqual([{ week: WEEK, state: 'sent' }]);
    // A second tick has nothing left to do.
    ctx.clock.advance(60_000);
    expect(await tick(ctx, io, cronSlots(ctx.config.cron, 'UTC'))).toEqual([]);

    // The desk shows it sent, with the delivery chart. (A GET: reloading would post the approval again.)
    await goto(`/desk/editions/${WEEK}`);
    await expect(heading().textContent()).resolves.toBe(`#1 · ${WEEK} · sent`);
    const chart = page.locator('svg.chart');
    await expect(chart.count()).resolves.toBe(1);
    await expect(chart.getAttribute('aria-label')).resolves.toBe(`${READERS.length} submitted, 0 deferred, 0 failed, 0 uncertain, 0 bounced, 0 complained, 0 unsubscribed since`);
    await expect(storyTitles()).resolves.toEqual(newOrder.map((s) => s.title));
    await expect(page.getByRole('button', { name: 'Cancel this edition' }).count()).resolves.toBe(0);
    await shoot('desk-sent');
    await goto('/desk/');
    await expect(page.locator('ol.archive > li').first().textContent()).resolves.toContain(`${WEEK} · sent`);
    await expect(page.locator('svg.chart').first().getAttribute('aria-label')).resolves.toMatch(new RegExp(`^${READERS.length} submitted, `));
    await shoot('desk-list-sent');

    // One email per reader in the outbox; every copy leads with the pinned story, and its subject is that story's.
    const dir = join(ctx.config.outboxDir, WEEK);
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(READERS.length);
    for (const r of READERS) {
      const file = files.find((f) => f.endsWith(`-${r.email}.eml`));
      expect(file, r.email).toBeDefined();
      const mail = await simpleParser(readFileSync(join(dir, file!)));
      const text = normalise(mail.text ?? '');
      const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
      expect(to).toBe(r.email);
      expect(mail.subject).toBe(pinned.title);
      expect((await edition()).subject).toBe(pinned.title);
      if (r.topics.length === 0) expect(text, r.email).toContain(`TOP STORY: ${normalise(pinned.title)}`);
      // The pin leads every variant, the policy readers' too.
      if (r.topics.includes('policy')) expect(text, r.email).toContain(`TOP STORY: ${normalise(pinned.title)}`);
    }
    const deliveries = await ctx.db.selectFrom('deliveries').select('status').execute();
    expect(deliveries.map((d) => d.status)).toEqual(READERS.map(() => 'submitted'));

    // Only our own origin was asked for anything; every request with the credentials succeeded
    // (the first to /desk/ is Chromium's unauthenticated try, answered 401 with the challenge);
    // nothing broke a CSP or logged an error.
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(requests).toContain(`${origin}/assets/recap.css`);
    expect(requests.filter((u) => u.includes(`/desk/editions/${WEEK}/preview?`)).length).toBeGreaterThanOrEqual(8);
    expect(served.filter((r) => r.status >= 400 && !(r.status === 401 && !r.authorized))).toEqual([]);
    expect(served.filter((r) => r.path.endsWith('/preview') && r.status === 200).length).toBeGreaterThanOrEqual(8);
    expect(consoleErrors).toEqual([]);
    expect(web!.logs.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
