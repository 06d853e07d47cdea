/// <reference lib="dom" />
// The subscribe form in a real browser (chromium) over real HTTP: it offers the browser's own time
// zone, the Content-Security-Policy lets its one script run, and without JavaScript the field stays
// on the list's zone. The choice reaches the subscriber once they confirm.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, type LocalServer, startLocalServer } from '../helpers/browser.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

let local: LocalServer | undefined;
let web: WebTest | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  local = await startLocalServer();
  web = await createWebTest({ BASE_URL: local.origin, RECAP_TZ: 'Europe/Berlin', RECAP_LOCAL_SEND_TIME: '08:00' }, undefined, { background: true });
  local.use(web.app);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await local?.close();
  await web?.close();
});

/** Subscribes `email` from a browser in `timezoneId`, confirms from the emailed link; the zone the form showed. */
async function subscribeFrom(timezoneId: string, email: string, javaScriptEnabled: boolean): Promise<string> {
  const context = await browser!.newContext({ timezoneId, javaScriptEnabled });
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    expect((await page.goto(`${local!.origin}/subscribe`))?.status()).toBe(200);
    const shown = await page.locator('#time_zone').inputValue();
    await page.fill('#email', email);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Subscribe' }).click()]);
    await web!.drain();
    const mail = (await web!.transactional()).find((m) => m.to === email);
    const confirm = new RegExp(`${local!.origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/confirm/[\\w.\\-]+)`).exec(mail?.text ?? '')?.[1];
    expect(confirm).toBeDefined();
    await page.goto(`${local!.origin}${confirm}`);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Confirm my subscription' }).click()]);
    expect(errors, 'no script refused by the policy, no error').toEqual([]);
    return shown;
  } finally {
    await context.close();
  }
}

async function stored(email: string) {
  return web!.ctx.db.selectFrom('subscribers').select(['status', 'time_zone']).where('email', '=', email).executeTakeFirstOrThrow();
}

describe.skipIf(!chromiumAvailable)('the time zone on the subscribe form, in a browser', () => {
  it('offers the browser’s zone and keeps it through the confirmation', async () => {
    expect(await subscribeFrom('Asia/Tokyo', 'tokyo.reader@example.com', true)).toBe('Asia/Tokyo');
    expect(await stored('tokyo.reader@example.com')).toEqual({ status: 'active', time_zone: 'Asia/Tokyo' });
    expect(await subscribeFrom('America/New_York', 'ny.reader@example.com', true)).toBe('America/New_York');
    expect(await stored('ny.reader@example.com')).toEqual({ status: 'active', time_zone: 'America/New_York' });
  });

  it('stays on the list’s zone without JavaScript', async () => {
    expect(await subscribeFrom('Asia/Tokyo', 'nojs.reader@example.com', false)).toBe('');
    expect(await stored('nojs.reader@example.com')).toEqual({ status: 'active', time_zone: null });
  });
});
