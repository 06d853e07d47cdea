// Internationalised and unusual addresses, sent for real to smtp-server on loopback: an IDN domain
// goes out as punycode in RCPT TO; a UTF-8 local part goes out with SMTPUTF8 when the relay offers
// it, and fails with a reply that says why (without suppressing the reader) when it does not.
import { afterEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { createTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let ctx: TestContext;
let sink: SmtpSink;

/** As typed → as stored and sent. */
const READERS = {
  'Ada@Bücher.Example': 'ada@xn--bcher-kva.example',
  '"john..doe"@example.org': '"john..doe"@example.org',
  'user%relay@example.org': 'user%relay@example.org',
  'josé@example.com': 'josé@example.com',
};

async function sendTo(smtpUtf8: boolean) {
  sink = await startSmtpSink({ smtpUtf8, quotedLocalParts: true });
  ctx = await createTestContext({ SMTP_URL: sink.url });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  for (const typed of Object.keys(READERS)) await addSubscriber(ctx, typed);
  const stored = await ctx.db.selectFrom('subscribers').select('email').orderBy('email').execute();
  expect(stored.map((s) => s.email)).toEqual(Object.values(READERS).sort());
  const report = await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
  if (report.kind !== 'sent') throw new Error(report.kind);
  const deliveries = await ctx.db
    .selectFrom('deliveries')
    .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
    .select(['subscribers.email', 'subscribers.status as subscriber', 'deliveries.status', 'deliveries.error', 'deliveries.reason'])
    .execute();
  return { report, byEmail: new Map(deliveries.map((d) => [d.email, d])) };
}

afterEach(async () => {
  await sink.close();
  await ctx.close();
});

describe('sending to internationalised and quoted addresses', () => {
  it('sends an IDN domain as punycode, quoted and % local parts as they are, and a UTF-8 local part with SMTPUTF8', async () => {
    const { byEmail } = await sendTo(true);
    for (const email of Object.values(READERS)) expect(byEmail.get(email)?.status, email).toBe('submitted');
    const rcpt = sink.commands.filter((c) => c.startsWith('RCPT TO:'));
    expect(rcpt.sort()).toEqual(Object.values(READERS).map((e) => `RCPT TO:<${e}>`).sort());
    const session = [...sink.sessions.values()].find((commands) => commands.includes('RCPT TO:<josé@example.com>')) ?? [];
    const mailFromJose = session[session.indexOf('RCPT TO:<josé@example.com>') - 1];
    expect(mailFromJose).toMatch(/^MAIL FROM:<recap@recap\.test>.* SMTPUTF8/);
    // The To header carries the address as the envelope did (mailparser would show it decoded).
    const idn = sink.messages.find((m) => m.to.some((to) => to.startsWith('ada@')));
    expect(idn?.raw).toMatch(/^To: ada@xn--bcher-kva\.example\r?$/m);
  });

  it('fails only the UTF-8 local part when the relay lacks SMTPUTF8, saying so, and suppresses nobody', async () => {
    const { report, byEmail } = await sendTo(false);
    const jose = byEmail.get('josé@example.com');
    expect(jose).toMatchObject({ status: 'failed', reason: 'policyviolation', subscriber: 'active' });
    expect(jose?.error).toMatch(/SMTPUTF8 \(RFC 6531\).*does not offer/);
    expect(sink.commands.some((c) => c.includes('josé'))).toBe(false);
    for (const email of ['ada@xn--bcher-kva.example', '"john..doe"@example.org', 'user%relay@example.org']) expect(byEmail.get(email)?.status, email).toBe('submitted');
    expect(sink.commands).toContain('RCPT TO:<ada@xn--bcher-kva.example>');
    expect(await ctx.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
    expect(report.kind === 'sent' && report.outcome.pausedBecause).toBeFalsy();
  });
});
