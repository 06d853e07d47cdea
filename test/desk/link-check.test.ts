// A link check in progress is known to every `recap serve` on the database (a lease): a second
// process opening the same draft asks no host again while the first one's check runs.
import { afterEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { findList } from '../../src/audience/lists.ts';
import { editionUrls, linkChecker, type Probe } from '../../src/desk/link-check.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';

let ctx: TestContext;
afterEach(async () => {
  await ctx.close();
});

it('checks an edition in one process at a time, and again once that check is over', async () => {
  ctx = await createTestContext();
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  const list = await findList(ctx.db, 'weekly-ai-recap');
  const planned = await ensureEdition(ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  const edition = planned.edition;
  const urls = editionUrls(edition);

  // The first process's probe answers only when the test lets it.
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const asked = { first: [] as string[], second: [] as string[] };
  const answer = (who: keyof typeof asked, wait?: Promise<void>) => async (url: string): Promise<Probe> => {
    asked[who].push(url);
    await wait;
    return { status: 200, error: null };
  };
  const logs: string[] = [];
  const deps = { db: ctx.db, clock: ctx.clock, log: (l: string) => logs.push(l), timeoutMs: 1000 };
  const first = linkChecker({ ...deps, probe: answer('first', held) });
  const second = linkChecker({ ...deps, probe: answer('second') });

  first.start(edition);
  while (asked.first.length === 0) await new Promise((r) => setTimeout(r, 10));
  second.start(edition);
  await second.idle();
  expect(asked.second).toEqual([]);
  const lease = await ctx.db.selectFrom('leases').select(['name', 'expires_at']).executeTakeFirstOrThrow();
  // As long as the check can take: 3 rounds of 4 URLs, HEAD and GET each up to the timeout, and a minute.
  expect(lease).toEqual({ name: `link-check:edition:${edition.row.id}`, expires_at: new Date(ctx.clock.now().getTime() + Math.ceil(urls.length / 4) * 2000 + 60_000).toISOString() });

  release();
  await first.idle();
  expect([...asked.first].sort()).toEqual([...urls].sort());
  expect(await ctx.db.selectFrom('link_checks').select('url').execute()).toHaveLength(urls.length);
  expect(await ctx.db.selectFrom('leases').select('name').execute()).toEqual([]);

  second.start(edition);
  await second.idle();
  expect([...asked.second].sort()).toEqual([...urls].sort());
  expect(logs).toEqual([]);
});
