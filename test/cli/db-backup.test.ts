// `recap db backup FILE` while `recap digest send` writes to the same database, each its own
// process: the copy opens, passes SQLite's integrity check, and holds every delivery row as of
// one instant (all queued at once, some submitted, none half-written), and the send goes on.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { importSubscribersCsv } from '../../src/audience/csv-import.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';

const READERS = 1000;
let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

async function submitted(c: TestContext): Promise<number> {
  const row = await c.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'submitted').executeTakeFirstOrThrow();
  return Number(row.n);
}

it('copies the database consistently while a send writes to it', { timeout: 240_000 }, async () => {
  const c = (ctx = await createTestContext());
  await importArticles(c.db, JSON.stringify(sampleArticles()), { now: c.clock.now() });
  const csv = join(c.dir, 'people.csv');
  writeFileSync(csv, `email,name\n${Array.from({ length: READERS }, (_, i) => `reader${i}@example.com,Reader ${i}`).join('\n')}\n`);
  expect((await importSubscribersCsv(c.db, csv, { listId: c.listId, now: c.clock.now(), confirmed: true })).inserted).toBe(READERS);

  const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', DATABASE_URL: c.config.databaseUrl, OUTBOX_DIR: c.config.outboxDir, RECAP_RATE: '50', RECAP_WORKERS: '0' };
  const send = spawn(process.execPath, [RECAP_BIN, 'digest', 'send', '--week', '2026-W48'], {
    cwd: c.dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let stderr = '';
  send.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const sent = new Promise<number | null>((resolve) => send.on('exit', resolve));
  try {
    const deadline = Date.now() + 120_000;
    while ((await submitted(c)) < 20) {
      if (Date.now() > deadline) throw new Error(`the send did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const file = join(c.dir, 'backup.db');
    const backup = await runCli(['db', 'backup', file], { cwd: c.dir, env });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/backed up to .*backup\.db .*integrity checked/);

    const copy = new SQLite(file, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const rows = copy.prepare('select status, message_id, submitted_at from deliveries').all() as Array<{ status: string; message_id: string | null; submitted_at: string | null }>;
      // Every delivery row (queued together in one statement), each whole.
      expect(rows).toHaveLength(READERS);
      const done = rows.filter((r) => r.status === 'submitted');
      expect(done.length).toBeGreaterThan(0);
      expect(done.length).toBeLessThan(READERS);
      for (const r of done) expect(r.message_id && r.submitted_at).toBeTruthy();
      expect((copy.prepare('select count(*) as n from subscribers').get() as { n: number }).n).toBe(READERS);
      expect(copy.prepare("select status from editions where week = '2026-W48'").get()).toEqual({ status: 'sending' });
    } finally {
      copy.close();
    }

    // The send was not held up: it goes on to the end.
    expect(await sent).toBe(0);
    expect(await submitted(c)).toBe(READERS);
    // A second backup to the same name is refused, and names why.
    const again = await runCli(['db', 'backup', file], { cwd: c.dir, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  } finally {
    if (send.exitCode === null) send.kill('SIGKILL');
  }
});
