// The message for one delivery, composed by nodemailer and read back by mailparser: hostile values
// never add a header or break one.
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeMessage } from '../../src/delivery/compose.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { tempDir, testConfig } from '../helpers/context.ts';
import { readFileSync } from 'node:fs';

const dir = tempDir('recap-compose-');
const config = testConfig(dir, { MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>', MAIL_REPLY_TO: 'editors@recap.test' });

async function compose(overrides: { subject?: string; name?: string | null }) {
  const message = composeMessage(config, {
    subject: overrides.subject ?? 'Weekly AI Recap #1: A story',
    listSlug: 'weekly-ai-recap',
    listName: 'Weekly AI Recap',
    recipient: { email: 'ada@example.com', name: overrides.name === undefined ? 'Ada' : overrides.name },
    body: { html: '<p>Hello</p>', text: 'Hello' },
    unsubscribeUrl: 'https://recap.test/unsubscribe/abc.def',
    unsubscribeToken: 'abc.def',
    messageId: '<id-1@recap.test>',
    date: new Date('2026-11-30T08:00:00Z'),
  });
  const submission = await outboxTransport(dir).submit(message, { folder: '2026-W48', id: '0000001', email: 'ada@example.com' });
  const raw = readFileSync(submission.path as string, 'utf8');
  return { raw, parsed: await simpleParser(raw) };
}

describe('composeMessage', () => {
  it('keeps a subject with CR/LF on one header line and adds no header', async () => {
    const { raw, parsed } = await compose({ subject: 'Big news\r\nBcc: victim@example.com\r\n\r\n<b>body</b>' });
    expect(parsed.subject).toBe('Big news Bcc: victim@example.com <b>body</b>');
    expect(parsed.bcc).toBeUndefined();
    expect(raw).not.toMatch(/^Bcc:/im);
  });

  it('keeps a recipient name with CR/LF and quotes inside the To header', async () => {
    const { raw, parsed } = await compose({ name: 'Mallory"\r\nCc: victim@example.com' });
    expect(parsed.cc).toBeUndefined();
    expect(raw).not.toMatch(/^Cc:/im);
    const to = parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : [];
    expect(to).toHaveLength(1);
    expect(to[0]?.address).toBe('ada@example.com');
  });

  it('writes From, Reply-To, Date and Message-ID from the configuration and the delivery', async () => {
    const { parsed } = await compose({ name: null });
    expect(parsed.from?.value[0]).toEqual({ address: 'recap@recap.test', name: 'Weekly AI Recap' });
    expect(parsed.replyTo?.value[0]?.address).toBe('editors@recap.test');
    expect(parsed.messageId).toBe('<id-1@recap.test>');
    expect(parsed.date?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
  });

  it('encodes non-ASCII subjects and names as encoded words', async () => {
    const { raw, parsed } = await compose({ subject: 'Zoë’s pick: €3 billion', name: 'Zoë Müller' });
    expect(parsed.subject).toBe('Zoë’s pick: €3 billion');
    expect(raw).toMatch(/^Subject: =\?UTF-8\?/m);
  });
});
