// Full and brief readers of the same topics, through a real send to an SMTP server on loopback, every
// message read back with mailparser: each gets their format, each (topics, format) is rendered once,
// and the edition's stats count each format.
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { findList } from '../../src/audience/lists.ts';
import { enqueueDeliveries } from '../../src/delivery/enqueue.ts';
import { statsByFormat } from '../../src/delivery/format-stats.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { BRIEF_HTML_LIMIT } from '../../src/render/variant.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let sink: SmtpSink;

const READERS = {
  'ada@example.com': { topics: ['policy'], format: 'full' },
  'ben@example.com': { topics: ['policy'], format: 'brief' },
  'eve@example.com': { topics: ['policy'], format: 'brief' },
  'dee@example.com': { topics: [], format: 'full' },
  'cy@example.com': { topics: [], format: 'brief' },
} as const;

beforeEach(async () => {
  // Eve's address is refused: a failure counts in her format.
  sink = await startSmtpSink({ reject: (rcpt) => (rcpt === 'eve@example.com' ? { code: 550, message: '5.1.1 no such user' } : undefined) });
  ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_SEND_BATCH: '2', RECAP_TRACK_CLICKS: 'true' });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (const [email, r] of Object.entries(READERS)) await addSubscriber(ctx, email, { topics: [...r.topics], format: r.format });
});

afterEach(async () => {
  await sink.close();
  await ctx.close();
});

it('sends each reader their format, rendering each (topics, format) once, and counts each format', async () => {
  const report = await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
  if (report.kind !== 'sent') throw new Error(report.kind);

  const variants = await ctx.db.selectFrom('variants').select(['id', 'topics_key', 'html_bytes']).orderBy('topics_key').execute();
  expect(variants.map((v) => v.topics_key).sort()).toEqual(['', 'policy', 'policy|brief', '|brief']);
  for (const v of variants.filter((x) => x.topics_key.endsWith('|brief'))) expect(v.html_bytes).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
  // Ben and Eve share one variant.
  const keyOf = new Map(variants.map((v) => [v.id, v.topics_key]));
  const deliveries = await ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['s.email', 'd.variant_id']).execute();
  expect(Object.fromEntries(deliveries.map((d) => [d.email, keyOf.get(d.variant_id as number)]))).toEqual({
    'ada@example.com': 'policy', 'ben@example.com': 'policy|brief', 'eve@example.com': 'policy|brief', 'dee@example.com': '', 'cy@example.com': '|brief',
  });

  const received = sink.byRecipient();
  expect([...received.keys()].sort()).toEqual(['ada@example.com', 'ben@example.com', 'cy@example.com', 'dee@example.com']);
  for (const [email, [message]] of received) {
    const mail = await simpleParser(message?.raw ?? '');
    const html = (mail.html || '').replace(/<!-- -->/g, '');
    const text = (mail.text ?? '').replace(/\s+/g, ' ');
    const brief = READERS[email as keyof typeof READERS].format === 'brief';
    expect(html.includes('Key takeaways'), email).toBe(!brief);
    expect(text.includes('Key takeaways'), email).toBe(!brief);
    expect(html.includes('full analysis of every story'), email).toBe(brief);
    expect(text.includes('full analysis of every story'), email).toBe(brief);
    if (brief) expect(Buffer.byteLength(html), email).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
    // Counted links, the footer and one-click unsubscribe in either format.
    expect(html, email).toMatch(/href="https:\/\/[^"]+\/r\/\d+\.\d+\./);
    expect(html, email).toContain('Unsubscribe</a>');
    const head = (message?.raw ?? '').slice(0, (message?.raw ?? '').search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
    expect(head, email).toMatch(/^List-Unsubscribe:\s*<https:\/\/[^>]+\/unsubscribe\/[^>]+>/m);
    expect(head, email).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    if (READERS[email as keyof typeof READERS].topics.length) expect(text, email).toContain('leading with what you follow: Policy');
  }

  // Clicks are recorded per message by another part (message_clicks); two on a brief, one on a full.
  const article = (await ctx.db.selectFrom('articles').select('id').limit(1).executeTakeFirstOrThrow()).id;
  const at = ctx.clock.now().toISOString();
  const click = (tag: string, format: 'full' | 'brief', clicks: number) => ({ edition_id: report.edition.row.id, message_tag: tag, article_id: article, format, subject_arm: null, sent_at: at, clicks, first_at: at, last_at: at });
  await ctx.db.insertInto('message_clicks').values([click('a', 'brief', 2), click('b', 'full', 1)]).execute();
  expect(await statsByFormat(ctx.db, report.edition.row.id)).toEqual([
    { format: 'full', readers: 2, submitted: 2, failed: 0, deferred: 0, uncertain: 0, queued: 0, clicks: 1 },
    { format: 'brief', readers: 3, submitted: 2, failed: 1, deferred: 0, uncertain: 0, queued: 0, clicks: 2 },
  ]);
});

it('counts a delivery not composed yet in its reader’s format', async () => {
  const planned = await ensureEdition(ctx.db, await findList(ctx.db, 'weekly-ai-recap'), { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  await enqueueDeliveries(ctx.db, planned.edition, undefined, ctx.clock.now(), ctx.config);
  const stats = await statsByFormat(ctx.db, planned.edition.row.id);
  expect(stats.map((s) => [s.format, s.readers, s.queued])).toEqual([['full', 2, 2], ['brief', 3, 3]]);
});

it('sends an ordinary week’s brief whole under its bound, counted links and all: every story with its TL;DR line and source', async () => {
  const report = await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
  if (report.kind !== 'sent') throw new Error(report.kind);
  const variant = await ctx.db.selectFrom('variants').select(['topics_key', 'compacted', 'html_bytes']).where('topics_key', '=', '|brief').executeTakeFirstOrThrow();
  expect(variant.compacted).toBe('[]');
  expect(variant.html_bytes).toBeLessThanOrEqual(BRIEF_HTML_LIMIT);
  const mail = await simpleParser(sink.byRecipient().get('cy@example.com')?.[0]?.raw ?? '');
  const stories = report.edition.stories.length;
  expect(stories).toBe(12);
  expect((mail.text ?? '').match(/TL;DR: /g)?.length).toBe(stories - 1);
  expect(String(mail.html).match(/<strong>TL;DR:<\/strong>/g)?.length).toBe(stories - 1);
  expect(String(mail.html).match(/<h[23] id="story-/g)?.length).toBe(stories);
  expect(mail.text).not.toMatch(/more stor(y|ies) and the full analysis/);
});
