// What the database costs a send, measured (not a test): how long one batch's claim query takes
// with many deliveries queued, and a whole send through a transport that accepts every message at
// once, so what is left is the send loop's own work (compose, claim, hand-over, outcome writes).
//   npx tsx scripts/measure-send-db.ts [queued=100000] [sent=20000]   (0 skips a part)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../db/migrations/0001_initial.ts';
import { importArticles } from '../src/articles/import.ts';
import { hashEmail } from '../src/audience/email.ts';
import { findList } from '../src/audience/lists.ts';
import { loadConfig } from '../src/config.ts';
import type { Context } from '../src/context.ts';
import { claimDue } from '../src/delivery/claim.ts';
import { enqueueDeliveries } from '../src/delivery/enqueue.ts';
import type { Transport } from '../src/delivery/transport.ts';
import { ensureEdition } from '../src/editions/editions.ts';
import { runWeeklyRecap } from '../src/recap.ts';

const WEEK = '2026-W48';
const NOW = new Date('2026-11-30T08:00:00Z');
const queued = Number(process.argv[2] ?? 100_000);
const sent = Number(process.argv[3] ?? 20_000);

async function withAudience<T>(count: number, work: (ctx: Context) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'recap-measure-'));
  const config = loadConfig({
    DATABASE_URL: join(dir, 'recap.db'), BASE_URL: 'https://recap.test', MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>',
    RECAP_SECRET: 'measure-secret-0123456789abcdef0123456789abcdef', RECAP_RATE: '0',
  });
  const db = openDb(config.databaseUrl);
  try {
    await migrateToLatest(db);
    await importArticles(db, readFileSync(join(import.meta.dirname, '../data/sample/articles.json'), 'utf8'), { now: NOW });
    const list = await findList(db, WEEKLY_AI_RECAP.slug);
    const at = '2026-11-01T09:00:00.000Z';
    await db.transaction().execute(async (trx) => {
      for (let start = 0; start < count; start += 500) {
        const chunk = [];
        for (let i = start; i < Math.min(count, start + 500); i++) {
          const email = `reader-${i}@example.com`;
          chunk.push({
            email, email_hash: hashEmail(email), name: `Reader ${i}`, status: 'active' as const, created_at: at, updated_at: at, consent_at: at,
            consent_source: 'measure', consent_ip: null, consent_user_agent: null, confirmed_at: at, paused_at: null, confirm_requested_at: null,
          });
        }
        const ids = (await trx.insertInto('subscribers').values(chunk).returning('id').execute()).map((r) => r.id);
        await trx.insertInto('list_members').values(ids.map((id) => ({ list_id: list.id, subscriber_id: id, status: 'active' as const, created_at: at, updated_at: at }))).execute();
        const topics = ids.filter((_, k) => (start + k) % 3 === 0).map((id) => ({ subscriber_id: id, topic: 'compute' }));
        if (topics.length > 0) await trx.insertInto('subscriber_topics').values(topics).execute();
      }
    });
    return await work({ db, config, clock: { now: () => new Date(NOW) } });
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

// 1. The claim query of one batch, with `queued` deliveries queued and a few deferred ones due.
if (queued > 0) await withAudience(queued, async (ctx) => {
  const list = await findList(ctx.db, WEEKLY_AI_RECAP.slug);
  const planned = await ensureEdition(ctx.db, list, { week: WEEK, timeZone: ctx.config.timeZone, rules: { maxStories: ctx.config.maxStories, maxPerTopic: ctx.config.maxPerTopic, minStories: ctx.config.minStories }, now: NOW, persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  const editionId = planned.edition.row.id;
  await enqueueDeliveries(ctx.db, planned.edition, undefined, NOW, ctx.config);
  await ctx.db.updateTable('deliveries').set({ status: 'deferred', next_attempt_at: '2026-11-30T07:00:00.000Z' }).where(sql<boolean>`id % 1000 = 0`).execute();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    await claimDue(ctx.db, editionId, ctx.config.sendBatchSize, NOW.toISOString(), `measure-${i}`);
    times.push(performance.now() - started);
  }
  console.log(`claim query, ${queued} queued (${Math.floor(queued / 1000)} of them deferred and due), batch ${ctx.config.sendBatchSize}: median ${median(times).toFixed(2)} ms`);
});

// 2. A whole send of `sent` subscribers to a transport that accepts at once.
if (sent > 0) await withAudience(sent, async (ctx) => {
  const accept: Transport = { target: 'null', submit: async () => ({ response: '250 ok' }), close: async () => {} };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const report = await runWeeklyRecap(ctx, { transport: () => accept, secret: 'measure-secret-0123456789abcdef0123456789abcdef', sleep: async () => {}, log: () => {} }, { week: WEEK });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (report.kind !== 'sent') throw new Error(report.kind);
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`send of ${sent} to a null transport: ${report.outcome.submitted} submitted in ${(ms / 1000).toFixed(1)} s, ${((ms * 1000) / sent).toFixed(0)} µs per message (CPU ${((used.user + used.system) / sent).toFixed(0)} µs); peak RSS ${rss.toFixed(0)} MB`);
});
