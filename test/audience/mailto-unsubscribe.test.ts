// The mailto half of List-Unsubscribe is honoured: a reader's client mails
// "unsubscribe <token>" to LIST_UNSUBSCRIBE_MAILTO, and importing that mailbox unsubscribes them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { importBounceFiles } from '../../src/audience/bounce-import.ts';
import { subscriberLinks } from '../../src/audience/tokens.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx.close();
});

it('unsubscribes the reader whose mail client used the mailto, and nobody on a forged token', async () => {
  ctx = await createTestContext();
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  await addSubscriber(ctx, 'leaver@example.com');
  await addSubscriber(ctx, 'stayer@example.com');
  await runWeeklyRecap(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir)), { week: '2026-W48' });
  const dir = join(ctx.config.outboxDir, '2026-W48');
  const eml = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).find((m) => m.includes('To: leaver@example.com')) as string;
  const header = (/^List-Unsubscribe:((?:.*)(?:\r\n[ \t].*)*)/m.exec(eml)?.[1] ?? '').replace(/\r\n\s+/g, ' ');
  const mailto = /<mailto:([^?>]+)\?subject=([^>]+)>/.exec(header);
  expect(mailto?.[1]).toBe('unsubscribe@recap.test');
  const subject = decodeURIComponent(mailto?.[2] ?? '');
  const request = (s: string) => `From: leaver@example.com\r\nTo: unsubscribe@recap.test\r\nSubject: ${s}\r\nMessage-ID: <req-1@example.com>\r\n\r\n\r\n`;
  const forged = subject.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  const report = await importBounceFiles(ctx.db, ctx.config, TEST_SECRET, [{ name: 'ok.eml', content: request(subject) }, { name: 'forged.eml', content: request(forged) }], ctx.clock.now());
  expect(report.unsubscribed).toBe(1);
  expect(report.skipped).toEqual([{ where: 'forged.eml', why: 'an unsubscribe request whose token is not valid' }]);
  const status = await ctx.db.selectFrom('subscribers').select(['email', 'status']).orderBy('email').execute();
  expect(status).toEqual([{ email: 'leaver@example.com', status: 'unsubscribed' }, { email: 'stayer@example.com', status: 'active' }]);
  const event = await ctx.db.selectFrom('events').select('data').where('type', '=', 'unsubscribed').executeTakeFirstOrThrow();
  expect(JSON.parse(event.data ?? '{}')).toMatchObject({ via: 'mailto' });
});

it('refuses a correctly signed request for a list that does not exist or that the reader is not a member of, changing nothing', async () => {
  ctx = await createTestContext();
  const id = await addSubscriber(ctx, 'member@example.com');
  const other = await ctx.db.insertInto('lists').values({ slug: 'other', name: 'Other', created_at: ctx.clock.now().toISOString() }).returning('id').executeTakeFirstOrThrow();
  const request = (listId: number) => {
    const token = new URL(subscriberLinks('https://recap.test', TEST_SECRET, id, listId).unsubscribeUrl).pathname.split('/').pop() as string;
    return { name: `list-${listId}.eml`, content: `From: member@example.com\r\nTo: unsubscribe@recap.test\r\nSubject: unsubscribe ${token}\r\nMessage-ID: <req-${listId}@example.com>\r\n\r\n\r\n` };
  };
  const report = await importBounceFiles(ctx.db, ctx.config, TEST_SECRET, [request(999), request(other.id)], ctx.clock.now());
  expect(report.unsubscribed).toBe(0);
  expect(report.skipped).toEqual([
    { where: 'list-999.eml', why: `an unsubscribe request for list 999, which subscriber ${id} is not a member of` },
    { where: `list-${other.id}.eml`, why: `an unsubscribe request for list ${other.id}, which subscriber ${id} is not a member of` },
  ]);
  expect(await ctx.db.selectFrom('subscribers').select('status').where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: 'active' });
  expect(await ctx.db.selectFrom('list_members').select(['list_id', 'status']).where('subscriber_id', '=', id).execute()).toEqual([{ list_id: ctx.listId, status: 'active' }]);
  expect(await ctx.db.selectFrom('events').select('id').where('type', '=', 'unsubscribed').execute()).toEqual([]);
});
