// A message spliced from the variant's template is the message composeMessage + nodemailer write
// for the same recipient, byte for byte apart from the boundary (Date and Message-ID are given the
// same), and both pass Python's email parser and mailparser with every line within its limit.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { type StoredArticle, articleSchema } from '../../src/articles/article.ts';
import { MAX_NAME_LENGTH } from '../../src/audience/subscribers.ts';
import { clickUrl } from '../../src/delivery/clicks.ts';
import { composeMessage } from '../../src/delivery/compose.ts';
import { generateDkimKey } from '../../src/delivery/dkim.ts';
import { type MessageTemplate, type Recipient, messageTemplate, spliceMessage } from '../../src/delivery/mime-template.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { parseVariantKey } from '../../src/render/arrange.ts';
import { newMessageTag, newNonce, personalize, placeholders } from '../../src/render/personalize.ts';
import { type EditionForRender, renderVariant } from '../../src/render/variant.ts';
import { article, sampleArticles } from '../helpers/articles.ts';
import { tempDir, testConfig } from '../helpers/context.ts';

const dir = tempDir('recap-mime-');
const config = testConfig(dir, { MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>', MAIL_REPLY_TO: 'editors@recap.test' });
const shared = { subject: 'Weekly AI Recap #7: Zoë’s pick — €3 billion for “compute”, and a subject long enough to fold', listSlug: 'weekly-ai-recap', listName: 'Weekly AI Recap' };

function stored(inputs: Parameters<typeof articleSchema.parse>[0][]): StoredArticle[] {
  return rankArticles(inputs.map((input, i) => ({ ...articleSchema.parse(input), id: i + 1 })));
}

function edition(stories: StoredArticle[], editorNote: string | null): EditionForRender {
  // Two subjects: the tracked case renders the arm-1 variant of a subject test (`|brief|s1`).
  return { listName: 'Weekly AI Recap', number: 7, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.', editorNote, subjects: ['The week in AI', 'Seven stories'], stories };
}

// Deterministic "random" names: runs of spaces, "=", quotes, markup, accents, CJK and emoji, of every length up to the limit.
function fuzzNames(count: number): string[] {
  const alphabet = ['a', 'Z', ' ', ' ', '  ', '=', '"', "'", '<', '&', '.', ',', '?', 'é', 'ß', '€', '中', '😀', '\t', '-', '_', '0'];
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, () => {
    let name = '';
    const length = Math.floor(next() * MAX_NAME_LENGTH) + 1;
    while (name.length < length) name += alphabet[Math.floor(next() * alphabet.length)];
    return name.slice(0, MAX_NAME_LENGTH);
  });
}

const HOSTILE: Array<{ email: string; name: string | null }> = [
  { email: 'ada@example.com', name: 'Ada' },
  { email: 'zoe@example.com', name: 'Zoë Müller-Lüdenscheidt' },
  { email: 'mallory@example.com', name: 'Mallory "the boss" O\'Brien <mallory@evil.test>' },
  { email: 'eve@example.com', name: 'Eve\r\nBcc: victim@example.com\r\n\r\n<b>body</b>' },
  { email: 'rocket@example.com', name: '🚀😀 Ada 👩‍💻 Lovelace 🇸🇪' },
  { email: 'long@example.com', name: 'Ä'.repeat(MAX_NAME_LENGTH) },
  { email: 'long2@example.com', name: `${'x'.repeat(MAX_NAME_LENGTH - 1)} ` },
  { email: 'quote@example.com', name: '"'.repeat(MAX_NAME_LENGTH) },
  { email: 'eq@example.com', name: '= =3D =\r\n =' },
  { email: 'blank@example.com', name: '   ' },
  { email: 'nobody@example.com', name: null },
  { email: 'josé@example.com', name: 'José' },
  ...fuzzNames(40).map((name, i) => ({ email: `fuzz${i}@example.com`, name })),
];

function recipient(r: { email: string; name: string | null }, i: number): Recipient {
  const token = `dW5zdWJzY3JpYmUuMS4${i}.LcIaD5L5b-rakTVN7QoqLTnT-${'x'.repeat(i)}`;
  const unsubscribeUrl = `https://recap.test/unsubscribe/${token}`;
  const date = new Date(Date.UTC(2026, 10, 30, 8, 0, i));
  return {
    recipient: r,
    values: { name: r.name ?? 'there', email: r.email, unsubscribe_url: unsubscribeUrl, preferences_url: `https://recap.test/preferences/${token}`, message_tag: newMessageTag(date) },
    unsubscribeUrl,
    unsubscribeToken: token,
    messageId: `<recap.1.${i}.abc@recap.test>`,
    date,
  };
}

/** The plain way: nodemailer composes the personalized body, the outbox writes it. */
async function plainMessage(variant: { html: string; text: string; placeholder_nonce: string }, r: Recipient, i: number): Promise<Buffer> {
  const message = composeMessage(config, { ...shared, ...r, body: personalize(variant, r.values) });
  const submission = await outboxTransport(dir).submit(message, { folder: 'plain', id: String(i), email: r.recipient.email });
  return readFileSync(submission.path as string);
}

const withoutBoundaries = (raw: Buffer) => raw.toString('utf8').replace(/--_NmP-[0-9a-f]+-Part_1/g, 'BOUNDARY');

interface Case {
  variant: { html: string; text: string; placeholder_nonce: string };
  template: MessageTemplate;
}

/** With `tracked`, story links are counted ones (RECAP_TRACK_CLICKS): each carries the message's tag, a value of its own. */
async function variantCase(stories: StoredArticle[], note: string | null, tracked = false): Promise<Case> {
  const link = (a: StoredArticle, v: { key: string; messageTag: string }) => clickUrl('https://recap.test', 'secret', 1, a, parseVariantKey(v.key), v.messageTag);
  const rendered = await renderVariant(edition(stories, note), tracked ? '|brief|s1' : '', { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin', ...(tracked ? { link } : {}) });
  const variant = { html: rendered.html, text: rendered.text, placeholder_nonce: rendered.nonce };
  return { variant, template: await messageTemplate(config, variant, shared) };
}

/** Python's email package reads every file without a defect; returns each message's decoded parts. */
function pythonParts(files: string[]): Array<{ defects: string[]; parts: Record<string, string> }> {
  const script = `
import sys, json, email.parser, email.policy
out = []
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        msg = email.parser.BytesParser(policy=email.policy.default).parse(f)
    defects, parts = [], {}
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
        if part.get_content_maintype() == 'text':
            parts[part.get_content_type()] = part.get_content()
    out.append({'defects': defects, 'parts': parts, 'to': str(msg['to'])})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as Array<{ defects: string[]; parts: Record<string, string> }>;
}

function lineLimits(raw: Buffer): void {
  const text = raw.toString('latin1');
  const lines = text.split('\r\n');
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(998);
  // Every line of the quoted-printable parts (after each part's blank line, up to the next boundary).
  const parts = text.split(/\r\n--BOUNDARY|\r\n----_NmP-[0-9a-f]+-Part_1/).slice(1, -1);
  for (const part of parts) {
    const body = part.slice(part.indexOf('\r\n\r\n') + 4);
    for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  }
}

describe('a message spliced from its variant’s template', () => {
  const cases: Record<string, Case> = {};
  beforeAll(async () => {
    cases.sample = await variantCase(stored(sampleArticles()), 'Infrastructure beat models again this week.\n\nStart with the top story:   it matters.');
    // Long unbroken runs of escapes and spaces: the wrapping has to catch up after each value.
    // Over 64 KiB of HTML: nodemailer's encoder takes it in slices.
    cases.large = await variantCase(stored([...sampleArticles(), ...Array.from({ length: 40 }, (_, i) => article({ hook: `Hook ${i}: ${'Zoë’s long story about “compute”. '.repeat(12)}` }))]), null);
    expect(Buffer.byteLength(cases.large.variant.html)).toBeGreaterThan(64 * 1024);
    // Plain ASCII in short lines: nodemailer writes such a part 7bit, unless a reader's values change that.
    const nonce = newNonce();
    const p = placeholders(nonce);
    const ascii = { placeholder_nonce: nonce, text: `Hi ${p.name},\nshort lines only.\n`, html: `<p>Hi ${p.name}</p>\n<p>${p.email}</p>\n` };
    cases.ascii = { variant: ascii, template: await messageTemplate(config, ascii, shared) };
    // Carriage returns in the text itself (CRLF and lone CR), in a part long enough to have lines of its own, and in one that may go 7bit.
    const cr = { placeholder_nonce: nonce, text: `Hi ${p.name},\r\nshort\rlines.\r\n${p.email}\r\n`, html: `<p>Hi ${p.name}</p>\r\n${'<p>Zoë’s story\r, told at length.</p>\r\n'.repeat(20)}<a href="${p.unsubscribe_url}">x</a>\r` };
    cases.cr = { variant: cr, template: await messageTemplate(config, cr, shared) };
    cases.tracked = await variantCase(stored(sampleArticles()), 'Counted links: a tag in each.', true);
    expect(cases.tracked.variant.html).toContain(`:message_tag%%`);
    cases.dense = await variantCase(stored([article({ title: '€'.repeat(120), hook: `${'= '.repeat(150)}${'ü'.repeat(200)}` }), article({ hook: `trailing spaces    \n${'x'.repeat(300)}` })]), '€'.repeat(30));
  }, 60_000);

  it('is byte for byte what nodemailer composes for the same recipient, apart from the boundary', async () => {
    const encodings = new Set<string | undefined>();
    for (const c of Object.values(cases)) {
      for (const [i, r] of HOSTILE.entries()) {
        const rec = recipient(r, i);
        const spliced = spliceMessage(c.template, rec);
        const plain = await plainMessage(c.variant, rec, i);
        expect(withoutBoundaries(spliced), `recipient ${i} ${JSON.stringify(r.name)}`).toBe(withoutBoundaries(plain));
        encodings.add(/Content-Transfer-Encoding: (\S+)/.exec(spliced.toString())?.[1]);
      }
    }
    expect([...encodings].sort()).toEqual(['7bit', 'quoted-printable']);
  }, 120_000);

  it('holds the variant as bytes: no full-size strings, each line once (DKIM’s canonical form only where it differs)', async () => {
    /** Every string's length and every byte array's bytes the template holds (nodemailer's header encoder aside). */
    function held(template: MessageTemplate) {
      const strings: number[] = [];
      const arrays = new Set<ArrayBufferView>();
      const seen = new Set<object>();
      const visit = (v: unknown): void => {
        if (typeof v === 'string') strings.push(v.length);
        else if (ArrayBuffer.isView(v)) arrays.add(v);
        else if (v && typeof v === 'object' && !seen.has(v)) {
          seen.add(v);
          for (const x of Object.values(v)) visit(x);
        }
      };
      visit({ ...template, headerNode: undefined, dkim: undefined });
      return { longest: Math.max(...strings), chars: strings.reduce((n, s) => n + s, 0), bytes: [...arrays].reduce((n, a) => n + a.byteLength, 0) };
    }
    const dkimConfig = testConfig(dir, { MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>', DKIM_DOMAIN: 'recap.test', DKIM_SELECTOR: 's', DKIM_PRIVATE_KEY: generateDkimKey(1024).privateKeyPem });
    for (const name of ['sample', 'large'] as const) {
      const c = cases[name] as Case;
      const message = spliceMessage(c.template, recipient(HOSTILE[0] as { email: string; name: string | null }, 0)).length;
      const plain = held(c.template);
      // Strings: header fields, and around each value the lines that are wrapped again for every recipient.
      expect(plain.longest, name).toBeLessThanOrEqual(16 * 76);
      expect(plain.chars, name).toBeLessThan(message * 0.3);
      // The body's lines once, plus each line's start (a few bytes per 76 characters).
      expect(plain.bytes, name).toBeLessThan(message * 1.4);
      const signed = held(await messageTemplate(dkimConfig, c.variant, shared));
      expect(signed.longest, name).toBeLessThanOrEqual(16 * 76);
      // The sample's stretches have few runs of spaces: their canonical form is the same bytes.
      expect(signed.bytes - plain.bytes, name).toBeLessThan(message * 0.5);
    }
  });

  it('passes Python’s email parser and mailparser, with every line within its limit, both ways', async () => {
    const c = cases.tracked as Case;
    const files: string[] = [];
    const expected: Array<{ text: string; html: string; rec: Recipient }> = [];
    for (const [i, r] of HOSTILE.entries()) {
      const rec = recipient(r, i);
      const body = personalize(c.variant, rec.values);
      for (const [how, raw] of [['spliced', spliceMessage(c.template, rec)], ['plain', await plainMessage(c.variant, rec, i)]] as const) {
        const file = join(dir, `${how}-${i}.eml`);
        writeFileSync(file, raw);
        files.push(file);
        expected.push({ ...body, rec });
        lineLimits(raw);
        const parsed = await simpleParser(raw);
        expect(parsed.text).toBe(body.text);
        expect(parsed.html).toBe(body.html);
        expect(parsed.subject).toBe(shared.subject);
        expect(parsed.messageId).toBe(rec.messageId);
        expect(parsed.bcc).toBeUndefined();
        const to = parsed.to && !Array.isArray(parsed.to) ? parsed.to.value : [];
        expect(to.map((a) => a.address)).toEqual([r.email]);
      }
    }
    const read = pythonParts(files);
    for (const [i, m] of read.entries()) {
      expect(m.defects).toEqual([]);
      const want = expected[i] as { text: string; html: string };
      expect(m.parts['text/plain']).toBe(want.text);
      expect(m.parts['text/html']?.replace(/\n$/, '')).toBe(want.html.replace(/\n$/, ''));
    }
  }, 120_000);
});
