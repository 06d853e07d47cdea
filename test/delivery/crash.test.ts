// Crash safety of `recap digest send`: the real CLI, in a child process, sends a few thousand
// messages to a real SMTP server on loopback and is killed with SIGKILL at random points, then
// restarted each time. In the end nobody got two copies beyond the reported uncertain deliveries,
// and nobody was lost.
//
// The kill points come from a seeded generator; the seed is logged, and CRASH_SEED=<n> replays it.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/population.ts';
import { type Db, openDb } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { WEEKLY_AI_RECAP } from '../../db/migrations/0001_initial.ts';
import type { DeliveryStatus } from '../../db/schema.ts';
import { importArticles } from '../../src/articles/import.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { findList } from '../../src/audience/lists.ts';
import { loadConfig } from '../../src/config.ts';
import { deliveryMessageId } from '../../src/delivery/composers.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { RECAP_BIN } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { onPostgres } from '../helpers/database.ts';
import { freshDatabase } from '../helpers/database.ts';
import { type ReceivedMessage, type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

const WEEK = '2026-W48';
const BATCH = 25;
const POOL = 4;
const DOMAINS = ['example.com', 'example.org', 'example.net'];
const MAIL_FROM = '"Weekly AI Recap" <recap@recap.test>';

interface Setup {
  dir: string;
  databaseUrl: string;
  /** Kept open for reads only; the children write (SQLite WAL lets both work). */
  db: Db;
  emails: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** A migrated database with the sample week and `count` active, confirmed list members. */
async function setUp(count: number): Promise<Setup> {
  const dir = tempDir('recap-crash-');
  const database = await freshDatabase(dir, { migrated: true });
  const db = openDb(database.url);
  cleanups.push(async () => {
    await db.destroy();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  await migrateToLatest(db);
  const at = '2026-11-01T09:00:00.000Z';
  await importArticles(db, JSON.stringify(sampleArticles()), { now: new Date('2026-11-30T08:00:00Z') });
  const list = await findList(db, WEEKLY_AI_RECAP.slug);
  const emails: string[] = [];
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < count; start += 250) {
      const chunk = [];
      for (let i = start; i < Math.min(count, start + 250); i++) {
        const email = `reader-${String(i).padStart(5, '0')}@${DOMAINS[i % DOMAINS.length]}`;
        emails.push(email);
        chunk.push({
          email, email_hash: hashEmail(email), name: i % 4 === 0 ? null : `Reader ${i}`, status: 'active' as const,
          created_at: at, updated_at: at, consent_at: at, consent_source: 'crash-test', consent_ip: null, consent_user_agent: null,
          confirmed_at: at, paused_at: null, confirm_requested_at: null,
        });
      }
      const ids = (await trx.insertInto('subscribers').values(chunk).returning('id').execute()).map((r) => r.id);
      await trx
        .insertInto('list_members')
        .values(ids.map((id) => ({ list_id: list.id, subscriber_id: id, status: 'active' as const, created_at: at, updated_at: at })))
        .execute();
      // Several variants: some follow compute, some policy, some safety, some two of them, most none.
      const topics = ids.flatMap((id, k) => {
        const i = start + k;
        return [...(i % 3 === 0 ? ['compute'] : []), ...(i % 5 === 0 ? ['policy'] : []), ...(i % 7 === 0 ? ['safety'] : [])].map((topic) => ({ subscriber_id: id, topic }));
      });
      if (topics.length > 0) await trx.insertInto('subscriber_topics').values(topics).execute();
    }
  });
  return { dir, databaseUrl: database.url, db, emails };
}

interface SenderRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Messages the sink received while this child ran. */
  received: number;
  /** True when the fallback timer, not the message count, triggered the kill. */
  timedOut: boolean;
}

/**
 * Runs `recap digest send` in a child. With `killAfter`, kills it with SIGKILL once the sink has
 * received that many more messages, or once the given check says so (checked every millisecond, so
 * the kill lands at a random spot of the child's work); without, lets it finish. Resolves once the
 * child is gone and reaped.
 */
function runSender(s: Setup, sink: SmtpSink, extraEnv: Record<string, string>, killAfter?: number | (() => boolean), timeoutMs = 30_000): Promise<SenderRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NO_COLOR: '1',
    DATABASE_URL: s.databaseUrl,
    SMTP_URL: sink.url,
    RECAP_SECRET: TEST_SECRET,
    RECAP_RATE: '0',
    RECAP_SEND_BATCH: String(BATCH),
    SMTP_POOL_SIZE: String(POOL),
    BASE_URL: 'https://recap.test',
    MAIL_FROM,
    ...extraEnv,
  };
  const startCount = sink.messages.length;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RECAP_BIN, 'digest', 'send', '--week', WEEK], { cwd: s.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll =
      killAfter === undefined
        ? undefined
        : setInterval(() => {
            if (typeof killAfter === 'function' ? killAfter() : sink.messages.length - startCount >= killAfter) child.kill('SIGKILL');
          }, 1);
    const fallback = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    // 'close' comes after 'exit': the child is reaped, so its pid reads as dead to the next sender's lease check.
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      clearTimeout(fallback);
      resolve({ code, signal, stdout, stderr, received: sink.messages.length - startCount, timedOut });
    });
  });
}

async function statusCounts(db: Db): Promise<Record<DeliveryStatus, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  const counts: Record<DeliveryStatus, number> = { queued: 0, claimed: 0, submitted: 0, deferred: 0, failed: 0, skipped: 0, uncertain: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

interface KillReport {
  kills: number;
  /**
   * Rows each killed child had handed to the server without recording the reply: they become
   * uncertain (or are re-sent) on the next start. Rows it had only claimed go back to the queue.
   */
  claimedAtKill: number[];
  runs: SenderRun[];
}

/**
 * Starts the sender `kills` times, killing each one mid-send after a random number of messages.
 * The kill points are spread so that each child still has work left when it dies.
 */
async function killRepeatedly(s: Setup, sink: SmtpSink, kills: number, range: [number, number], random: () => number, extraEnv: Record<string, string> = {}): Promise<KillReport> {
  const report: KillReport = { kills: 0, claimedAtKill: [], runs: [] };
  for (let k = 0; k < kills; k++) {
    const counts = await statusCounts(s.db);
    const remaining = s.emails.length - counts.submitted - counts.uncertain - counts.claimed;
    const wanted = range[0] + Math.floor(random() * (range[1] - range[0] + 1));
    const killAfter = Math.max(1, Math.min(wanted, Math.floor(remaining / (kills - k + 1))));
    const run = await runSender(s, sink, extraEnv, killAfter);
    report.runs.push(run);
    // Each child must have died by the signal, mid-send: not finished, not failed on its own.
    expect(run.signal, `child ${k + 1} was not killed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`).toBe('SIGKILL');
    expect(run.timedOut, `child ${k + 1} sent only ${run.received} of ${killAfter} messages in time:\n${run.stderr}`).toBe(false);
    report.kills++;
    const after = await statusCounts(s.db);
    // A crash leaves at most the batch claimed. Of it, only the rows handed over whose outcome was
    // not yet written can be uncertain: outcomes are written in groups (see outcomes.ts), all of a
    // batch's before the next claim, so that is at most the batch, not only the messages in flight.
    expect(after.claimed).toBeLessThanOrEqual(BATCH);
    expect(after.queued + after.claimed).toBeGreaterThan(0);
    expect(after.deferred + after.failed + after.skipped).toBe(0);
    const handed = await handedOver(s.db);
    report.claimedAtKill.push(handed);
  }
  return report;
}

async function handedOver(db: Db): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'claimed')
    .where('claimed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

interface DeliveryView {
  id: number;
  email: string;
  status: DeliveryStatus;
  message_id: string | null;
}

async function deliveries(db: Db): Promise<DeliveryView[]> {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select(['d.id', 's.email', 'd.status', 'd.message_id'])
    .orderBy('d.id')
    .execute();
}

/** The Message-ID header of a raw message (unfolded). */
function messageIdOf(m: ReceivedMessage): string | undefined {
  const head = m.raw.slice(0, m.raw.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, ' ');
  return /^Message-ID:\s*(<[^>]+>)/im.exec(head)?.[1];
}

function copiesByRecipient(sink: SmtpSink): Map<string, ReceivedMessage[]> {
  for (const m of sink.messages) expect(m.to).toHaveLength(1);
  return sink.byRecipient();
}

function newSeed(): number {
  return process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
}

// Each test starts and kills a dozen senders; on a loaded 2-core machine one took over two minutes.
const CRASH_TEST_TIMEOUT = 300_000;

describe('digest send killed with SIGKILL and restarted', () => {
  it('loses nobody and sends nobody two copies; what may have gone out twice is reported uncertain', { timeout: CRASH_TEST_TIMEOUT }, async () => {
    const seed = newSeed();
    const random = seededRandom(seed);
    const s = await setUp(2500);
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const started = Date.now();

    const killed = await killRepeatedly(s, sink, 5, [150, 600], random);
    const claimedBeforeFinal = await handedOver(s.db);
    const final = await runSender(s, sink, {});
    const out = `exit ${final.code}\n${final.stdout}\n${final.stderr}`;
    expect(final.signal, out).toBeNull();
    expect([0, 1], out).toContain(final.code);

    const rows = await deliveries(s.db);
    const copies = copiesByRecipient(sink);
    const counts = await statusCounts(s.db);
    console.log(
      `crash test (seed ${seed}): ${killed.kills} kills after ${killed.runs.map((r) => r.received).join('/')} messages, ` +
        `claimed at each kill ${killed.claimedAtKill.join('/')}; ${counts.submitted} submitted, ${counts.uncertain} uncertain, ` +
        `${sink.messages.length} messages received for ${s.emails.length} subscribers; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // One delivery row per subscriber, each accounted for as submitted or uncertain.
    expect(rows).toHaveLength(s.emails.length);
    expect(new Set(rows.map((r) => r.email))).toEqual(new Set(s.emails));
    expect(counts).toEqual({ queued: 0, claimed: 0, submitted: counts.submitted, deferred: 0, failed: 0, skipped: 0, uncertain: counts.uncertain });
    expect(counts.submitted + counts.uncertain).toBe(s.emails.length);

    // Exactly the rows each killed child had claimed became uncertain: no more, at most a batch per kill.
    expect(counts.uncertain).toBe(killed.claimedAtKill.reduce((a, b) => a + b, 0));
    expect(counts.uncertain).toBeLessThanOrEqual(BATCH * killed.kills);

    // Nobody outside the audience got anything; nobody got two copies.
    const audience = new Set(s.emails);
    for (const to of copies.keys()) expect(audience.has(to), to).toBe(true);
    const doubles = [...copies].filter(([, list]) => list.length > 1).map(([to]) => to);
    expect(doubles).toEqual([]);

    // Submitted: exactly one copy, the one with the recorded Message-ID. Uncertain: at most one.
    // Either way a copy is that delivery's own (its Message-ID derives from the delivery's id).
    const edition = await s.db.selectFrom('editions').select(['id', 'status']).where('week', '=', WEEK).executeTakeFirstOrThrow();
    const config = loadConfig({ MAIL_FROM });
    const missing: DeliveryView[] = [];
    for (const row of rows) {
      const got = copies.get(row.email) ?? [];
      for (const m of got) expect(messageIdOf(m), row.email).toBe(deliveryMessageId(config, TEST_SECRET, edition.id, row.id));
      if (row.status === 'submitted') {
        expect(got, row.email).toHaveLength(1);
        expect(row.message_id).toBe(messageIdOf(got[0] as ReceivedMessage));
      } else {
        expect(row.status).toBe('uncertain');
        expect(got.length, row.email).toBeLessThanOrEqual(1);
      }
      if (got.length === 0) missing.push(row);
    }
    // Nobody skipped silently: whoever got nothing is reported uncertain.
    expect(missing.every((r) => r.status === 'uncertain')).toBe(true);
    expect(missing.length).toBeLessThanOrEqual(counts.uncertain);
    expect(sink.messages.length).toBe(counts.submitted + counts.uncertain - missing.length);

    // The final run says so, and the edition is done, with its lease released.
    if (claimedBeforeFinal > 0) expect(final.stdout).toContain(`Uncertain: ${claimedBeforeFinal} deliveries were in flight when an earlier run died`);
    if (counts.uncertain > 0) {
      expect(final.stdout).toMatch(new RegExp(`Edition total: ${counts.submitted} submitted, .*${counts.uncertain} uncertain`));
      expect(final.code, out).toBe(1);
    } else expect(final.code, out).toBe(0);
    expect(edition.status).toBe('sent');
    expect(await s.db.selectFrom('leases').selectAll().execute()).toEqual([]);
  });

  // On SQLite only: what differs from the first case is the transport's and the outcomes' work, the same
  // on both databases; the recovery after each kill is the first case's, which runs on both.
  it.skipIf(onPostgres)('with RECAP_RESEND_UNCERTAIN=true on the last run, re-sends what was uncertain, with the same Message-ID', { timeout: CRASH_TEST_TIMEOUT }, async () => {
    const seed = newSeed();
    const random = seededRandom(seed);
    const s = await setUp(800);
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());

    const killed = await killRepeatedly(s, sink, 3, [100, 250], random);
    // What may or may not have gone out: uncertain (marked by a later start) or still claimed (the last kill).
    const doubtful = await s.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select(['d.id', 's.email', 'd.status']).where((eb) => eb.or([eb('d.status', '=', 'uncertain'), eb.and([eb('d.status', '=', 'claimed'), eb('d.claimed_at', 'is not', null)])])).execute();
    const doubtfulEmails = new Set(doubtful.map((r) => r.email));
    const final = await runSender(s, sink, { RECAP_RESEND_UNCERTAIN: 'true' });
    const out = `exit ${final.code}\n${final.stdout}\n${final.stderr}`;
    expect(final.signal, out).toBeNull();

    const rows = await deliveries(s.db);
    const copies = copiesByRecipient(sink);
    const counts = await statusCounts(s.db);
    const resent = [...copies.values()].filter((list) => list.length > 1).length;
    console.log(
      `crash test, re-sending (seed ${seed}): ${killed.kills} kills, claimed at each kill ${killed.claimedAtKill.join('/')}; ` +
        `${doubtful.length} doubtful before the last run (${doubtful.filter((r) => r.status === 'uncertain').length} uncertain); ` +
        `after it ${counts.submitted} submitted, ${counts.uncertain} uncertain, ${resent} received twice, ${sink.messages.length} messages`,
    );

    expect(doubtful.length).toBe(killed.claimedAtKill.reduce((a, b) => a + b, 0));
    expect(rows).toHaveLength(s.emails.length);
    // Soft, so that the checks below still run when these fail: they name what was left behind.
    // Everything re-sent: nothing left uncertain (whichever earlier start marked it), nobody lost.
    const leftUncertain = rows.filter((r) => r.status === 'uncertain').map((r) => r.email);
    expect.soft(leftUncertain, 'deliveries still uncertain after a run with RECAP_RESEND_UNCERTAIN=true').toEqual([]);
    const lost = rows.filter((r) => !copies.has(r.email)).map((r) => r.email);
    expect.soft(lost, 'subscribers who received nothing').toEqual([]);
    expect.soft(counts).toEqual({ queued: 0, claimed: 0, submitted: s.emails.length, deferred: 0, failed: 0, skipped: 0, uncertain: 0 });
    expect.soft(final.code, out).toBe(0);
    const requeued = doubtful.length;
    if (requeued > 0) expect.soft(final.stdout).toContain(`Re-sent: ${requeued} uncertain deliveries`);

    const edition = await s.db.selectFrom('editions').select(['id', 'status']).where('week', '=', WEEK).executeTakeFirstOrThrow();
    const config = loadConfig({ MAIL_FROM });
    for (const row of rows) {
      const got = copies.get(row.email) ?? [];
      // A second copy only for a delivery that was in doubt, and never a third.
      expect(got.length, row.email).toBeLessThanOrEqual(doubtfulEmails.has(row.email) ? 2 : 1);
      // Every copy of one delivery carries that delivery's one Message-ID, so receivers can drop the repeat.
      const expected = deliveryMessageId(config, TEST_SECRET, edition.id, row.id);
      for (const m of got) expect(messageIdOf(m), row.email).toBe(expected);
      if (row.status === 'submitted') expect(row.message_id, row.email).toBe(expected);
    }
    expect(edition.status).toBe('sent');
  });

  // On SQLite only: what differs from the first case is the transport's and the outcomes' work, the same
  // on both databases; the recovery after each kill is the first case's, which runs on both.
  it.skipIf(onPostgres)('when the server cuts the connection after the final dot for some: nobody lost, nobody twice, only those and the killed ones uncertain', { timeout: CRASH_TEST_TIMEOUT }, async () => {
    const seed = newSeed();
    const random = seededRandom(seed);
    const s = await setUp(900);
    // One reader in 30 never hears back about their message: taken in full, then the connection cut.
    const cutOff = new Set(s.emails.filter((_, i) => i % 30 === 7));
    const sink = await startSmtpSink({ script: (rcpt) => (cutOff.has(rcpt) ? 'cut-after-dot' : 'accept') });
    cleanups.push(() => sink.close());
    const env = { RECAP_MAX_FAILURES_IN_A_ROW: '1000' };

    const killed = await killRepeatedly(s, sink, 3, [100, 250], random, env);
    const final = await runSender(s, sink, env);
    const out = `exit ${final.code}\n${final.stdout}\n${final.stderr}`;
    expect(final.signal, out).toBeNull();
    expect(final.code, out).toBe(1);

    const rows = await deliveries(s.db);
    const counts = await statusCounts(s.db);
    const handedAtKills = killed.claimedAtKill.reduce((a, b) => a + b, 0);
    console.log(
      `crash test, cut after the dot (seed ${seed}): ${killed.kills} kills, handed over at each kill ${killed.claimedAtKill.join('/')}; ` +
        `${sink.cut.length} cut, ${counts.submitted} submitted, ${counts.uncertain} uncertain`,
    );
    expect(counts).toEqual({ queued: 0, claimed: 0, submitted: counts.submitted, deferred: 0, failed: 0, skipped: 0, uncertain: counts.uncertain });
    // The server took each message in full at most once (received, or cut before its reply).
    const taken = new Map<string, number>();
    for (const to of [...sink.messages.flatMap((m) => m.to), ...sink.cut]) taken.set(to, (taken.get(to) ?? 0) + 1);
    expect([...taken].filter(([, n]) => n > 1)).toEqual([]);
    const byEmail = new Map(rows.map((r) => [r.email, r]));
    // Every cut-off reader was reached and is reported uncertain, never submitted nor sent again.
    expect(new Set(sink.cut)).toEqual(cutOff);
    for (const email of cutOff) expect(byEmail.get(email)?.status, email).toBe('uncertain');
    // Whoever got nothing is uncertain; the uncertain are those cut off and those whose data was
    // being completed when a sender was killed, no more.
    for (const row of rows) if (!taken.has(row.email)) expect(row.status, row.email).toBe('uncertain');
    for (const row of rows) if (row.status === 'submitted') expect(sink.byRecipient().get(row.email), row.email).toHaveLength(1);
    expect(counts.uncertain).toBeGreaterThanOrEqual(cutOff.size);
    expect(counts.uncertain).toBeLessThanOrEqual(cutOff.size + handedAtKills);
    expect(final.stdout).toMatch(new RegExp(`Edition total: ${counts.submitted} submitted, .*${counts.uncertain} uncertain`));
  });

  it('a sender killed before the hand-over (waiting for RCPT) leaves the row to be queued again, and it goes out once', { timeout: CRASH_TEST_TIMEOUT }, async () => {
    const s = await setUp(60);
    const victim = s.emails[2] as string;
    // The victim's first RCPT is never answered: its sender waits there until it is killed.
    const sink = await startSmtpSink({ script: (rcpt, attempt) => (rcpt === victim && attempt === 1 ? 'stall-at-rcpt' : 'accept') });
    cleanups.push(() => sink.close());
    const killedRun = await runSender(s, sink, {}, () => sink.attempts.get(victim) === 1);
    expect(killedRun.signal, killedRun.stderr).toBe('SIGKILL');
    const atKill = await s.db
      .selectFrom('deliveries as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['d.status', 'd.claimed_at'])
      .where('s.email', '=', victim)
      .executeTakeFirstOrThrow();
    expect(atKill).toEqual({ status: 'claimed', claimed_at: null });

    const final = await runSender(s, sink, {});
    expect(final.signal, final.stderr).toBeNull();
    const row = (await deliveries(s.db)).find((r) => r.email === victim);
    expect(row?.status).toBe('submitted');
    expect(sink.byRecipient().get(victim)).toHaveLength(1);
    expect(sink.attempts.get(victim)).toBe(2);
  });
});
