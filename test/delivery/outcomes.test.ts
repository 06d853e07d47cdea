// Outcomes written in groups (src/delivery/outcomes.ts): nothing is written until a group is due
// (full, old enough, or flushed), then the whole group in one transaction, all or nothing; a write
// that failed stops the send at its next outcome. And during a real send, every message's hand-over
// mark is committed before the server hears of it, so an outcome lost to a crash leaves that row
// uncertain, never queued.
import SQLite from 'better-sqlite3';
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Finish, outcomeWriter } from '../../src/delivery/outcomes.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { onPostgres } from '../helpers/database.ts';
import { queuedEdition } from '../helpers/deliveries.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let ids: number[];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

const AT = '2026-11-30T08:00:05.000Z';
const submitted: Finish = { status: 'submitted', response: '250 2.0.0 queued', at: AT };
const deferred: Finish = { status: 'deferred', error: '451 4.3.0 try later', reason: 'transient', nextAttemptAt: '2026-11-30T08:01:05.000Z', at: AT };

async function statuses(): Promise<string[]> {
  const rows = await ctx.db.selectFrom('deliveries').select(['id', 'status']).orderBy('id').execute();
  return rows.map((r) => r.status);
}

describe('outcomes written in groups', () => {
  beforeEach(async () => {
    ctx = await createTestContext();
    cleanups.push(() => ctx.close());
    ({ ids } = await queuedEdition(ctx, 6));
    // All six claimed and handed to the server, waiting for their outcome.
    await ctx.db.updateTable('deliveries').set({ status: 'claimed', claim_token: 't', claimed_at: '2026-11-30T08:00:00.000Z' }).execute();
  });

  it('writes nothing until flushed, then every outcome of the group', async () => {
    const writer = outcomeWriter(ctx.db, 't', { maxPending: 10, maxDelayMs: 60_000 });
    writer.add(ids[0] as number, submitted);
    writer.add(ids[1] as number, deferred);
    await delay(20);
    expect(await statuses()).toEqual(Array(6).fill('claimed'));
    await writer.flush();
    const rows = await ctx.db.selectFrom('deliveries').selectAll().orderBy('id').execute();
    expect(rows.map((r) => r.status)).toEqual(['submitted', 'deferred', 'claimed', 'claimed', 'claimed', 'claimed']);
    expect(rows[0]).toMatchObject({ attempts: 1, submitted_at: AT, smtp_response: '250 2.0.0 queued', claim_token: null });
    expect(rows[1]).toMatchObject({ attempts: 1, next_attempt_at: '2026-11-30T08:01:05.000Z', error: '451 4.3.0 try later', claim_token: null });
  });

  it("leaves alone a row that another sender's batch has claimed since", async () => {
    await ctx.db.updateTable('deliveries').set({ claim_token: 'other' }).where('id', '=', ids[1] as number).execute();
    const writer = outcomeWriter(ctx.db, 't', { maxPending: 10, maxDelayMs: 60_000 });
    writer.add(ids[0] as number, submitted);
    writer.add(ids[1] as number, submitted);
    await writer.flush();
    const rows = await ctx.db.selectFrom('deliveries').select(['status', 'claim_token']).orderBy('id').limit(2).execute();
    expect(rows).toEqual([{ status: 'submitted', claim_token: null }, { status: 'claimed', claim_token: 'other' }]);
  });

  it('writes a group as soon as it is full', async () => {
    const writer = outcomeWriter(ctx.db, 't', { maxPending: 4, maxDelayMs: 60_000 });
    for (const id of ids.slice(0, 5)) writer.add(id, submitted);
    await delay(20);
    expect(await statuses()).toEqual(['submitted', 'submitted', 'submitted', 'submitted', 'claimed', 'claimed']);
    await writer.flush();
    expect(await statuses()).toEqual([...Array(5).fill('submitted'), 'claimed']);
  });

  it('writes a group once its first outcome has waited maxDelayMs', async () => {
    const writer = outcomeWriter(ctx.db, 't', { maxPending: 50, maxDelayMs: 30 });
    writer.add(ids[0] as number, submitted);
    expect(await statuses()).toEqual(Array(6).fill('claimed'));
    await delay(300);
    expect(await statuses()).toEqual(['submitted', ...Array(5).fill('claimed')]);
  });

  it('writes a group all or nothing, and the failure stops whoever adds or flushes next', async () => {
    // A write the database refuses, for one row of the group.
    if (onPostgres) {
      await sql.raw(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`).execute(ctx.db);
      await sql.raw(`create trigger refuse before update of status on deliveries for each row when (old.id = ${ids[2]}) execute function refuse()`).execute(ctx.db);
    } else {
      await sql.raw(`create trigger refuse before update of status on deliveries when old.id = ${ids[2]} begin select raise(abort, 'refused by the test'); end`).execute(ctx.db);
    }
    const writer = outcomeWriter(ctx.db, 't', { maxPending: 3, maxDelayMs: 60_000 });
    writer.add(ids[1] as number, submitted);
    writer.add(ids[2] as number, submitted);
    writer.add(ids[3] as number, submitted);
    await expect(writer.flush()).rejects.toThrow(/refused by the test/);
    expect(await statuses()).toEqual(Array(6).fill('claimed'));
    expect(() => writer.add(ids[4] as number, submitted)).toThrow(/refused by the test/);
  });
});

describe('during a send', () => {
  let sink: SmtpSink;

  // SQLite only: it reads the rows synchronously from inside the SMTP server's callbacks, at the
  // instant of each RCPT, which a second better-sqlite3 connection can do and a pg client cannot.
  it.skipIf(onPostgres)('commits each hand-over mark after the server took the recipient and before the message is complete', async () => {
    // Another connection, as a later process would see the file: the recipient's row at its RCPT,
    // and once its message has come in full.
    type Row = { email: string; status: string; claimed_at: string | null } | undefined;
    const atRcpt: Row[] = [];
    const seen: Row[] = [];
    let reader: SQLite.Database | undefined;
    const row = (rcpt: string) => reader?.prepare('select s.email, d.status, d.claimed_at from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ?').get(rcpt) as Row;
    sink = await startSmtpSink({
      script: (rcpt) => {
        atRcpt.push(row(rcpt));
        return 'accept';
      },
      onMessage: (rcpts) => seen.push(...rcpts.map(row)),
    });
    cleanups.push(() => sink.close());
    ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_RATE: '0', RECAP_SEND_BATCH: '20', SMTP_POOL_SIZE: '3' });
    cleanups.push(() => ctx.close());
    ({ ids } = await queuedEdition(ctx, 60));
    reader = new SQLite(ctx.config.databaseUrl, { readonly: true });
    cleanups.push(() => {
      reader?.close();
    });

    const report = await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);
    expect(report.counts).toMatchObject({ submitted: 60, queued: 0, claimed: 0 });
    expect(atRcpt).toHaveLength(60);
    for (const r of atRcpt) expect(r, r?.email).toMatchObject({ status: 'claimed', claimed_at: null });
    expect(seen).toHaveLength(60);
    for (const r of seen) {
      expect(r?.status, r?.email).toBe('claimed');
      expect(r?.claimed_at, r?.email).not.toBeNull();
    }
    expect([...sink.byRecipient().values()].every((copies) => copies.length === 1)).toBe(true);
  });
});
