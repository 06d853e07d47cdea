// `recap worker` processes sharing one edition (issue 13): three real workers (the built CLI, in
// child processes) send 6,000 deliveries (enough for many batches each, and a kill mid-batch; CI
// time is the limit) to a real SMTP server on loopback; one is killed with
// SIGKILL midway. Its batch is taken over by the others (its holder is gone from this host: no
// waiting for the lease to expire); in the end every reader has exactly one copy but the reported
// uncertain ones (none has two), and uncertain is no more than what the killed worker had handed
// over without a reply recorded.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RECAP_BIN } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { queuedEdition } from '../helpers/deliveries.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { until } from '../helpers/until.ts';

const READERS = 6_000;
const BATCH = 100;
const POOL = 3;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

interface Worker {
  child: ChildProcess;
  out: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(ctx: TestContext, sink: SmtpSink): Worker {
  const env = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1',
    DATABASE_URL: ctx.config.databaseUrl, SMTP_URL: sink.url, RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test',
    MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>', RECAP_RATE: '0', RECAP_WORKERS: '0', RECAP_SEND_BATCH: String(BATCH), SMTP_POOL_SIZE: String(POOL),
  };
  const child = spawn(process.execPath, [RECAP_BIN, 'worker', '--once'], { cwd: ctx.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Worker = { child, out: '', exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
  child.stdout?.on('data', (d: Buffer) => (w.out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (w.out += d.toString()));
  cleanups.push(() => void child.kill('SIGKILL'));
  return w;
}


describe('recap worker: several senders on one edition', () => {
  it(`three workers send ${READERS.toLocaleString('en-US')}; one is killed midway; every reader has one copy but the reported uncertain`, { timeout: 600_000 }, async () => {
    const ctx = await createTestContext();
    cleanups.push(() => ctx.close());
    const sink = await startSmtpSink({ keep: 'head' });
    cleanups.push(() => sink.close());
    const { editionId } = await queuedEdition(ctx, READERS);
    await ctx.db.updateTable('editions').set({ status: 'sending' }).where('id', '=', editionId).execute();

    const workers = [startWorker(ctx, sink), startWorker(ctx, sink), startWorker(ctx, sink)];
    const victim = workers[0] as Worker;
    // Midway, and once the victim is surely sending (it has a batch claimed).
    await until('a third of the messages', () => (sink.messages.length >= READERS / 3 ? true : undefined), 400_000, 5);
    const claimedByVictim = async () => {
      const rows = await ctx.db.selectFrom('deliveries as d').innerJoin('leases as l', 'l.name', 'd.claim_token').select('l.owner').where('d.status', '=', 'claimed').execute();
      return rows.some((r) => r.owner.split(':')[1] === String(victim.child.pid));
    };
    await until('the victim to hold a batch', async () => ((await claimedByVictim()) ? true : undefined), 60_000, 5).catch(async (e: Error) => {
      const leases = await ctx.db.selectFrom('leases').selectAll().execute();
      throw new Error(`${e.message}; pid ${victim.child.pid}; leases ${JSON.stringify(leases)}\n${workers.map((w) => w.out).join('\n---\n')}`);
    });
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const handedOverAtKill = await ctx.db.selectFrom('deliveries as d').innerJoin('leases as l', 'l.name', 'd.claim_token')
      .select((eb) => eb.fn.countAll<number>().as('n')).where('d.status', '=', 'claimed').where('d.claimed_at', 'is not', null).where('l.owner', 'like', `%:${victim.child.pid}:%`)
      .executeTakeFirstOrThrow();

    for (const w of workers.slice(1)) expect((await w.exited).code, w.out).toBe(0);

    const counts = Object.fromEntries((await ctx.db.selectFrom('deliveries').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).groupBy('status').execute()).map((r) => [r.status, Number(r.n)]));
    const uncertain = counts.uncertain ?? 0;
    expect((counts.submitted ?? 0) + uncertain).toBe(READERS);
    expect(uncertain).toBeLessThanOrEqual(Number(handedOverAtKill.n));
    const edition = await ctx.db.selectFrom('editions').select('status').where('id', '=', editionId).executeTakeFirstOrThrow();
    expect(edition.status).toBe('sent');

    const copies = sink.byRecipient();
    const uncertainEmails = new Set((await ctx.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select('s.email').where('d.status', '=', 'uncertain').execute()).map((r) => r.email));
    const all = await ctx.db.selectFrom('subscribers').select('email').execute();
    for (const { email } of all) {
      const n = copies.get(email)?.length ?? 0;
      if (uncertainEmails.has(email)) expect(n, email).toBeLessThanOrEqual(1);
      else expect(n, email).toBe(1);
    }
    // Each survivor did its share of the work.
    for (const w of workers.slice(1)) expect(Number(/worker stopped: (\d+) submitted/.exec(w.out)?.[1] ?? 0), w.out).toBeGreaterThan(0);
  });
});
