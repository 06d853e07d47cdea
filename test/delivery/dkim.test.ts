// DKIM signatures checked by an independent verifier (mailauth) with a stub DNS resolver.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { composeMessage } from '../../src/delivery/compose.ts';
import { KeyObject } from 'node:crypto';
import { dkimTxtValue, generateDkimKey } from '../../src/delivery/dkim.ts';
import { messageTemplate, spliceMessage } from '../../src/delivery/mime-template.ts';
import { newNonce, placeholders } from '../../src/render/personalize.ts';
import { createTransport, outboxTransport } from '../../src/delivery/transport.ts';
import { importArticles } from '../../src/articles/import.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestContext, tempDir, testConfig, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let key: ReturnType<typeof generateDkimKey>;
beforeAll(() => {
  key = generateDkimKey(2048);
});

/** DNS as the verifier sees it: the TXT record we tell operators to publish. */
function resolver(records: Record<string, string>) {
  return async (name: string, type: string) => {
    const value = records[name.toLowerCase()];
    if (type !== 'TXT' || value === undefined) throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    // A TXT record's strings, joined the way a resolver would hand them over.
    return [[...value.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string)];
  };
}

const dnsFor = (publicKey: string) => resolver({ 'recap2026._domainkey.recap.test': dkimTxtValue(publicKey) });

async function signedRaw(env: Record<string, string>, subject = 'Weekly AI Recap #1: A story') {
  const dir = tempDir('recap-dkim-');
  const config = testConfig(dir, env);
  const message = composeMessage(config, {
    subject,
    listSlug: 'weekly-ai-recap',
    listName: 'Weekly AI Recap',
    recipient: { email: 'ada@example.com', name: 'Ada' },
    body: { html: '<p>Hello</p>', text: 'Hello' },
    unsubscribeUrl: 'https://recap.test/unsubscribe/abc.def',
    unsubscribeToken: 'abc.def',
    messageId: '<id-1@recap.test>',
    date: new Date('2026-11-30T08:00:00Z'),
  });
  const submission = await outboxTransport(dir).submit(message, { folder: 'w', id: '1', email: 'ada@example.com' });
  return readFileSync(submission.path as string, 'utf8');
}

const dkimEnv = () => ({ DKIM_DOMAIN: 'recap.test', DKIM_SELECTOR: 'recap2026', DKIM_PRIVATE_KEY: key.privateKeyPem });

describe('DKIM signing', () => {
  it('signs rsa-sha256 over the headers that matter, and the signature verifies', async () => {
    const raw = await signedRaw(dkimEnv());
    const result = await dkimVerify(raw, { resolver: dnsFor(key.publicKeyBase64) });
    const [signature] = result.results;
    expect(signature?.status.result).toBe('pass');
    expect(signature?.signingDomain).toBe('recap.test');
    const header = (/^DKIM-Signature:(.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1] ?? '').replace(/\r\n\s+/g, ' ');
    expect(header).toContain('a=rsa-sha256');
    const signed = (/ h=([^;]+)/.exec(header)?.[1] ?? '').toLowerCase().replace(/\s+/g, '').split(':');
    for (const field of ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']) {
      expect(signed).toContain(field);
    }
  });

  it('fails verification when a signed header is changed in transit', async () => {
    const raw = await signedRaw(dkimEnv());
    const tampered = raw.replace('Subject: Weekly AI Recap #1: A story', 'Subject: Weekly AI Recap #1: Another story');
    const result = await dkimVerify(tampered, { resolver: dnsFor(key.publicKeyBase64) });
    expect(result.results[0]?.status.result).toBe('fail');
  });

  it('leaves messages unsigned without DKIM settings', async () => {
    expect(await signedRaw({})).not.toContain('DKIM-Signature:');
  });

  it('refuses an incomplete or unusable DKIM configuration at start', () => {
    const base = { DATABASE_URL: ':memory:' };
    expect(() => loadConfig({ ...base, DKIM_DOMAIN: 'recap.test' })).toThrow(/DKIM needs DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE or DKIM_PRIVATE_KEY/);
    expect(() => loadConfig({ ...base, ...dkimEnv(), DKIM_PRIVATE_KEY: 'not a key' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...dkimEnv(), DKIM_PRIVATE_KEY: undefined as unknown as string, DKIM_PRIVATE_KEY_FILE: '/nonexistent/key.pem' })).toThrow(/cannot read/);
    expect(() => loadConfig({ ...base, DKIM_DOMAIN: 'not a domain', DKIM_SELECTOR: 's', DKIM_PRIVATE_KEY: key.privateKeyPem })).toThrow(/DKIM_DOMAIN/);
  });
});

describe('DKIM on messages spliced from a template', () => {
  // Runs of spaces and tabs, trailing whitespace and long lines: the relaxed body canonicalization has work to do.
  const nonce = newNonce();
  const p = placeholders(nonce);
  const variant = {
    placeholder_nonce: nonce,
    text: `Hi ${p.name},  here   is\tthe week.   \n${'Zoë’s  pick. '.repeat(40)}\nUnsubscribe: ${p.unsubscribe_url}\nYou get this because ${p.email} subscribed.  \n`,
    html: `<p>Hi ${p.name},</p>${'<p>Story  with   spaces\tand a tab. €</p>'.repeat(60)}<a href="${p.unsubscribe_url}">Unsubscribe</a> <a href="${p.preferences_url}">Preferences</a>  `,
  };
  const shared = { subject: 'Weekly AI Recap #1: A story', listSlug: 'weekly-ai-recap', listName: 'Weekly AI Recap' };

  async function spliced(name: string | null, email: string, env = dkimEnv()) {
    const config = testConfig(tempDir('recap-dkim-'), env);
    const template = await messageTemplate(config, variant, shared);
    const url = `https://recap.test/unsubscribe/tok-${email}`;
    return spliceMessage(template, {
      recipient: { email, name },
      values: { name: name ?? 'there', email, unsubscribe_url: url, preferences_url: `https://recap.test/preferences/tok-${email}`, message_tag: '' },
      unsubscribeUrl: url,
      unsubscribeToken: `tok-${email}`,
      messageId: `<id-${email}@recap.test>`,
      date: new Date('2026-11-30T08:00:00Z'),
    });
  }

  it('holds the key as a KeyObject parsed once at start', () => {
    const config = testConfig(tempDir('recap-dkim-'), dkimEnv());
    expect(config.dkim?.privateKey).toBeInstanceOf(KeyObject);
  });

  it('signs every recipient’s message so that it verifies, non-ASCII names and addresses included', async () => {
    for (const [name, email] of [['Ada', 'ada@example.com'], ['Zoë  "the"\tMüller 😀', 'zoe@example.com'], ['   ', 'blank@example.com'], [null, 'josé@example.com'], ['x'.repeat(100), 'long@example.com']] as const) {
      const raw = await spliced(name, email);
      const result = await dkimVerify(raw, { resolver: dnsFor(key.publicKeyBase64) });
      expect(result.results[0]?.status.result, `${name} <${email}>`).toBe('pass');
    }
  });

  it('signs the same header fields as a message nodemailer signs', async () => {
    const hList = (raw: string) => /^DKIM-Signature:(?:.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[0].replace(/\r\n\s+/g, ' ').match(/ h=([^;]+)/)?.[1];
    const ours = hList((await spliced('Ada', 'ada@example.com')).toString());
    expect(ours).toBe(hList(await signedRaw(dkimEnv())));
    expect(ours?.split(':')).toContain('list-unsubscribe-post');
  });

  it('fails verification when the body or a signed header is changed in transit', async () => {
    const raw = (await spliced('Ada', 'ada@example.com')).toString();
    const body = await dkimVerify(raw.replace('Story  with', 'Story with more'), { resolver: dnsFor(key.publicKeyBase64) });
    // mailauth calls a body that does not match its hash "neutral" (RFC 6376 6.3 leaves the word to the verifier).
    expect(body.results[0]?.status).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    const header = await dkimVerify(raw.replace('To: Ada', 'To: Eve'), { resolver: dnsFor(key.publicKeyBase64) });
    expect(header.results[0]?.status.result).toBe('fail');
  });

  it('leaves spliced messages unsigned without DKIM settings', async () => {
    expect((await spliced('Ada', 'ada@example.com', {} as ReturnType<typeof dkimEnv>)).toString()).not.toContain('DKIM-Signature:');
  });
});

describe('DKIM on a real send', () => {
  let ctx: TestContext;
  let sink: SmtpSink;
  afterEach(async () => {
    await sink.close();
    await ctx.close();
  });

  it('signs every message of an edition sent over SMTP', async () => {
    sink = await startSmtpSink();
    ctx = await createTestContext({ SMTP_URL: sink.url, RECAP_RATE: '0', ...dkimEnv() });
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    await addSubscriber(ctx, 'ada@example.com', { name: 'Ada', topics: ['compute'] });
    await addSubscriber(ctx, 'bo@example.org');
    await runWeeklyRecap(ctx, testIo(ctx, () => createTransport(ctx.config)), { week: '2026-W48' });
    expect(sink.messages).toHaveLength(2);
    for (const m of sink.messages) {
      const result = await dkimVerify(m.raw, { resolver: dnsFor(key.publicKeyBase64) });
      expect(result.results[0]?.status.result).toBe('pass');
    }
  });
});

describe('recap dkim keygen', () => {
  it('writes a 2048-bit key and prints a DKIM record that verifies what the key signs, plus SPF and DMARC advice', async () => {
    const dir = tempDir('recap-keygen-');
    const out = join(dir, 'recap2026.pem');
    const result = await runCli(['dkim', 'keygen', '--domain', 'recap.test', '--selector', 'recap2026', '--out', out], { cwd: dir });
    expect(result.code).toBe(0);
    const record = /recap2026\._domainkey\.recap\.test\.\s+IN TXT\s+(.+)$/m.exec(result.stdout)?.[1] as string;
    expect(record).toMatch(/^"v=DKIM1; k=rsa; p=/);
    expect(result.stdout).toContain('v=spf1');
    expect(result.stdout).toContain('_dmarc.recap.test.');
    const raw = await signedRaw({ DKIM_DOMAIN: 'recap.test', DKIM_SELECTOR: 'recap2026', DKIM_PRIVATE_KEY_FILE: out });
    const verified = await dkimVerify(raw, { resolver: resolver({ 'recap2026._domainkey.recap.test': record }) });
    expect(verified.results[0]?.status.result).toBe('pass');
    // Never overwrites a key.
    const again = await runCli(['dkim', 'keygen', '--domain', 'recap.test', '--selector', 'recap2026', '--out', out], { cwd: dir });
    expect(again.code).toBe(2);
  });
});
