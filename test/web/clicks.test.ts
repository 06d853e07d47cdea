// RECAP_TRACK_CLICKS: signed, counted redirects per story and message (a random tag in each
// message's links, nothing of the reader), with link scanners left out of every count.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { clickedMessagesByArm, clickUrl, mostRead, SCANNER_SECONDS } from '../../src/delivery/clicks.ts';
import { createTransport, outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { TEST_SECRET } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const EDITOR = { Authorization: 'Bearer editor-token-0123456789' };
let t: WebTest;
let sink: SmtpSink | undefined;
afterEach(async () => {
  await t.close();
  await sink?.close();
  sink = undefined;
});

async function sendAndRead(env: Record<string, string>) {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: 'editor-token-0123456789', ...env });
  await addSubscriber(t.ctx, 'reader@example.com', { name: 'Reader' });
  await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
  const dir = join(t.ctx.config.outboxDir, '2026-W48');
  return simpleParser(readFileSync(join(dir, readdirSync(dir)[0] as string)));
}

/** Sends the week to `readers` through a real SMTP server; each message's counted links, parsed by mailparser, by recipient. */
async function sendOverSmtp(readers: string[]): Promise<Map<string, { date: Date; links: string[] }>> {
  sink = await startSmtpSink();
  t = await createWebTest({ RECAP_EDITOR_TOKEN: 'editor-token-0123456789', RECAP_TRACK_CLICKS: 'true', SMTP_URL: sink.url });
  for (const email of readers) await addSubscriber(t.ctx, email, { name: 'Reader' });
  await runWeeklyRecap(t.ctx, testIo(t.ctx, () => createTransport(t.ctx.config)), { week: '2026-W48' });
  const out = new Map<string, { date: Date; links: string[] }>();
  for (const m of sink.messages) {
    const mail = await simpleParser(m.bytes);
    out.set(m.to[0] as string, { date: mail.date as Date, links: [...(mail.html || '').matchAll(/href="https:\/\/recap\.test(\/r\/[^"]+)"/g)].map((x) => x[1] as string) });
  }
  return out;
}

const click = (path: string) => t.app.request(path);
const rows = () => t.ctx.db.selectFrom('message_clicks').selectAll().orderBy('message_tag').orderBy('article_id').execute();

describe('click tracking', () => {
  it('is off by default: story links go straight to the source, and carry no tag', async () => {
    const mail = await sendAndRead({});
    expect(mail.html).not.toContain('https://recap.test/r/');
    expect(mail.html).toContain('https://www.tmtpost.com/7712345.html');
    // The variant has no place for a tag: nothing to splice per recipient.
    const variants = await t.ctx.db.selectFrom('variants').select(['html', 'text']).execute();
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(v.html + v.text).not.toContain(':message_tag%%');
  });

  it('gives each message a tag of its own in every counted link, known to no row of the database, and counts a click for its message', async () => {
    const sent = await sendOverSmtp(['ada@example.com', 'bob@example.com', 'cy@example.com']);
    expect(sent.size).toBe(3);
    const tags = new Set<string>();
    for (const [email, { date, links }] of sent) {
      expect(links.length, email).toBeGreaterThan(10);
      // /r/<edition>.<article>.<format and arm>.<signature>.<tag>: one tag per message, made when it was composed.
      const parts = links.map((l) => /^\/r\/\d+\.\d+\.f\.[\w-]{22}\.([\w-]{12})(\d+)$/.exec(l));
      expect(parts.every(Boolean), links[0]).toBe(true);
      const own = new Set(parts.map((p) => (p as RegExpExecArray)[1]));
      expect(own.size, email).toBe(1);
      expect(Number((parts[0] as RegExpExecArray)[2])).toBe(Math.floor(date.getTime() / 1000));
      tags.add([...own][0] as string);
    }
    expect(tags.size).toBe(3);
    // Nothing ties a tag to a reader: no delivery (or any other row a reader has) holds it.
    const stored = JSON.stringify([await t.ctx.db.selectFrom('deliveries').selectAll().execute(), await t.ctx.db.selectFrom('subscribers').selectAll().execute(), await t.ctx.db.selectFrom('variants').select(['html', 'text']).execute()]);
    for (const tag of tags) expect(stored).not.toContain(tag);
    expect(stored).toContain(':message_tag%%');

    // A reader clicks two stories a few minutes later, one of them twice.
    t.ctx.clock.advance(5 * 60_000);
    const ada = (sent.get('ada@example.com') as { links: string[] }).links;
    const [first, second] = [ada[0] as string, ada.find((l) => l.split('.')[1] !== (ada[0] as string).split('.')[1]) as string];
    for (const link of [first, first, second]) {
      const res = await click(link);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^https:\/\/(?!recap\.test)/);
    }
    const counted = await rows();
    expect(counted.map((r) => [r.clicks, r.format, r.subject_arm, Number(r.scanner)])).toEqual(expect.arrayContaining([[2, 'full', null, 0], [1, 'full', null, 0]]));
    expect(counted).toHaveLength(2);
    expect(new Set(counted.map((r) => r.message_tag)).size).toBe(1);
    expect(Object.keys(counted[0] as object)).not.toContain('subscriber_id');
    // The desk's most read comes from the same counts.
    const desk = await (await t.app.request('/desk/editions/2026-W48', { headers: EDITOR })).text();
    expect(desk).toContain('Most read');
    expect(desk).toContain('2 clicks');
  }, 60_000);

  it('keeps links sent before they carried a tag redirecting and counting', async () => {
    t = await createWebTest({ RECAP_TRACK_CLICKS: 'true' });
    await addSubscriber(t.ctx, 'reader@example.com');
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const edition = await t.ctx.db.selectFrom('editions').select('id').executeTakeFirstOrThrow();
    const story = await t.ctx.db.selectFrom('edition_articles as ea').innerJoin('articles as a', 'a.id', 'ea.article_id').select(['a.id', 'a.url', 'a.title']).where('ea.position', '=', 0).executeTakeFirstOrThrow();
    // The old form: /r/<edition>.<article>.<signature over edition, article and URL>.
    const sig = createHmac('sha256', TEST_SECRET).update(`click:${edition.id}:${story.id}:${story.url}`).digest('base64url').slice(0, 22);
    for (let i = 0; i < 2; i++) {
      const res = await click(`/r/${edition.id}.${story.id}.${sig}`);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(story.url);
    }
    // Counted under no message (it carried none), and never taken for a scanner's, however soon it came.
    expect((await rows()).map((r) => [r.message_tag, r.clicks, Number(r.scanner)])).toEqual([['', 2, 0]]);
    expect(await mostRead(t.ctx.db, edition.id)).toEqual([{ title: story.title, clicks: 2 }]);
    // A tag cannot be put on an old link.
    expect((await click(`/r/${edition.id}.${story.id}.${sig}.AAAAAAAAAAAA1796025600`)).status).toBe(404);
  });

  it('redirects whatever the tag, but counts a tag that cannot be a message of the edition nowhere; refuses forged links', async () => {
    t = await createWebTest({ RECAP_TRACK_CLICKS: 'true' });
    await addSubscriber(t.ctx, 'reader@example.com');
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const edition = await t.ctx.db.selectFrom('editions').select(['id', 'created_at']).executeTakeFirstOrThrow();
    const story = await t.ctx.db.selectFrom('edition_articles as ea').innerJoin('articles as a', 'a.id', 'ea.article_id').select(['a.id', 'a.url']).where('ea.position', '=', 0).executeTakeFirstOrThrow();
    t.ctx.clock.advance(10 * 60_000);
    const now = Math.floor(t.ctx.clock.now().getTime() / 1000);
    const link = (tag: string, variant = { format: 'full' as const, subjectArm: null }) => clickUrl('', TEST_SECRET, edition.id, story, variant, tag);
    const before = Math.floor(Date.parse(edition.created_at) / 1000) - 3600;
    for (const tag of ['', 'nonsense', 'AAAAAAAAAAAA', `AAAAAAAAAAAA${now + 3600}`, `AAAAAAAAAAAA${before}`, `AAAA${now}`, `AAAAAAAAAAAA${now}%20`]) {
      const res = await click(link(tag));
      expect(res.status, tag).toBe(302);
      expect(res.headers.get('location'), tag).toBe(story.url);
    }
    expect(await rows()).toEqual([]);
    // A good tag counts.
    expect((await click(link(`AAAAAAAAAAAA${now - 600}`))).status).toBe(302);
    expect((await rows()).map((r) => [r.message_tag, r.sent_at])).toEqual([['AAAAAAAAAAAA', new Date((now - 600) * 1000).toISOString()]]);
    // The signature covers the format and the arm: a link of one variant cannot be made another's.
    const brief = link(`BBBBBBBBBBBB${now - 600}`, { format: 'brief', subjectArm: 2 } as never);
    expect((await click(brief)).status).toBe(302);
    for (const bad of [brief.replace('.b2.', '.f2.'), brief.replace('.b2.', '.b3.'), brief.replace('.b2.', '.b.'), `/r/${edition.id}.999.f.${brief.split('.')[3]}.x`, '/r/nonsense', `/r/${edition.id}.${story.id}.f.AAAAAAAAAAAAAAAAAAAAAA.x`]) {
      const res = await click(bad);
      expect(res.status, bad).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    }
    expect((await rows()).map((r) => [r.format, r.subject_arm])).toEqual([['full', null], ['brief', 2]]);
  });

  it('leaves link scanners out of every count: a click within seconds of the message, or nearly every link at once', async () => {
    const sent = await sendOverSmtp(['human@example.com', 'fast@example.com', 'every@example.com']);
    const edition = await t.ctx.db.selectFrom('editions').select('id').executeTakeFirstOrThrow();
    const linksOf = (email: string) => (sent.get(email) as { links: string[] }).links;
    const storyOf = (l: string) => l.split('.')[1];
    const oneEach = (links: string[]) => links.filter((l, i) => links.findIndex((x) => storyOf(x) === storyOf(l)) === i);
    // A filter at the receiving end follows a link as the message arrives.
    t.ctx.clock.set(new Date((sent.get('fast@example.com') as { date: Date }).date.getTime() + (SCANNER_SECONDS - 5) * 1000).toISOString());
    const fast = oneEach(linksOf('fast@example.com'));
    expect((await click(fast[0] as string)).status).toBe(302);
    // Later clicks of that message do not count either.
    t.ctx.clock.advance(20 * 60_000);
    expect((await click(fast[1] as string)).status).toBe(302);
    // Another follows every link, long after, in a few seconds.
    for (const l of oneEach(linksOf('every@example.com'))) {
      expect((await click(l)).status).toBe(302);
      t.ctx.clock.advance(500);
    }
    // A reader clicks two stories.
    const human = oneEach(linksOf('human@example.com'));
    for (const l of human.slice(0, 2)) expect((await click(l)).status).toBe(302);
    // Every link was still redirected; each message's clicks are kept, marked.
    const all = await rows();
    const byTag = new Map<string, number[]>();
    for (const r of all) byTag.set(r.message_tag, [...(byTag.get(r.message_tag) ?? []), Number(r.scanner)]);
    expect([...byTag.values()].map((flags) => [flags.length, Math.max(...flags), Math.min(...flags)]).sort()).toEqual([[2, 0, 0], [2, 1, 1], [oneEach(linksOf('every@example.com')).length, 1, 1]].sort());
    // Only the reader's two clicks count, in most read and on the desk.
    const read = await mostRead(t.ctx.db, edition.id);
    expect(read.map((r) => r.clicks)).toEqual([1, 1]);
    const desk = await (await t.app.request('/desk/editions/2026-W48', { headers: EDITOR })).text();
    expect(desk).toContain('1 clicks');
    expect(desk).not.toContain('2 clicks');
  }, 60_000);

  it('counts clicked messages per subject arm without the scanners', async () => {
    t = await createWebTest({ RECAP_TRACK_CLICKS: 'true' });
    await addSubscriber(t.ctx, 'reader@example.com');
    await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: '2026-W48' });
    const edition = await t.ctx.db.selectFrom('editions').select('id').executeTakeFirstOrThrow();
    const stories = await t.ctx.db.selectFrom('edition_articles as ea').innerJoin('articles as a', 'a.id', 'ea.article_id').select(['a.id', 'a.url']).orderBy('ea.position').execute();
    const sentAt = Math.floor(t.ctx.clock.now().getTime() / 1000);
    t.ctx.clock.advance(10 * 60_000);
    const link = (arm: number, tag: string, story = stories[0] as { id: number; url: string }) => clickUrl('', TEST_SECRET, edition.id, story, { format: 'full', subjectArm: arm }, `${tag}${sentAt}`);
    for (const l of [link(0, 'arm0-reader1'), link(0, 'arm0-reader1', stories[1]), link(0, 'arm0-reader2'), link(1, 'arm1-reader1')]) expect((await click(l)).status).toBe(302);
    // A scanner in arm 1: every story in a second.
    for (const s of stories) expect((await click(link(1, 'arm1-scanner', s))).status).toBe(302);
    expect(Object.fromEntries(await clickedMessagesByArm(t.ctx.db, edition.id))).toEqual({ 0: 2, 1: 1 });
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
    const signed = clickUrl('https://recap.test', TEST_SECRET, edition.id, { id: top.id, url: 'javascript:alert(1)' }, { format: 'full', subjectArm: null }, `AAAAAAAAAAAA${Math.floor(t.ctx.clock.now().getTime() / 1000)}`);
    expect(mail.html).not.toContain(signed.slice(0, signed.lastIndexOf('.')));
    expect(mail.html).toContain(`href="#story-${top.id}"`);
    const res = await t.app.request(signed.slice('https://recap.test'.length));
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });
});
