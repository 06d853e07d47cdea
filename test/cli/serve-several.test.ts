// Two `recap serve` processes behind one address, on one database: the per-IP limit holds across
// both (requests at the same moment, spread over the two), and their workers mail each queued
// request once. On a SQLite file always; on PostgreSQL when TEST_DATABASE_URL is set.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { runCli, type ServeProcess, startServe } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { NO_POSTGRES, TEST_DATABASE_URL, tempPgDatabase } from '../helpers/pg.ts';
import { until } from '../helpers/until.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});


async function twoServers(databaseUrl: (cwd: string) => Promise<string>): Promise<void> {
  const cwd = tempDir('recap-serve-several-');
  cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));
  const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', DATABASE_URL: await databaseUrl(cwd), OUTBOX_DIR: join(cwd, 'outbox') };
  const migrated = await runCli(['db', 'migrate'], { cwd, env });
  expect(migrated.code, migrated.stderr).toBe(0);

  const servers: ServeProcess[] = await Promise.all([startServe({ cwd, env }), startServe({ cwd, env })]);
  try {
    // 14 requests from one IP at once, 7 to each process: the limit is 10 per IP in 15 minutes.
    const emails = Array.from({ length: 14 }, (_, i) => `reader-${i}@example.com`);
    const answers = await Promise.all(
      emails.map(async (email, i) => {
        const res = await fetch(`${(servers[i % 2] as ServeProcess).url}/api/subscribe`, { method: 'POST', body: JSON.stringify({ email }), headers: { 'Content-Type': 'application/json' } });
        return { email, server: i % 2, status: res.status, retryAfter: res.headers.get('retry-after') };
      }),
    );
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted).toHaveLength(10);
    expect(new Set(accepted.map((a) => a.server)), 'both processes accepted some').toEqual(new Set([0, 1]));
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused.map((a) => a.status)).toEqual([429, 429, 429, 429]);
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThan(800);

    // Both workers drain the one queue: every accepted request is mailed once, by one of them.
    const outbox = join(cwd, 'outbox/transactional');
    const mailed = () => (existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : []);
    await until('ten confirmation emails', () => (mailed().length >= 10 ? true : undefined)).catch((e: Error) => {
      throw new Error(`${e.message} (${mailed().length} written); their logs:\n${servers.map((s) => s.stderr()).join('\n')}`);
    });
    const db = openDb(env.DATABASE_URL);
    try {
      // The last row is deleted just after its email is written.
      for (let i = 0; i < 100 && (await db.selectFrom('subscription_requests').select('id').execute()).length > 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect(await db.selectFrom('subscription_requests').select('id').execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
    await new Promise((r) => setTimeout(r, 1000)); // a second copy would have been written by now
    expect(mailed().map((f) => f.replace(/^[^-]+-[^-]+-/, '').replace(/\.eml$/, '')).sort()).toEqual(accepted.map((a) => a.email).sort());
  } finally {
    const codes = await Promise.all(servers.map((s) => s.stop()));
    expect(codes, servers.map((s) => s.stderr()).join('\n')).toEqual([0, 0]);
  }
}

describe('two `recap serve` processes on one database', () => {
  it('on a SQLite file: one rate limit across both, each request mailed once', { timeout: 240_000 }, async () => {
    await twoServers(async (cwd) => join(cwd, 'recap.db'));
  });

  it.skipIf(!TEST_DATABASE_URL)(`on PostgreSQL: the same${TEST_DATABASE_URL ? '' : ` (skipped: ${NO_POSTGRES})`}`, { timeout: 240_000 }, async () => {
    await twoServers(async () => {
      const pg = await tempPgDatabase();
      cleanup.push(() => pg.drop());
      return pg.url;
    });
  });
});
