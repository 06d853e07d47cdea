// `recap bounces import` end to end, on real bounce messages as Postfix, Exim, Sendmail, qmail,
// Office 365, Gmail, Amazon SES and the feedback loops write them (test/fixtures/bounces). The
// edition is really sent (to the outbox) first, so every delivery has the Message-ID the sender gave
// it, and the fixtures quote that Message-ID in their returned original ({{MESSAGE_ID}}).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SubscriberStatus } from '../../db/schema.ts';
import { importArticles } from '../../src/articles/import.ts';
import { importBounceFiles } from '../../src/audience/bounce-import.ts';
import { type ReportedBounce, parseReport, splitMbox } from '../../src/audience/bounce-reports.ts';
import { hashEmail } from '../../src/audience/email.ts';
import { deliveryMessageId } from '../../src/delivery/composers.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, TEST_SECRET, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/bounces');

/** Everyone a fixture is about, plus a bystander nothing should touch. */
const READERS = [
  'nobody@example.com', // postfix-user-unknown
  'full@example.net', // postfix-mailbox-full
  'reader@gone.example.org', // exim-unrouteable
  'olduser@example.net', // exim-legacy-plaintext (+ -crlf)
  'quit@example.org', // qmail-failure-notice
  'ghost@example.org', // sendmail-user-unknown
  'jordan@example.com', // exchange-o365-not-found
  'nosuchuser@example.com', // gmail-no-such-user
  'reader@example.com', // gmail-blocked-policy
  'slowpoke@example.net', // yahoo-delayed
  'aws-gone@example.org', // ses-bounce
  'complainer@example.net', // arf-yahoo-complaint (recipient redacted)
  'grumpy@example.org', // arf-generic-complaint
  'away@example.com', // outlook-auto-reply
  'ada@example.com', // bystander
];

let ctx: TestContext;
let editionId: number;
/** email → the delivery of edition 2026-W48 to it. */
const deliveries = new Map<string, { id: number; messageId: string; subscriberId: number }>();

function raw(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A fixture with the Message-ID of our delivery to `email` put into the returned original. */
function fixtureFor(name: string, email: string): string {
  return raw(name).replaceAll('{{MESSAGE_ID}}', delivery(email).messageId);
}

function delivery(email: string) {
  const d = deliveries.get(email);
  if (!d) throw new Error(`no delivery to ${email}`);
  return d;
}

function importOne(name: string, content: string) {
  return importBounceFiles(ctx.db, ctx.config, TEST_SECRET, [{ name, content }], ctx.clock.now());
}

async function suppression(email: string) {
  return ctx.db.selectFrom('suppressions').selectAll().where('email_hash', '=', hashEmail(email)).executeTakeFirst();
}

async function statusOf(email: string): Promise<SubscriberStatus> {
  return (await ctx.db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirstOrThrow()).status;
}

async function bouncesOf(email: string) {
  return ctx.db.selectFrom('bounces').selectAll().where('email_hash', '=', hashEmail(email)).orderBy('id').execute();
}

async function count(table: 'bounces' | 'suppressions'): Promise<number> {
  return (await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
}

/** A real database with the sample week and READERS, and edition 2026-W48 sent to them through the outbox. */
async function sendEdition() {
  ctx = await createTestContext();
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (const email of READERS) await addSubscriber(ctx, email);
  const sent = await runWeeklyRecap(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir)), { week: '2026-W48' });
  expect(sent.kind).toBe('sent');

  deliveries.clear();
  const rows = await ctx.db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select(['d.id', 'd.edition_id', 'd.message_id', 'd.status', 's.id as subscriberId', 's.email'])
    .execute();
  expect(rows).toHaveLength(READERS.length);
  for (const r of rows) {
    expect(r.status).toBe('submitted');
    expect(r.message_id).toBe(deliveryMessageId(ctx.config, TEST_SECRET, r.edition_id, r.id));
    deliveries.set(r.email, { id: r.id, messageId: r.message_id as string, subscriberId: r.subscriberId });
    editionId = r.edition_id;
  }
  // The bounces come back an hour later.
  ctx.clock.advance(3_600_000);
}

function useSentEdition() {
  beforeEach(sendEdition);
  afterEach(() => ctx.close());
}

interface Expected {
  file: string;
  email: string;
  kind: 'hard' | 'soft' | 'policy' | 'complaint';
  reason: string;
  status: string | null;
  source: 'dsn' | 'arf';
  /** The report quotes our Message-ID, so the bounce is tied to the edition. */
  byMessageId: boolean;
  subscriber: SubscriberStatus;
  /** The suppression's reason, or null when the address must stay mailable. */
  suppressed: string | null;
}

const OUTCOMES: Expected[] = [
  { file: 'postfix-user-unknown.eml', email: 'nobody@example.com', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'postfix-mailbox-full.eml', email: 'full@example.net', kind: 'soft', reason: 'mailboxfull', status: '5.2.2', source: 'dsn', byMessageId: true, subscriber: 'active', suppressed: null },
  { file: 'exim-unrouteable.eml', email: 'reader@gone.example.org', kind: 'hard', reason: 'hostunknown', status: '5.0.0', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: hostunknown' },
  { file: 'exim-legacy-plaintext.eml', email: 'olduser@example.net', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'exim-legacy-plaintext-crlf.eml', email: 'olduser@example.net', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'qmail-failure-notice.eml', email: 'quit@example.org', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'sendmail-user-unknown.eml', email: 'ghost@example.org', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  // RESOLVER.ADR.RecipientNotFound is Exchange's "no such mailbox" (Sisimai: userunknown), whatever
  // RFC 7505 later gave X.1.10 to.
  { file: 'exchange-o365-not-found.eml', email: 'jordan@example.com', kind: 'hard', reason: 'userunknown', status: '5.1.10', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'gmail-no-such-user.eml', email: 'nosuchuser@example.com', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: true, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  { file: 'gmail-blocked-policy.eml', email: 'reader@example.com', kind: 'policy', reason: 'spamdetected', status: '5.7.1', source: 'dsn', byMessageId: true, subscriber: 'active', suppressed: null },
  // SES replaces our Message-ID with its own: the report is matched by address, to no edition.
  { file: 'ses-bounce.eml', email: 'aws-gone@example.org', kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn', byMessageId: false, subscriber: 'bounced', suppressed: 'hard bounce: userunknown' },
  // Yahoo redacts the recipient: only our Message-ID says who complained.
  { file: 'arf-yahoo-complaint.eml', email: 'complainer@example.net', kind: 'complaint', reason: 'complaint', status: null, source: 'arf', byMessageId: true, subscriber: 'complained', suppressed: 'complaint' },
  { file: 'arf-generic-complaint.eml', email: 'grumpy@example.org', kind: 'complaint', reason: 'complaint', status: null, source: 'arf', byMessageId: false, subscriber: 'complained', suppressed: 'complaint' },
];

describe('importBounceFiles, one fixture at a time', () => {
  useSentEdition();

  it.each(OUTCOMES)('$file: $kind ($reason) for $email', async (c) => {
    const report = await importOne(c.file, fixtureFor(c.file, c.email));

    expect(report.skipped).toEqual([]);
    expect(report.messages).toBe(1);
    expect(report.recorded).toEqual({ hard: 0, soft: 0, policy: 0, complaint: 0, [c.kind]: 1 });
    expect(report.delayed).toBe(0);
    expect(report.unmatched).toBe(0);
    expect(report.suppressed).toBe(c.suppressed ? 1 : 0);

    const d = delivery(c.email);
    const rows = await bouncesOf(c.email);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      subscriber_id: d.subscriberId,
      // Matched by Message-ID, or by address: then it is about the latest edition they were sent.
      edition_id: editionId,
      email_hash: hashEmail(c.email),
      kind: c.kind,
      reason: c.reason,
      status_code: c.status,
      source: c.source,
      created_at: ctx.clock.now().toISOString(),
    });
    expect(rows[0]?.diagnostic).toBeTruthy();

    const row = await suppression(c.email);
    if (c.suppressed) {
      expect(row?.email_hash).toBe(hashEmail(c.email));
      expect(row?.reason).toBe(c.suppressed);
    } else {
      expect(row).toBeUndefined();
    }
    expect(await statusOf(c.email)).toBe(c.subscriber);

    // Nobody else is touched.
    expect(await count('bounces')).toBe(1);
    expect(await count('suppressions')).toBe(c.suppressed ? 1 : 0);
    expect(await statusOf('ada@example.com')).toBe('active');
  });

  it('records what a hard bounce and a complaint did in the events', async () => {
    await importOne('postfix-user-unknown.eml', fixtureFor('postfix-user-unknown.eml', 'nobody@example.com'));
    await importOne('arf-generic-complaint.eml', raw('arf-generic-complaint.eml'));
    const events = await ctx.db.selectFrom('events').select(['subscriber_id', 'edition_id', 'type']).where('type', 'in', ['bounced', 'complained']).orderBy('id').execute();
    expect(events).toEqual([
      { subscriber_id: delivery('nobody@example.com').subscriberId, edition_id: editionId, type: 'bounced' },
      { subscriber_id: delivery('grumpy@example.org').subscriberId, edition_id: editionId, type: 'complained' },
    ]);
  });

  it('ignores a delay notice (Action: delayed, 4.7.0): nothing recorded, nobody suppressed', async () => {
    const report = await importOne('yahoo-delayed.eml', fixtureFor('yahoo-delayed.eml', 'slowpoke@example.net'));
    expect(report).toMatchObject({ messages: 1, delayed: 1, suppressed: 0, skipped: [], recorded: { hard: 0, soft: 0, policy: 0, complaint: 0 } });
    expect(await count('bounces')).toBe(0);
    expect(await suppression('slowpoke@example.net')).toBeUndefined();
    expect(await statusOf('slowpoke@example.net')).toBe('active');
  });

  it('skips an out-of-office auto-reply with a reason, recording nothing', async () => {
    const report = await importOne('outlook-auto-reply.eml', fixtureFor('outlook-auto-reply.eml', 'away@example.com'));
    expect(report.messages).toBe(1);
    expect(report.recorded).toEqual({ hard: 0, soft: 0, policy: 0, complaint: 0 });
    expect(report.skipped).toEqual([{ where: 'outlook-auto-reply.eml', why: 'an automatic reply (out of office), not a bounce' }]);
    expect(await count('bounces')).toBe(0);
    expect(await statusOf('away@example.com')).toBe('active');
  });

  it('keeps one suppression when the same hard bounce is imported twice', async () => {
    const content = fixtureFor('gmail-no-such-user.eml', 'nosuchuser@example.com');
    await importOne('gmail-no-such-user.eml', content);
    const again = await importOne('gmail-no-such-user.eml', content);
    expect(again.recorded.hard).toBe(1);
    expect(await bouncesOf('nosuchuser@example.com')).toHaveLength(2);
    expect(await count('suppressions')).toBe(1);
    expect(await statusOf('nosuchuser@example.com')).toBe('bounced');
  });

  it('leaves an unsubscribed reader unsubscribed (but suppressed) on a hard bounce', async () => {
    await ctx.db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('email', '=', 'ghost@example.org').execute();
    await importOne('sendmail-user-unknown.eml', fixtureFor('sendmail-user-unknown.eml', 'ghost@example.org'));
    expect(await statusOf('ghost@example.org')).toBe('unsubscribed');
    expect(await suppression('ghost@example.org')).toBeDefined();
  });
});

describe('matching a report to our delivery', () => {
  useSentEdition();

  it('believes our Message-ID over the address a forwarder rewrote', async () => {
    // nobody@example.com forwards to a mailbox that no longer exists; the DSN names only that one.
    const content = fixtureFor('postfix-user-unknown.eml', 'nobody@example.com').replaceAll('nobody@example.com', 'n.body@mailstore.example.net');
    const report = await importOne('forwarded.eml', content);
    expect(report.recorded.hard).toBe(1);
    expect(report.unmatched).toBe(0);
    expect(await statusOf('nobody@example.com')).toBe('bounced');
    expect(await suppression('nobody@example.com')).toBeDefined();
    expect(await suppression('n.body@mailstore.example.net')).toBeUndefined();
    expect((await bouncesOf('nobody@example.com'))[0]?.edition_id).toBe(editionId);
  });

  it('without our Message-ID, takes the Original-Recipient (the address we sent to) over an alias expansion’s Final-Recipient', async () => {
    // Postfix after virtual alias expansion: Final-Recipient is the mailbox the alias pointed to,
    // Original-Recipient the address in our RCPT TO. A relay replaced our Message-ID.
    const content = raw('postfix-user-unknown.eml')
      .replaceAll('{{MESSAGE_ID}}', '<20261130080001.4ZqPL16VZ2z9sWh@relay.example.net>')
      .replace('Final-Recipient: rfc822; nobody@example.com', 'Final-Recipient: rfc822; n.body@mailstore.example.net')
      .replace('<nobody@example.com>: host', '<n.body@mailstore.example.net> (expanded from <nobody@example.com>): host');
    expect(content).toContain('Original-Recipient: rfc822;nobody@example.com');
    const report = await importOne('alias.eml', content);
    expect(report.recorded.hard).toBe(1);
    expect(report.unmatched).toBe(0);
    expect(await statusOf('nobody@example.com')).toBe('bounced');
    expect(await suppression('nobody@example.com')).toBeDefined();
    expect(await suppression('n.body@mailstore.example.net')).toBeUndefined();
  });

  it('matches nothing with a forged Message-ID of the right shape and the wrong tag', async () => {
    const ada = delivery('ada@example.com');
    const forged = `<recap.${editionId}.${ada.id}.AAAAAAAAAAAAAAAA@recap.test>`;
    expect(forged).not.toBe(ada.messageId);
    expect(forged.length).toBe(ada.messageId.length);

    // A DSN about a stranger that quotes Ada's delivery: recorded for the stranger, Ada untouched.
    const dsn = raw('postfix-user-unknown.eml').replaceAll('{{MESSAGE_ID}}', forged).replaceAll('nobody@example.com', 'stranger@example.org');
    const report = await importOne('forged.eml', dsn);
    expect(report.recorded.hard).toBe(1);
    expect(report.unmatched).toBe(1);
    expect(await bouncesOf('stranger@example.org')).toMatchObject([{ subscriber_id: null, edition_id: null, kind: 'hard' }]);
    expect(await statusOf('ada@example.com')).toBe('active');
    expect(await suppression('ada@example.com')).toBeUndefined();

    // A complaint with the recipient redacted and a forged Message-ID: nobody to blame.
    const arf = raw('arf-yahoo-complaint.eml').replaceAll('{{MESSAGE_ID}}', `<recap.${editionId}.${delivery('complainer@example.net').id}.AAAAAAAAAAAAAAAA@recap.test>`);
    const complaint = await importOne('forged-arf.eml', arf);
    expect(complaint.recorded.complaint).toBe(0);
    expect(complaint.skipped).toEqual([{ where: 'forged-arf.eml', why: 'the report names no recipient and quotes no message of ours' }]);
    expect(await statusOf('complainer@example.net')).toBe('active');
    expect(await suppression('complainer@example.net')).toBeUndefined();
    expect(await count('suppressions')).toBe(1); // the stranger's, above
  });

  it('does not take a real Message-ID for another edition', async () => {
    // A correctly signed Message-ID for an edition this delivery does not belong to.
    const ada = delivery('ada@example.com');
    const other = deliveryMessageId(ctx.config, TEST_SECRET, editionId + 1, ada.id);
    const dsn = raw('postfix-user-unknown.eml').replaceAll('{{MESSAGE_ID}}', other).replaceAll('nobody@example.com', 'stranger@example.org');
    const report = await importOne('other-edition.eml', dsn);
    expect(report.unmatched).toBe(1);
    expect(await statusOf('ada@example.com')).toBe('active');
  });
});

describe('soft bounces', () => {
  useSentEdition();

  /** Another edition with a delivery to `email`, sent a week after the last one. */
  async function laterEdition(week: string, number: number, email: string) {
    ctx.clock.advance(7 * 86_400_000);
    const at = ctx.clock.now().toISOString();
    const edition = await ctx.db
      .insertInto('editions')
      .values({ list_id: ctx.listId, week, number, status: 'sent', subject: `Weekly AI Recap #${number}`, preheader: 'This week in AI', starts_at: at, ends_at: at, created_at: at, updated_at: at, sent_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await ctx.db
      .insertInto('deliveries')
      .values({ edition_id: edition.id, subscriber_id: delivery(email).subscriberId, status: 'submitted', attempts: 1, queued_at: at, submitted_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    const messageId = deliveryMessageId(ctx.config, TEST_SECRET, edition.id, row.id);
    await ctx.db.updateTable('deliveries').set({ message_id: messageId }).where('id', '=', row.id).execute();
    return { editionId: edition.id, messageId };
  }

  const mailboxFull = (messageId: string) => raw('postfix-mailbox-full.eml').replaceAll('{{MESSAGE_ID}}', messageId);

  it('suppresses after soft bounces in three editions in a row (RECAP_SOFT_BOUNCE_LIMIT=3)', async () => {
    expect(ctx.config.softBounceLimit).toBe(3);
    const w49 = await laterEdition('2026-W49', 2, 'full@example.net');
    const w50 = await laterEdition('2026-W50', 3, 'full@example.net');

    const first = await importOne('w48.eml', mailboxFull(delivery('full@example.net').messageId));
    expect(first.suppressed).toBe(0);
    const second = await importOne('w49.eml', mailboxFull(w49.messageId));
    expect(second.suppressed).toBe(0);
    expect(await statusOf('full@example.net')).toBe('active');
    expect(await suppression('full@example.net')).toBeUndefined();

    const third = await importOne('w50.eml', mailboxFull(w50.messageId));
    expect(third.recorded.soft).toBe(1);
    expect(third.suppressed).toBe(1);
    expect(await statusOf('full@example.net')).toBe('bounced');
    expect((await suppression('full@example.net'))?.reason).toBe('soft bounces in 3 editions in a row');
    const rows = await bouncesOf('full@example.net');
    expect(rows.map((r) => [r.kind, r.edition_id])).toEqual([
      ['soft', editionId],
      ['soft', w49.editionId],
      ['soft', w50.editionId],
    ]);
  });

  it('does not suppress on three soft bounces about one edition', async () => {
    await laterEdition('2026-W49', 2, 'full@example.net');
    await laterEdition('2026-W50', 3, 'full@example.net');
    const content = mailboxFull(delivery('full@example.net').messageId);
    for (let i = 0; i < 3; i++) await importOne(`again-${i}.eml`, content);
    expect(await bouncesOf('full@example.net')).toHaveLength(3);
    expect(await suppression('full@example.net')).toBeUndefined();
    expect(await statusOf('full@example.net')).toBe('active');
  });
});

describe('importing an mbox and CRLF', () => {
  useSentEdition();

  /** bounces.mbox, each placeholder given the Message-ID of the reader its message is about. */
  function mbox(): string {
    const readers = ['nobody@example.com', 'olduser@example.net', 'reader@example.com', 'grumpy@example.org'];
    return raw('bounces.mbox').replace(/\{\{MESSAGE_ID\}\}/g, (_m, offset: number, all: string) => {
      const message = all.slice(0, offset).split(/^From \S/m).length - 2;
      return delivery(readers[message] as string).messageId;
    });
  }

  it('imports every message of an mbox', async () => {
    const report = await importOne('bounces.mbox', mbox());
    expect(report).toMatchObject({ messages: 4, recorded: { hard: 2, soft: 0, policy: 1, complaint: 1 }, delayed: 0, suppressed: 3, unmatched: 0, skipped: [] });
    expect(await statusOf('nobody@example.com')).toBe('bounced');
    expect(await statusOf('olduser@example.net')).toBe('bounced');
    expect(await statusOf('reader@example.com')).toBe('active');
    expect(await suppression('reader@example.com')).toBeUndefined();
    expect(await statusOf('grumpy@example.org')).toBe('complained');
    expect((await bouncesOf('olduser@example.net'))[0]?.edition_id).toBe(editionId);
  });

  it('names the message of an mbox it skips', async () => {
    const mbox = `From MAILER-DAEMON Mon Nov 30 08:00:00 2026\n${raw('outlook-auto-reply.eml')}\nFrom MAILER-DAEMON Mon Nov 30 08:00:01 2026\n${raw('arf-generic-complaint.eml')}`;
    const report = await importOne('mixed.mbox', mbox);
    expect(report.messages).toBe(2);
    expect(report.recorded.complaint).toBe(1);
    expect(report.skipped).toEqual([{ where: 'mixed.mbox, message 1', why: 'an automatic reply (out of office), not a bounce' }]);
    // One line per message, for --verbose.
    expect(report.outcomes).toEqual([
      { where: 'mixed.mbox, message 1', outcome: 'skipped: an automatic reply (out of office), not a bounce' },
      { where: 'mixed.mbox, message 2', outcome: 'complaint from grumpy@example.org: subscriber marked complained, address suppressed' },
    ]);
  });

  it('names an empty file, binary data and a file without a header, and goes on', async () => {
    const report = await importBounceFiles(
      ctx.db,
      ctx.config,
      TEST_SECRET,
      [
        { name: 'empty.eml', content: Buffer.alloc(0) },
        { name: 'image.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) },
        { name: 'notes.txt', content: 'just some notes\nabout bounces\n' },
        { name: 'postfix-user-unknown.eml', content: Buffer.from(fixtureFor('postfix-user-unknown.eml', 'nobody@example.com')) },
      ],
      ctx.clock.now(),
    );
    expect(report.skipped).toEqual([
      { where: 'empty.eml', why: 'an empty file' },
      { where: 'image.png', why: 'binary data, not a mail message' },
      { where: 'notes.txt', why: 'not a mail message: it does not begin with header fields ("just some notes")' },
    ]);
    expect(report.recorded.hard).toBe(1);
    expect(await statusOf('nobody@example.com')).toBe('bounced');
  });

  it('imports a CRLF mbox like an LF one', async () => {
    const report = await importOne('bounces-crlf.mbox', mbox().replace(/\n/g, '\r\n'));
    expect(report).toMatchObject({ messages: 4, recorded: { hard: 2, soft: 0, policy: 1, complaint: 1 }, delayed: 0, suppressed: 3, unmatched: 0, skipped: [] });
    expect(await statusOf('grumpy@example.org')).toBe('complained');
    expect((await bouncesOf('nobody@example.com'))[0]?.edition_id).toBe(editionId);
    expect((await bouncesOf('olduser@example.net'))[0]?.edition_id).toBe(editionId);
  });
});

describe('splitMbox and line ends', () => {
  const MBOX_PARTS = ['postfix-user-unknown.eml', 'exim-legacy-plaintext.eml', 'gmail-blocked-policy.eml', 'arf-generic-complaint.eml'];

  it('splitMbox returns each message as it was, ">From " unescaped', () => {
    const messages = splitMbox(raw('bounces.mbox'));
    expect(messages).toHaveLength(4);
    messages.forEach((m, i) => expect(m.trimEnd()).toBe(raw(MBOX_PARTS[i] as string).trimEnd()));
    expect(messages[1]).toContain('\nFrom the editor: the capex cycle has not peaked yet.');
    expect(messages.join('')).not.toMatch(/^>From /m);
    // A lone message is not an mbox.
    expect(splitMbox(raw('postfix-user-unknown.eml'))).toEqual([raw('postfix-user-unknown.eml')]);
  });

  it('splitMbox reads a CRLF mbox and an mboxrd ">>From " line', () => {
    const mbox = 'From MAILER-DAEMON Mon Nov 30 08:00:00 2026\r\nSubject: one\r\n\r\n>From here\r\n>>From there\r\n\r\nFrom MAILER-DAEMON Mon Nov 30 08:00:01 2026\r\nSubject: two\r\n\r\nbody\r\n';
    expect(splitMbox(mbox)).toEqual(['Subject: one\r\n\r\nFrom here\r\n>From there\r\n\r\n', 'Subject: two\r\n\r\nbody\r\n']);
  });

  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml') && !f.endsWith('-crlf.eml')).sort();

  it.each(files)('%s reads the same with CRLF line ends', async (file) => {
    const lf = raw(file).replaceAll('{{MESSAGE_ID}}', '<recap.1.1.abcdefghijklmnop@recap.test>');
    expect(lf).not.toContain('\r');
    const crlf = lf.replace(/\n/g, '\r\n');
    expect(await parseReport(crlf)).toEqual(await parseReport(lf));
  });

  it('the stored CRLF fixture is the LF one with CRLF line ends, and parses the same', async () => {
    const lf = raw('exim-legacy-plaintext.eml');
    const crlf = raw('exim-legacy-plaintext-crlf.eml');
    expect(crlf).toContain('\r\n');
    expect(crlf.replace(/\r\n/g, '\n')).toBe(lf);
    const messageId = '<recap.3.9.abcdefghijklmnop@recap.test>';
    const fromCrlf = await parseReport(crlf.replaceAll('{{MESSAGE_ID}}', messageId));
    expect(fromCrlf).toEqual(await parseReport(lf.replaceAll('{{MESSAGE_ID}}', messageId)));
    expect(fromCrlf.bounces[0]?.messageId).toBe(messageId);
  });
});

describe('parseReport', () => {
  const ID = '<recap.7.42.Zx_9-abcdefghijkl@recap.test>';

  it('reads a Postfix DSN: the recipient, the status, the diagnostic unfolded, our Message-ID', async () => {
    const parsed = await parseReport(raw('postfix-user-unknown.eml').replaceAll('{{MESSAGE_ID}}', ID));
    expect(parsed).toEqual({
      bounces: [
        {
          email: 'nobody@example.com',
          messageId: ID,
          kind: 'hard',
          reason: 'userunknown',
          status: '5.1.1',
          diagnostic: '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
          source: 'dsn',
        },
      ],
    });
  });

  it('accepts a Buffer', async () => {
    const parsed = await parseReport(Buffer.from(raw('sendmail-user-unknown.eml').replaceAll('{{MESSAGE_ID}}', ID)));
    expect(parsed.bounces).toMatchObject([{ email: 'ghost@example.org', messageId: ID, kind: 'hard', status: '5.1.1', diagnostic: '550 5.1.1 <ghost@example.org>... User unknown' }]);
  });

  it('reads the Message-ID from the text/rfc822-headers an Exchange NDR returns', async () => {
    const parsed = await parseReport(raw('exchange-o365-not-found.eml').replaceAll('{{MESSAGE_ID}}', ID));
    expect(parsed.bounces).toMatchObject([{ email: 'jordan@example.com', messageId: ID, kind: 'hard', status: '5.1.10' }]);
  });

  it('classifies the Gmail "unsolicited mail" refusal as policy, not as a bad address', async () => {
    const [b] = (await parseReport(raw('gmail-blocked-policy.eml'))).bounces;
    expect(b).toMatchObject({ email: 'reader@example.com', kind: 'policy', reason: 'spamdetected', status: '5.7.1' });
  });

  it('reports a delay as delayed', async () => {
    const parsed = await parseReport(raw('yahoo-delayed.eml'));
    expect(parsed.bounces).toMatchObject([{ email: 'slowpoke@example.net', kind: 'delayed', status: '4.7.0' }]);
  });

  it('falls back to the text of a non-MIME Exim bounce, Message-ID from the quoted copy', async () => {
    const parsed = await parseReport(raw('exim-legacy-plaintext.eml').replaceAll('{{MESSAGE_ID}}', ID));
    expect(parsed.bounces).toMatchObject([{ email: 'olduser@example.net', messageId: ID, kind: 'hard', reason: 'userunknown', status: '5.1.1', source: 'dsn' }]);
  });

  it('reads a complaint with Original-Rcpt-To and no Message-ID', async () => {
    const parsed = await parseReport(raw('arf-generic-complaint.eml'));
    expect(parsed).toEqual({ bounces: [{ email: 'grumpy@example.org', messageId: null, kind: 'complaint', reason: 'complaint', status: null, diagnostic: 'feedback-type: abuse', source: 'arf' }] });
  });

  it('reads the Message-ID of the original in a Yahoo complaint (parts marked inline, as RFC 5965 shows them)', async () => {
    const parsed = await parseReport(raw('arf-yahoo-complaint.eml').replaceAll('{{MESSAGE_ID}}', ID));
    expect(parsed.bounces).toEqual([{ email: null, messageId: ID, kind: 'complaint', reason: 'complaint', status: null, diagnostic: 'feedback-type: abuse', source: 'arf' }] satisfies ReportedBounce[]);
  });

  it('reads the same Yahoo complaint with the original as a plain (not inline) part', async () => {
    const attached = raw('arf-yahoo-complaint.eml').replaceAll('{{MESSAGE_ID}}', ID).replace('Content-Type: message/rfc822\nContent-Disposition: inline\n', 'Content-Type: message/rfc822\n');
    const parsed = await parseReport(attached);
    expect(parsed.bounces).toMatchObject([{ email: null, messageId: ID, kind: 'complaint' }]);
  });

  it('is not fooled by an auto-reply', async () => {
    expect(await parseReport(raw('outlook-auto-reply.eml'))).toEqual({ bounces: [], note: 'an automatic reply (out of office), not a bounce' });
  });

  it('passes over a feedback report that is not a complaint', async () => {
    const parsed = await parseReport(raw('arf-generic-complaint.eml').replace('Feedback-Type: abuse', 'Feedback-Type: not-spam'));
    expect(parsed).toEqual({ bounces: [], note: 'a feedback report of type not-spam, not a complaint' });
  });
});
