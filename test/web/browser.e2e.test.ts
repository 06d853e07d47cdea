/// <reference lib="dom" />
// A reader's whole journey through the subscriber pages in a real browser (Debian's chromium through
// playwright-core), against `recap serve`'s app on a real local port: subscribe, confirm from the
// emailed link, change preferences, unsubscribe. Each step is checked in the database too, every
// page must fit 375 px without sideways scrolling, and nothing may load from another host or trip
// the Content-Security-Policy. Screenshots land in var/screenshots/web for people to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { domainToASCII } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriberLinks } from '../../src/audience/tokens.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { chromiumAvailable, launchChromium, type LocalServer, type Served, startLocalServer } from '../helpers/browser.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const SHOTS = join(import.meta.dirname, '../../var/screenshots/web');
const available = chromiumAvailable;

const EMAIL = 'e2e.reader@example.com';
const WIDE = { width: 1280, height: 800 };

let local: LocalServer | undefined;
let web: WebTest | undefined;
let origin = '';
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
/** What the server answered, as it saw it (the browser reports no request for the favicon). */
let served: Served[] = [];

beforeAll(async () => {
  if (!available) return;
  // The server first, so that BASE_URL can be the origin the browser really uses: the CSRF check
  // compares the Origin header to it, and the links in emails are built from it.
  local = await startLocalServer();
  served = local.served;
  origin = local.origin;
  // As `recap serve` runs it: each answer wakes the worker that mails the confirmation.
  web = await createWebTest({ BASE_URL: origin }, undefined, { background: true });
  local.use(web.app);

  const launched = await launchChromium();
  browser = launched;
  context = await launched.newContext({ viewport: WIDE });
  page = await newPage();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await local?.close();
  await web?.close();
});

/** Full-page screenshots at 375 and 1280 px, after checking that neither width scrolls sideways. */
async function shoot(p: Page, name: string): Promise<void> {
  const before = p.viewportSize() ?? WIDE;
  for (const width of [375, 1280]) {
    await p.setViewportSize({ width, height: 800 });
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
    await p.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await p.setViewportSize(before);
}

/** A tab whose requests and console errors are recorded. */
async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on('request', (r) => requests.push(r.url()));
  p.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
  return p;
}

async function goto(path: string, p = page): Promise<void> {
  const response = await p.goto(`${origin}${path}`);
  expect(response?.status(), path).toBe(200);
}

/** Clicks a form's button and waits for the page its POST answers with. */
async function submit(button: Locator): Promise<void> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.waitForEvent('load'),
    button.click(),
  ]);
  expect(response.status(), response.url()).toBe(200);
}

async function subscriber() {
  return web!.ctx.db.selectFrom('subscribers').selectAll().where('email', '=', EMAIL).executeTakeFirstOrThrow();
}

async function topics(id: number): Promise<string[]> {
  const rows = await web!.ctx.db.selectFrom('subscriber_topics').select('topic').where('subscriber_id', '=', id).orderBy('topic').execute();
  return rows.map((r) => r.topic);
}

async function events(id: number): Promise<string[]> {
  const rows = await web!.ctx.db.selectFrom('events').select('type').where('subscriber_id', '=', id).orderBy('id').execute();
  return rows.map((r) => r.type);
}

async function memberStatus(id: number): Promise<string | undefined> {
  const row = await web!.ctx.db.selectFrom('list_members').select('status').where('subscriber_id', '=', id).where('list_id', '=', web!.ctx.listId).executeTakeFirst();
  return row?.status;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe.skipIf(!available)('a reader in a browser', () => {
  it('subscribes, confirms, changes preferences and unsubscribes', async () => {
    const db = web!.ctx.db;
    const heading = () => page.locator('h1');

    // The archive and the subscribe form.
    await goto('/archive');
    await expect(heading().textContent()).resolves.toBe('Archive');
    await shoot(page, 'archive');

    await goto('/subscribe');
    await expect(heading().textContent()).resolves.toContain('Subscribe to Weekly AI Recap');
    await shoot(page, 'subscribe');
    await page.fill('#email', EMAIL);
    await page.fill('#name', 'E2E Reader');
    await page.check('input[name=topics][value=compute]');
    await page.check('input[name=topics][value=policy]');
    await submit(page.getByRole('button', { name: 'Subscribe' }));
    await expect(heading().textContent()).resolves.toBe('Check your inbox');
    await shoot(page, 'check-inbox');
    await web!.drain(); // waits for the drain that the answer woke

    let s = await subscriber();
    expect(s).toMatchObject({ status: 'pending', confirmed_at: null, name: 'E2E Reader', consent_source: 'form' });
    expect(s.consent_ip).toMatch(/127\.0\.0\.1$/); // the browser's own address, from the socket
    expect(s.consent_user_agent).toContain('Chrome');
    expect(await topics(s.id)).toEqual(['compute', 'policy']);
    expect(await memberStatus(s.id)).toBe('active');

    // The confirmation email, and its link: a GET shows a button and confirms nothing.
    const mails = (await web!.transactional()).filter((m) => m.to === EMAIL);
    expect(mails).toHaveLength(1);
    const m = new RegExp(`${escapeRegExp(origin)}(/confirm/[\\w.\\-]+)`).exec(mails[0]!.text);
    expect(m, mails[0]!.text.slice(0, 500)).not.toBeNull();
    const confirmPath = m![1]!;

    await goto(confirmPath);
    await expect(heading().textContent()).resolves.toBe('Confirm your subscription');
    await expect(page.getByRole('button', { name: 'Confirm my subscription' }).isVisible()).resolves.toBe(true);
    await shoot(page, 'confirm');
    s = await subscriber();
    expect(s.status).toBe('pending');
    expect(s.confirmed_at).toBeNull();
    expect(await events(s.id)).not.toContain('confirmed');

    await submit(page.getByRole('button', { name: 'Confirm my subscription' }));
    await expect(heading().textContent()).resolves.toBe('You are subscribed');
    await shoot(page, 'subscribed');
    s = await subscriber();
    expect(s.status).toBe('active');
    expect(s.confirmed_at).not.toBeNull();
    expect(await events(s.id)).toContain('confirmed');
    expect(await memberStatus(s.id)).toBe('active');

    // The unsubscribe page of an email's footer link (in a second tab), while subscribed: a
    // question and a button; the GET changes nothing.
    const links = subscriberLinks(origin, TEST_SECRET, s.id, web!.ctx.listId);
    const unsubscribePath = links.unsubscribeUrl.slice(origin.length);
    const tab = await newPage();
    await goto(unsubscribePath, tab);
    await expect(tab.locator('h1').textContent()).resolves.toBe('Unsubscribe?');
    await shoot(tab, 'unsubscribe');
    await tab.close();
    expect((await subscriber()).status).toBe('active');

    // Preferences: from the link on the confirmation page.
    await Promise.all([page.waitForURL(/\/preferences\//), page.getByRole('link', { name: 'Choose your topics and manage your subscription' }).click()]);
    expect(page.url()).toBe(links.preferencesUrl);
    await expect(heading().textContent()).resolves.toBe('Your preferences');
    await expect(page.locator('main').textContent()).resolves.toContain(`${EMAIL} · subscribed`);
    await expect(page.isChecked('input[name=topics][value=compute]')).resolves.toBe(true);
    await expect(page.isChecked('input[name=topics][value=policy]')).resolves.toBe(true);
    await expect(page.inputValue('#name')).resolves.toBe('E2E Reader');
    await shoot(page, 'preferences');

    const offered = await page.locator('input[name=topics]').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    const added = offered.includes('models') ? 'models' : offered.find((t) => t !== 'compute' && t !== 'policy');
    expect(added).toBeDefined();
    await page.uncheck('input[name=topics][value=compute]');
    await page.check(`input[name=topics][value=${added!}]`);
    await page.fill('#name', 'E2E Renamed');
    await submit(page.getByRole('button', { name: 'Save preferences' }));
    await expect(page.locator('.notice').textContent()).resolves.toContain('Saved.');
    await expect(page.inputValue('#name')).resolves.toBe('E2E Renamed');
    await expect(page.isChecked('input[name=topics][value=compute]')).resolves.toBe(false);
    await expect(page.isChecked(`input[name=topics][value=${added!}]`)).resolves.toBe(true);
    await shoot(page, 'preferences-saved');
    s = await subscriber();
    expect(s.name).toBe('E2E Renamed');
    expect(await topics(s.id)).toEqual([added!, 'policy'].sort());

    // Unsubscribe from the preferences page.
    await submit(page.getByRole('button', { name: 'Unsubscribe', exact: true }));
    await expect(page.locator('.notice').textContent()).resolves.toContain('You are unsubscribed');
    await expect(page.locator('main').textContent()).resolves.toContain(`${EMAIL} · not subscribed`);
    await expect(page.getByRole('button', { name: 'Subscribe again' }).isVisible()).resolves.toBe(true);
    await shoot(page, 'unsubscribed');
    s = await subscriber();
    expect(s.status).toBe('unsubscribed');
    expect(await memberStatus(s.id)).toBe('unsubscribed');
    expect(await events(s.id)).toEqual(['subscribe_requested', 'confirmed', 'preferences_changed', 'unsubscribed']);

    // The footer link's page now says so, and offers no button.
    await goto(unsubscribePath);
    await expect(heading().textContent()).resolves.toBe('You are unsubscribed');
    await expect(page.locator('main button').count()).resolves.toBe(0);
    await shoot(page, 'unsubscribe-done');

    // The form takes what RFC 5321/6531 allow and a browser's type="email" would refuse: a quoted
    // local part and an internationalized domain (stored as punycode).
    await goto('/subscribe');
    await page.fill('#email', '"john..doe"@exämple.org');
    await submit(page.getByRole('button', { name: 'Subscribe' }));
    await expect(heading().textContent()).resolves.toBe('Check your inbox');
    await web!.drain();
    const quoted = `"john..doe"@${domainToASCII('exämple.org')}`;
    await expect(db.selectFrom('subscribers').select('status').where('email', '=', quoted).executeTakeFirst()).resolves.toEqual({ status: 'pending' });

    // Only our own origin was asked for anything, and nothing broke the CSP or logged an error.
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(requests).toContain(`${origin}/assets/recap.css`);
    expect(served.filter((r) => r.status >= 400)).toEqual([]);
    // No CSP violation, no failed load (the pages declare their icon, so Chromium asks for no /favicon.ico).
    expect(consoleErrors).toEqual([]);
    expect(web!.logs.filter((l) => l.startsWith('error'))).toEqual([]);
    await expect(db.selectFrom('subscribers').select('id').execute()).resolves.toHaveLength(2);
  });
});
