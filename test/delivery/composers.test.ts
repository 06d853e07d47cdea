// Composing in worker threads gives the very messages the main thread would (signed too), keeps only a
// few templates however many variants come by, and a send large enough to use the workers gets
// every reader exactly one message.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSubscribers, insertSubscribers, topicsByPopularity } from '../../bench/population.ts';
import { importArticles } from '../../src/articles/import.ts';
import { greetingName } from '../../src/audience/first-name.ts';
import { verifyToken } from '../../src/audience/tokens.ts';
import { type ComposeJob, type Composer, inlineComposer, type SendContext, type VariantSource, workerComposer } from '../../src/delivery/composers.ts';
import { dkimTxtValue, generateDkimKey } from '../../src/delivery/dkim.ts';
import { enqueueDeliveries } from '../../src/delivery/enqueue.ts';
import { WORKERS_FROM } from '../../src/delivery/send.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { editionTopics, ensureEdition } from '../../src/editions/editions.ts';
import { variantKey } from '../../src/render/arrange.ts';
import { newNonce, placeholders } from '../../src/render/personalize.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { findList } from '../../src/audience/lists.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { createTestContext, TEST_SECRET, tempDir, testConfig, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let key: ReturnType<typeof generateDkimKey>;
beforeAll(() => {
  key = generateDkimKey(2048);
});

/** Variants whose bodies name their keys; the jobs below use 24 (more than two threads keep templates of). */
function variants(): { source: VariantSource; asked: string[] } {
  const asked: string[] = [];
  const nonce = newNonce();
  const p = placeholders(nonce);
  return {
    asked,
    source: async (k) => {
      asked.push(k);
      return {
        placeholder_nonce: nonce,
        subject: `Zoë’s pick for ${k}`,
        text: `Hi ${p.name}, variant ${k}.\n${'The week in AI. '.repeat(200)}\nUnsubscribe: ${p.unsubscribe_url}\n`,
        html: `<p>Hi ${p.name},</p><p>variant ${k}</p>${'<p>Story — Zoë’s pick.</p>'.repeat(300)}<a href="${p.unsubscribe_url}">Unsubscribe</a> <a href="${p.preferences_url}">Preferences</a>`,
      };
    },
  };
}

function context(env: Record<string, string> = {}): SendContext {
  return { config: testConfig(tempDir('recap-compose-'), env), secret: TEST_SECRET, editionId: 7, listId: 1, listSlug: 'weekly-ai-recap', listName: 'Weekly AI Recap' };
}

/** Boundaries are picked at random per template, and the signature covers them: the rest must be the same. */
const comparable = (raw: Buffer | undefined) =>
  (raw ?? Buffer.alloc(0)).toString('utf8').replace(/^DKIM-Signature:.*(?:\r\n[ \t].*)*\r\n/, 'DKIM\r\n').replace(/--_NmP-[0-9a-f]+-Part_1/g, 'BOUNDARY');

const NAMES = ['Ada', null, 'Zoë  "the"\tMüller 😀', '   ', 'Mallory <m@evil.test>', 'x'.repeat(100)];
const jobs = (n: number): ComposeJob[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${Math.floor(i / 2) % 24}`, deliveryId: i + 1, subscriberId: 100 + i, email: `reader${i}@example.com`, name: NAMES[i % NAMES.length] ?? null, firstName: i % 4 === 1 ? 'Chidi' : null, date: Date.parse('2026-11-30T08:00:00Z') + i * 1000 }));

describe('composing in worker threads', () => {
  let composers: Composer[] = [];
  afterEach(async () => {
    await Promise.all(composers.map((c) => c.close()));
    composers = [];
  });

  for (const signed of [false, true]) {
    it(`gives the main thread's messages byte for byte (boundaries apart)${signed ? ', signed so they verify' : ''}, across more variants than a thread keeps`, async () => {
      const ctx = context(signed ? { DKIM_DOMAIN: 'recap.test', DKIM_SELECTOR: 'recap2026', DKIM_PRIVATE_KEY: key.privateKeyPem } : {});
      const inline = inlineComposer(ctx, variants().source);
      const fromWorkers = variants();
      const threads = workerComposer(ctx, fromWorkers.source, 2);
      composers.push(inline, threads);
      const all = jobs(120);
      const a = await Promise.all(all.map((j) => inline.compose(j)));
      // Twice over: by the second round each thread has let some templates go and asks again.
      await Promise.all(all.map((j) => threads.compose(j)));
      const firstRound = fromWorkers.asked.length;
      const b = await Promise.all(all.map((j) => threads.compose(j)));
      for (const [i, m] of a.entries()) {
        expect(b[i]?.messageId).toBe(m.messageId);
        expect(comparable(b[i]?.raw), `message ${i}`).toBe(comparable(m.raw));
      }
      // Each message has its own variant's subject, in the threads too.
      for (const [i, m] of b.entries()) expect((await simpleParser(m.raw)).subject, `message ${i}`).toBe(`Zoë’s pick for ${all[i]?.key}`);
      if (signed) {
        for (const m of [...a, ...b].filter((_, i) => i % 10 === 0)) {
          const verdict = await dkimVerify(m.raw, { resolver: async (name: string) => (name === 'recap2026._domainkey.recap.test' ? [[...dkimTxtValue(key.publicKeyBase64).matchAll(/"([^"]*)"/g)].map((q) => q[1] as string)] : []) });
          expect(verdict.results[0]?.status.result).toBe('pass');
        }
      }
      // A variant's jobs go to one thread, which asks for its body once however many jobs wait for
      // it; a thread keeps eight templates, so over 24 variants it asks again for those it let go.
      expect(new Set(fromWorkers.asked).size).toBe(24);
      expect(firstRound).toBe(24);
      expect(fromWorkers.asked.length).toBeGreaterThan(firstRound);
    });
  }

  it('lets another thread help with a long run of one variant, each building its template once', async () => {
    const fromWorkers = variants();
    const threads = workerComposer(context(), fromWorkers.source, 2);
    composers.push(threads);
    const run = jobs(120).map((j) => ({ ...j, key: 'k0' }));
    const messages = await Promise.all(run.map((j) => threads.compose(j)));
    expect(messages.map((m) => m.messageId)).toHaveLength(120);
    expect(fromWorkers.asked).toEqual(['k0', 'k0']);
  });

  it('fails the messages whose variant cannot be had, and goes on with the others', async () => {
    const good = variants().source;
    const threads = workerComposer(context(), async (k) => (k === 'k7' ? Promise.reject(new Error('variant k7 is gone')) : good(k)), 2);
    composers.push(threads);
    const results = await Promise.allSettled(jobs(24).map((j) => threads.compose(j)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed.length).toBeGreaterThan(0);
    for (const i of failed) expect(jobs(24)[i]?.key).toBe('k7');
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/variant k7 is gone/);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(24 - failed.length);
  });
});

describe('a send large enough for the workers', () => {
  let ctx: TestContext;
  let sink: SmtpSink;
  afterEach(async () => {
    await sink.close();
    await ctx.close();
  });

  it('queues readers grouped by variant and sends each one message, composed in threads', { timeout: 120_000 }, async () => {
    sink = await startSmtpSink();
    ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_WORKERS: '2', RECAP_RATE: '0', SMTP_POOL_SIZE: '4', RECAP_SEND_BATCH: '200' });
    const articles = sampleArticles();
    await importArticles(ctx.db, JSON.stringify(articles), { now: ctx.clock.now() });
    const count = WORKERS_FROM + 200;
    const people = [...generateSubscribers(count, topicsByPopularity(articles.map((a) => ({ url: a.url, score: a.score ?? 0, topics: a.topics ?? [] }))))];
    await insertSubscribers(ctx.db, ctx.listId, people, ctx.clock.now());
    const list = await findList(ctx.db, 'weekly-ai-recap');
    const planned = await ensureEdition(ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    if (!planned.ok) throw new Error(planned.reason);
    expect(await enqueueDeliveries(ctx.db, planned.edition, undefined, ctx.clock.now(), ctx.config)).toBe(count);

    // Walking the rows in id order, each variant comes as one run.
    const topics = editionTopics(planned.edition);
    const byId = new Map(people.map((p) => [p.email, variantKey(p.topics, topics)]));
    const rows = await ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['s.email']).orderBy('d.id').execute();
    const runs = rows.map((r) => byId.get(r.email)).filter((k, i, all) => i === 0 || k !== all[i - 1]);
    expect(new Set(runs).size).toBeGreaterThan(5);
    expect(runs).toHaveLength(new Set(runs).size);

    const report = await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.counts).toMatchObject({ submitted: count, queued: 0, claimed: 0, uncertain: 0 });
    const received = sink.byRecipient();
    expect(received.size).toBe(count);
    for (const copies of received.values()) expect(copies).toHaveLength(1);
    // Each message is the reader's own: their name, and links that open their own membership.
    for (const person of people.filter((_, i) => i % 97 === 0)) {
      const mail = await simpleParser((received.get(person.email) as Array<{ raw: string }>)[0]?.raw ?? '');
      expect(mail.text).toContain(`Hi ${greetingName({ firstName: null, name: person.name ?? null })},`);
      const token = /\/unsubscribe\/([\w.-]+)/.exec(mail.text ?? '')?.[1] ?? '';
      expect(verifyToken(TEST_SECRET, token, 'unsubscribe', ctx.clock.now())).toMatchObject({ subscriberId: person.id, listId: ctx.listId });
    }
  });
});
