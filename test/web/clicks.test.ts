// RECAP_TRACK_CLICKS: signed, counted redirects per story and edition.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { clickUrl } from '../../src/delivery/clicks.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

let t: WebTest;
afterEach(async () => {
  await t.close();
});

async function sendAndRead(env: Record<string, string>) {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: 'editor-token-0123456789', ...env });
  await addSubscriber(t.ctx, 'reader@example.com', { name: 'Reader' });
  await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
  const dir = join(t.ctx.config.outboxDir, '2026-W48');
  return simpleParser(readFileSync(join(dir, readdirSync(dir)[0] as string)));
}

describe('click tracking', () => {
  it('is off by default: story links go straight to the source', async () => {
    const mail = await sendAndRead({});
    expect(mail.html).not.toContain('https://recap.test/r/');
    expect(mail.html).toContain('https://www.tmtpost.com/7712345.html');
  });

  it('when on, sends readers through a counted redirect to exactly the signed URL', async () => {
    const mail = await sendAndRead({ RECAP_TRACK_CLICKS: 'true' });
    const links = [...(mail.html || '').matchAll(/href="https:\/\/recap\.test(\/r\/[\w.-]+)"/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(10);
    expect(mail.text).toContain('https://recap.test/r/');
    // Footer links are not tracked, and nothing identifies the reader in a story link.
    expect(mail.html).toContain('https://recap.test/unsubscribe/');
    const first = links[0] as string;
    const res = await t.app.request(first);
    expect(res.status).toBe(302);
    const target = res.headers.get('location') as string;
    expect(target).toMatch(/^https:\/\//);
    expect(target).not.toContain('recap.test');
    await t.app.request(first);
    const counted = await t.ctx.db.selectFrom('clicks').select(['clicks']).execute();
    expect(counted).toEqual([{ clicks: 2 }]);
    expect(Object.keys((await t.ctx.db.selectFrom('clicks').selectAll().executeTakeFirstOrThrow()))).not.toContain('subscriber_id');
    // Forged, tampered or foreign tokens redirect nowhere.
    const [edition, article] = first.slice(3).split('.');
    for (const bad of [`/r/${edition}.${article}.AAAAAAAAAAAAAAAAAAAAAA`, `/r/${edition}.999.${first.split('.')[2]}`, '/r/nonsense', `/r/${edition}.${article}.x`]) {
      const r = await t.app.request(bad);
      expect(r.status, bad).toBe(404);
      expect(r.headers.get('location')).toBeNull();
    }
    // The desk shows the most-read stories.
    const desk = await (await t.app.request('/desk/editions/2026-W48', { headers: { Authorization: 'Bearer editor-token-0123456789' } })).text();
    expect(desk).toContain('Most read');
    expect(desk).toContain('2 clicks');
  });

  it('never links or redirects to a stored URL that is not http(s)', async () => {
    t = await createWebTest({ RECAP_TRACK_CLICKS: 'true' });
    const top = await t.ctx.db.selectFrom('articles').select(['id', 'url']).orderBy('score', 'desc').executeTakeFirstOrThrow();
    await t.ctx.db.updateTable('articles').set({ url: 'javascript:alert(1)' }).where('id', '=', top.id).execute();
    await addSubscriber(t.ctx, 'reader@example.com');
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const edition = await t.ctx.db.selectFrom('editions').select('id').executeTakeFirstOrThrow();
    const dir = join(t.ctx.config.outboxDir, '2026-W48');
    const mail = await simpleParser(readFileSync(join(dir, readdirSync(dir)[0] as string)));
    const signed = clickUrl('https://recap.test', TEST_SECRET, edition.id, { id: top.id, url: 'javascript:alert(1)' });
    expect(mail.html).not.toContain(signed);
    expect(mail.html).toContain(`href="#story-${top.id}"`);
    const res = await t.app.request(signed.slice('https://recap.test'.length));
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });
});
