// Whom the greeting names: the first name a subscriber set, else one taken from their name, else
// "there"; and every email that greets uses it (the weekly recap through a real send, spliced per
// recipient into the variant's message; the confirmation and welcome emails are in test/web/routes.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importArticles } from '../../src/articles/import.ts';
import { firstNameOf, greetingName, MAX_FIRST_NAME_LENGTH } from '../../src/audience/first-name.ts';
import { MAX_NAME_LENGTH, subscriberInputSchema, upsertSubscriber } from '../../src/audience/subscribers.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';

describe('firstNameOf', () => {
  it.each([
    ['Ada Lindqvist', 'Ada'],
    ['Okafor, Chidi', 'Chidi'],
    ['Okafor,Chidi Emeka', 'Chidi'],
    ['van der Berg, Jan', 'Jan'],
    ['Ada Lindqvist, PhD', 'Ada'],
    ['Lindqvist, Ada, Ph.D.', 'Ada'],
    ['King, Martin Luther, Jr.', 'Martin'],
    ['Dr. Ada Lindqvist', 'Ada'],
    ['Prof Ada', 'Ada'],
    ['  Zoë   Müller ', 'Zoë'],
    ['Ada-Marie Lindqvist', 'Ada-Marie'],
    ["Tom O'Connell", 'Tom'],
    ["O'Connell, Tom", 'Tom'],
    ['"Ada" Lindqvist', 'Ada'],
    ['Mallory "the boss" O\'Brien <mallory@evil.test>', 'Mallory'],
    ['🚀😀 Ada 👩‍💻 Lovelace 🇸🇪', 'Ada'],
    ['Ada😀', 'Ada'],
    ['Madonna', 'Madonna'],
    ['王 小明', '王'],
    ['ada@example.com', null],
    ['https://evil.test/x', null],
    ['Okafor,', 'Okafor'],
    [', Chidi', 'Chidi'],
    [',,,', null],
    ['😀 😀', null],
    ['""""', null],
    ['Dr.', null],
    ['', null],
    [null, null],
  ])('%j → %j', (name, first) => {
    expect(firstNameOf(name)).toBe(first);
  });

  it('never keeps a comma, a bidi override or a control character, and never an overlong word', () => {
    expect(firstNameOf('Okafor, Chidi')).not.toContain(',');
    expect(firstNameOf('\u202eAda\u202c Lindqvist')).toBe('Ada');
    expect(firstNameOf('Ada\r\nBcc: victim@example.com')).toBe('Ada');
    expect(firstNameOf('\u0007Ada\u001b Lindqvist')).toBe('Ada');
    expect(firstNameOf('x'.repeat(MAX_FIRST_NAME_LENGTH))).toBe('x'.repeat(MAX_FIRST_NAME_LENGTH));
    expect(firstNameOf('x'.repeat(MAX_FIRST_NAME_LENGTH + 1))).toBeNull();
    expect(firstNameOf(`${'Ä'.repeat(MAX_NAME_LENGTH)} Ada`)).toBeNull();
  });
});

describe('greetingName', () => {
  it('uses the first name the subscriber set, then the name, then "there"', () => {
    expect(greetingName({ firstName: 'Chidi-Emeka', name: 'Okafor, Chidi' })).toBe('Chidi-Emeka');
    expect(greetingName({ firstName: null, name: 'Okafor, Chidi' })).toBe('Chidi');
    expect(greetingName({ firstName: '  ', name: 'Ada Lindqvist' })).toBe('Ada');
    expect(greetingName({ firstName: null, name: null })).toBe('there');
    expect(greetingName({ firstName: null, name: 'ada@example.com' })).toBe('there');
    // A stored first name is plain text on one line, whatever was written into the database.
    expect(greetingName({ firstName: '\u202eAda\r\nBcc: x@evil.test', name: null })).toBe('Ada Bcc: x@evil.test');
  });
});

describe('the greeting of every weekly recap', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  });
  afterEach(async () => {
    await ctx.close();
  });

  async function add(email: string, name: string | null, firstName: string | null, topics: string[]) {
    const now = ctx.clock.now().toISOString();
    const input = subscriberInputSchema.parse({ email, name, firstName, topics, status: 'active', consent: { at: now, source: 'test', confirmedAt: now } });
    await ctx.db.transaction().execute((trx) => upsertSubscriber(trx, ctx.listId, input, ctx.clock.now()));
  }

  it('greets each reader by their own first name in the HTML and the text part, within one variant', async () => {
    // Everyone follows policy: one variant, rendered once, the names spliced in per recipient.
    const readers: Array<[string, string | null, string | null, string]> = [
      ['chidi@example.org', 'Okafor, Chidi', null, 'Chidi'],
      ['ada@example.com', 'Ada Lindqvist', null, 'Ada'],
      ['set@example.com', 'Okafor, Chidi', 'Chidi-Emeka', 'Chidi-Emeka'],
      ['nobody@example.com', null, null, 'there'],
      ['bidi@example.com', '\u202eLindqvist\u202c, Ada', null, 'Ada'],
      ['markup@example.com', null, '<b>Bob</b> & "Co"', '<b>Bob</b> & "Co"'],
      ['long@example.com', 'x'.repeat(MAX_NAME_LENGTH), null, 'there'],
      ['emoji@example.com', '🚀 Åsa 👩‍💻', null, 'Åsa'],
    ];
    for (const [email, name, firstName] of readers) await add(email, name, firstName, ['policy']);
    const report = await runWeeklyRecap(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir)), { week: '2026-W48' });
    if (report.kind !== 'sent') throw new Error(report.kind);
    const variants = await ctx.db.selectFrom('variants').select('topics_key').execute();
    expect(variants).toEqual([{ topics_key: 'policy' }]);

    const dir = join(ctx.config.outboxDir, '2026-W48');
    const mails = await Promise.all(readdirSync(dir).map(async (f) => simpleParser(readFileSync(join(dir, f)))));
    expect(mails).toHaveLength(readers.length);
    for (const [email, name, , greeting] of readers) {
      const mail = mails.find((m) => !Array.isArray(m.to) && m.to?.value[0]?.address === email);
      const text = (mail?.text ?? '').replace(/\s+/g, ' ');
      const html = (mail?.html || '').replace(/<!-- -->/g, '');
      expect(text, email).toContain(`Hi ${greeting}, here are`);
      const escaped = greeting.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
      expect(html, email).toContain(`Hi ${escaped}, here`);
      expect(html, email).not.toContain('<b>Bob</b>');
      expect(text + html, email).not.toContain('Okafor');
      expect(text + html, email).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      // The To header keeps the whole name.
      if (name === 'Okafor, Chidi') expect(!Array.isArray(mail?.to) && mail?.to?.value[0]?.name, email).toBe('Okafor, Chidi');
    }
  });
});

describe('storing the first name', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(async () => {
    await ctx.close();
  });

  const input = (firstName: string | null, name: string | null = 'Okafor, Chidi') =>
    subscriberInputSchema.parse({ email: 'chidi@example.org', name, firstName, status: 'active', consent: { source: 'test' } });
  const upsert = (firstName: string | null, name?: string | null) => ctx.db.transaction().execute((trx) => upsertSubscriber(trx, ctx.listId, input(firstName, name), ctx.clock.now()));
  const row = () => ctx.db.selectFrom('subscribers').select(['name', 'first_name']).executeTakeFirstOrThrow();

  it('keeps it on a re-import without one, and changes it when a new one comes', async () => {
    expect(await upsert('Chidi')).toBe('inserted');
    expect(await row()).toEqual({ name: 'Okafor, Chidi', first_name: 'Chidi' });
    expect(await upsert(null)).toBe('unchanged');
    expect(await upsert('Chidi')).toBe('unchanged');
    expect(await upsert('Emeka')).toBe('updated');
    expect(await row()).toEqual({ name: 'Okafor, Chidi', first_name: 'Emeka' });
  });

  it('stores it as one plain line and refuses an overlong one, naming the field', () => {
    expect(input('\u202eChidi\r\n\tEmeka').firstName).toBe('Chidi Emeka');
    const parsed = subscriberInputSchema.safeParse({ email: 'a@example.com', firstName: 'x'.repeat(MAX_FIRST_NAME_LENGTH + 1), status: 'active' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['firstName'], message: `longer than ${MAX_FIRST_NAME_LENGTH} characters` });
  });
});
