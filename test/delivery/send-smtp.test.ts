// End to end: the weekly job against a real SMTP server on loopback, every message read back with a
// real MIME parser.
import { type ParsedMail, simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { greetingName } from '../../src/audience/first-name.ts';
import { findList } from '../../src/audience/lists.ts';
import { createSegment } from '../../src/audience/segments.ts';
import { verifyToken } from '../../src/audience/tokens.ts';
import { enqueueDeliveries } from '../../src/delivery/enqueue.ts';
import { sendTransactional } from '../../src/delivery/transactional.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { runWeeklyRecap, type WeeklyReport } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { testIo } from '../helpers/send.ts';
import { addSubscriber, suppress } from '../helpers/audience.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { type SmtpSink, TEST_CA, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let sink: SmtpSink;

async function setUp(reject?: (rcpt: string) => { code: number; message: string } | undefined) {
  sink = await startSmtpSink({ reject });
  ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_SEND_BATCH: '3' });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
}

afterEach(async () => {
  await sink.close();
  await ctx.close();
});

function send(options: { segment?: string } = {}): Promise<WeeklyReport> {
  return runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48', ...options });
}

/** The raw header lines with this name (mailparser folds List-* headers together). */
function rawHeaders(raw: string, name: string): string[] {
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  return head.split(/\r?\n/).filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
}

describe('digest send over SMTP', () => {
  const eligible = {
    'ada@example.com': { name: 'Ada', topics: ['compute', 'data-center'] },
    'chidi@example.org': { name: 'Chidi', topics: ['policy'] },
    'full@example.net': { name: 'Full Edition Reader', topics: [] },
    'unknown-topic@example.net': { name: 'Niche', topics: ['quantum'] },
    'mixed@example.com': { name: undefined, topics: ['safety', 'policy'] },
  } as const;

  beforeEach(async () => {
    await setUp();
    for (const [email, who] of Object.entries(eligible)) await addSubscriber(ctx, email, { ...(who.name ? { name: who.name } : {}), topics: [...who.topics] });
    await addSubscriber(ctx, 'pending@example.com', { status: 'pending' });
    await addSubscriber(ctx, 'gone@example.com', { status: 'unsubscribed' });
    await addSubscriber(ctx, 'bounced@example.com', { status: 'bounced' });
    await addSubscriber(ctx, 'suppressed@example.com');
    await suppress(ctx, 'suppressed@example.com');
    const left = await addSubscriber(ctx, 'left-the-list@example.com');
    await ctx.db.updateTable('list_members').set({ status: 'unsubscribed' }).where('subscriber_id', '=', left).execute();
  });

  it('sends exactly one message to each eligible subscriber and none to anyone else', async () => {
    const report = await send();
    expect(report.kind).toBe('sent');
    const received = sink.byRecipient();
    expect([...received.keys()].sort()).toEqual(Object.keys(eligible).sort());
    for (const copies of received.values()) expect(copies).toHaveLength(1);
    if (report.kind !== 'sent') return;
    expect(report.outcome.submitted).toBe(5);
    expect(report.counts).toMatchObject({ submitted: 5, failed: 0, queued: 0 });
    expect(report.edition.row.status).toBe('sent');
  });

  it('writes every message as multipart/alternative with the bulk-mail headers and a unique Message-ID', async () => {
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    const ids = new Set<string>();
    for (const message of sink.messages) {
      const parsed: ParsedMail = await simpleParser(message.raw);
      // Its variant's subject: the headline of the story this copy leads with.
      expect(parsed.subject).toBe(/TOP STORY: ([\s\S]+?)\n=+/.exec(parsed.text ?? '')?.[1]?.replace(/\s+/g, ' ').trim());
      expect(parsed.from?.value[0]).toMatchObject({ address: 'recap@recap.test', name: 'Weekly AI Recap' });
      expect(parsed.replyTo?.value[0]?.address).toBe('recap@recap.test');
      expect(parsed.messageId).toMatch(/^<recap\.\d+\.\d+\.[\w-]{16}@recap\.test>$/);
      ids.add(parsed.messageId as string);

      // RFC 8058: one List-Unsubscribe header with an https URL and a mailto, plus the POST header.
      const unsubscribe = rawHeaders(message.raw, 'List-Unsubscribe');
      expect(unsubscribe).toHaveLength(1);
      expect(unsubscribe[0]).toMatch(/^List-Unsubscribe: <https:\/\/recap\.test\/unsubscribe\/[\w-]+\.[\w-]+>, <mailto:unsubscribe@recap\.test\?subject=unsubscribe%20[\w.-]+>$/);
      expect(rawHeaders(message.raw, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
      expect(rawHeaders(message.raw, 'List-Id')).toEqual(['List-ID: "Weekly AI Recap" <weekly-ai-recap.recap.test>']);

      // A real text part first, then the HTML: checked in the raw MIME, since mailparser would
      // invent a text part from the HTML.
      expect(message.raw).toMatch(/Content-Type: multipart\/alternative/i);
      const textAt = message.raw.search(/Content-Type: text\/plain/i);
      const htmlAt = message.raw.search(/Content-Type: text\/html/i);
      expect(textAt).toBeGreaterThan(0);
      expect(htmlAt).toBeGreaterThan(textAt);
      expect(parsed.text).toContain('TOP STORY:');
      expect(parsed.html).toContain('<html');
    }
    expect(ids.size).toBe(5);
  });

  it('gives each subscriber the variant for the topics they follow, with their own name and links', async () => {
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    const stories = report.edition.stories;
    const leadFor = (topics: string[]) => (stories.find((s) => s.topics.some((t) => topics.includes(t))) ?? stories[0])?.title as string;
    const rows = await ctx.db.selectFrom('subscribers').select(['id', 'email']).execute();
    const idOf = new Map(rows.map((r) => [r.email, r.id]));

    for (const [email, who] of Object.entries(eligible)) {
      const [message] = sink.byRecipient().get(email) ?? [];
      const parsed = await simpleParser(message?.raw ?? '');
      const text = (parsed.text ?? '').replace(/\s+/g, ' ');
      expect(text).toContain(`TOP STORY: ${leadFor([...who.topics])}`);
      expect(text).toContain(`Hi ${greetingName({ firstName: null, name: who.name ?? null })},`);
      expect(text).toContain(`because ${email} subscribed`);
      // Every link is signed for this subscriber and this purpose only.
      const token = /\/unsubscribe\/([\w.-]+)/.exec(parsed.html || '')?.[1] as string;
      expect(verifyToken(TEST_SECRET, token, 'unsubscribe', ctx.clock.now())?.subscriberId).toBe(idOf.get(email));
      expect(verifyToken(TEST_SECRET, token, 'confirm', ctx.clock.now())).toBeNull();
    }
    // Readers whose topics the edition lacks get the full edition, like readers with no topics.
    const deliveries = await ctx.db
      .selectFrom('deliveries as d')
      .innerJoin('variants as v', 'v.id', 'd.variant_id')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['s.email', 'v.topics_key'])
      .execute();
    const keyOf = new Map(deliveries.map((d) => [d.email, d.topics_key]));
    expect(keyOf.get('full@example.net')).toBe('');
    expect(keyOf.get('unknown-topic@example.net')).toBe('');
    expect(keyOf.get('mixed@example.com')).toBe('policy,safety');
    expect(keyOf.get('ada@example.com')).toBe('compute,data-center');
    const variants = await ctx.db.selectFrom('variants').select('topics_key').execute();
    expect(variants.map((v) => v.topics_key).sort()).toEqual(['', 'compute,data-center', 'policy', 'policy,safety']);
  });

  it('submits nothing new when the edition is sent again', async () => {
    await send();
    const second = await send();
    expect(sink.messages).toHaveLength(5);
    if (second.kind !== 'sent') throw new Error(second.kind);
    expect(second.enqueued).toBe(0);
    expect(second.outcome).toMatchObject({ submitted: 0, failed: 0, skipped: 0 });
    const rows = await ctx.db.selectFrom('deliveries').select('id').execute();
    expect(rows).toHaveLength(5);
  });

  it('records the server reply for each submitted delivery', async () => {
    await send();
    const rows = await ctx.db.selectFrom('deliveries').selectAll().execute();
    for (const row of rows) {
      expect(row.status).toBe('submitted');
      expect(row.smtp_response).toMatch(/^250 .*Queued as test/);
      expect(row.message_id).toMatch(/@recap\.test>$/);
      expect(row.attempts).toBe(1);
      expect(row.submitted_at).not.toBeNull();
    }
  });

  it('sends to a segment only, and later to the rest without repeating anyone', async () => {
    await createSegment(ctx.db, { name: 'policy-readers', listId: ctx.listId, rules: { topics: ['policy'] } }, ctx.clock.now());
    await send({ segment: 'policy-readers' });
    expect([...sink.byRecipient().keys()].sort()).toEqual(['chidi@example.org', 'mixed@example.com']);
    await send();
    const received = sink.byRecipient();
    expect([...received.keys()].sort()).toEqual(Object.keys(eligible).sort());
    for (const copies of received.values()) expect(copies).toHaveLength(1);
  });

  it('skips a queued delivery whose subscriber unsubscribed before it went out', async () => {
    // Queue everything, then unsubscribe one reader before the send loop reaches them.
    const planned = await ensureEdition(ctx.db, await findList(ctx.db, 'weekly-ai-recap'), {
      week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true,
    });
    if (!planned.ok) throw new Error(planned.reason);
    await enqueueDeliveries(ctx.db, planned.edition, undefined, ctx.clock.now(), ctx.config);
    await ctx.db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('email', '=', 'chidi@example.org').execute();
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(sink.byRecipient().has('chidi@example.org')).toBe(false);
    expect(report.counts).toMatchObject({ submitted: 4, skipped: 1 });
    const row = await ctx.db
      .selectFrom('deliveries as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['d.status', 'd.error'])
      .where('s.email', '=', 'chidi@example.org')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'skipped', error: 'subscriber is unsubscribed' });
  });
});

describe('digest send when the server refuses a recipient', () => {
  beforeEach(async () => {
    await setUp((rcpt) => (rcpt === 'nobody@example.com' ? { code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown' } : undefined));
    await addSubscriber(ctx, 'ada@example.com', { topics: ['compute'] });
    await addSubscriber(ctx, 'nobody@example.com');
    await addSubscriber(ctx, 'zed@example.com');
  });

  it('records the failure with the server’s error and still sends to everyone else', async () => {
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect([...sink.byRecipient().keys()].sort()).toEqual(['ada@example.com', 'zed@example.com']);
    expect(report.counts).toMatchObject({ submitted: 2, failed: 1, queued: 0 });
    const failed = await ctx.db
      .selectFrom('deliveries as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['d.status', 'd.error', 'd.smtp_response'])
      .where('s.email', '=', 'nobody@example.com')
      .executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/550.*User unknown/);
    expect(failed.smtp_response).toBeNull();
  });
});

describe('through a relay that wants STARTTLS and a login', () => {
  beforeEach(async () => {
    sink = await startSmtpSink({ tls: 'starttls', login: (user, pass) => user === 'recap' && pass === 'p@ss word' });
    ctx = await createTestContext({ SMTP_URL: `smtp://recap:${encodeURIComponent('p@ss word')}@127.0.0.1:${sink.port}`, SMTP_TLS_CA: TEST_CA, SMTP_POOL_SIZE: '2' });
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    for (const email of ['ada@example.com', 'chidi@example.org', 'zed@example.net']) await addSubscriber(ctx, email);
  });

  it('sends the edition over TLS after logging in, once per connection', async () => {
    const report = await send();
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.counts).toMatchObject({ submitted: 3, failed: 0, queued: 0 });
    expect([...sink.byRecipient().keys()].sort()).toEqual(['ada@example.com', 'chidi@example.org', 'zed@example.net']);
    expect(sink.logins.length).toBeGreaterThanOrEqual(1);
    expect(sink.logins.length).toBeLessThanOrEqual(2);
    for (const login of sink.logins) expect(login).toEqual({ method: 'PLAIN', user: 'recap', secure: true });
  });

  it('sends a message nodemailer composes (a confirmation) through the same client', async () => {
    const transport = createTransport(ctx.config);
    try {
      const submission = await sendTransactional(transport, ctx.config, { email: 'ada@example.com', name: 'Ada' }, { subject: 'Confirm your subscription', text: 'Please confirm.\n.\nA line with a dot.', html: '<p>Please confirm.</p>' }, ctx.clock.now());
      expect(submission.response).toMatch(/^250 /);
    } finally {
      await transport.close();
    }
    const [message] = sink.byRecipient().get('ada@example.com') ?? [];
    const parsed = await simpleParser(message?.raw ?? '');
    expect(parsed.subject).toBe('Confirm your subscription');
    expect(parsed.text).toContain('Please confirm.\n.\nA line with a dot.');
    expect(sink.commands.filter((c) => c.startsWith('MAIL FROM:'))).toEqual([expect.stringMatching(/^MAIL FROM:<recap@recap\.test>/)]);
  });
});
