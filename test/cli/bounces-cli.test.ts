// `recap bounces import` as an operator runs it: on a folder of saved bounce messages, a single
// file, the whole fixture corpus; counts on stdout, each skipped message on stderr, and an exit code
// that says whether anything was passed over.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/bounces');
const env = () => ({ RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', MAIL_FROM: '"Weekly AI Recap" <recap@recap.test>' });

let cwd: string;

/** email → status, from `recap subscribers list`. */
async function statuses(): Promise<Map<string, string>> {
  const listed = await runCli(['subscribers', 'list'], { cwd, env: env() });
  expect(listed.code).toBe(0);
  const map = new Map<string, string>();
  for (const line of listed.stdout.split('\n').slice(1)) {
    const [email, status] = line.split(/\s+/);
    if (email && status) map.set(email, status);
  }
  return map;
}

beforeAll(async () => {
  cwd = tempDir('recap-bounces-cli-');
  expect((await runCli(['db', 'migrate'], { cwd, env: env() })).code).toBe(0);
  expect((await runCli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')], { cwd, env: env() })).code).toBe(0);
  const added = await runCli(['subscribers', 'add', 'nobody@example.com', '--name', 'Nobody'], { cwd, env: env() });
  expect(added.code).toBe(0);
  // The others in one go; ghost@example.org (sendmail-user-unknown) is left out on purpose.
  const csv = join(cwd, 'readers.csv');
  writeFileSync(csv, ['email,name', 'full@example.net,Full Edition Reader', 'olduser@example.net,', 'reader@example.com,Reader', 'slowpoke@example.net,', 'grumpy@example.org,', 'away@example.com,Sam Away', ''].join('\n'));
  const imported = await runCli(['subscribers', 'import', csv, '--confirmed'], { cwd, env: env() });
  expect(imported.code).toBe(0);
  expect(imported.stdout).toContain('6 new');
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('recap bounces import', () => {
  it('needs RECAP_SECRET (it checks our Message-IDs) and exits 2 without it', async () => {
    const result = await runCli(['bounces', 'import', FIXTURES], { cwd, env: { BASE_URL: 'https://recap.test' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RECAP_SECRET');
  });

  it('exits 2 on a path that does not exist', async () => {
    const result = await runCli(['bounces', 'import', join(cwd, 'no-such-folder')], { cwd, env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-folder');
  });

  it('imports a folder, prints the counts, names what it skipped and exits 1', async () => {
    const inbox = join(cwd, 'inbox');
    mkdirSync(inbox);
    for (const f of ['arf-generic-complaint.eml', 'bounces.mbox', 'gmail-blocked-policy.eml', 'outlook-auto-reply.eml', 'postfix-mailbox-full.eml', 'postfix-user-unknown.eml', 'sendmail-user-unknown.eml', 'yahoo-delayed.eml']) {
      copyFileSync(join(FIXTURES, f), join(inbox, f));
    }
    writeFileSync(join(inbox, 'notes.json'), '{"not": "a message"}'); // read like any file, and named: it is not mail

    const result = await runCli(['bounces', 'import', inbox], { cwd, env: env() });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      // 8 files (notes.json too) + the mbox's 4 messages; the mbox holds two hard bounces, a policy refusal and a complaint.
      '12 messages read: 4 hard bounces, 1 soft, 2 policy rejections, 2 complaints, 1 delays (ignored)',
      '6 addresses suppressed; 1 reports about addresses we never mailed (recorded)',
    ]);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `  skipped ${join(inbox, 'notes.json')}: not a mail message: it does not begin with header fields ("{"not": "a message"}")`,
      `  skipped ${join(inbox, 'outlook-auto-reply.eml')}: an automatic reply (out of office), not a bounce`,
    ]);

    const status = await statuses();
    expect(Object.fromEntries(status)).toEqual({
      'nobody@example.com': 'bounced',
      'full@example.net': 'active', // one soft bounce
      'olduser@example.net': 'bounced',
      'reader@example.com': 'active', // Gmail's policy refusal suppresses nothing
      'slowpoke@example.net': 'active', // a delay
      'grumpy@example.org': 'complained',
      'away@example.com': 'active', // an auto-reply
    });
  });

  it('reads a Maildir and subfolders at any depth; names an empty file and binary data apart; --verbose gives one line per message', async () => {
    const mail = join(cwd, 'mail');
    const maildir = join(mail, 'archive', 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
    // Maildir names: no extension, a colon and flags.
    copyFileSync(join(FIXTURES, 'postfix-user-unknown.eml'), join(maildir, 'cur', '1764576000.M1P2.host:2,S'));
    copyFileSync(join(FIXTURES, 'yahoo-delayed.eml'), join(maildir, 'new', '1764576001.M3P4.host'));
    // tmp/ holds deliveries still being written: not read.
    writeFileSync(join(maildir, 'tmp', '1764576002.M5P6.host'), 'From: half a mess');
    writeFileSync(join(mail, 'empty.eml'), '');
    writeFileSync(join(mail, 'garbage.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]));

    const result = await runCli(['bounces', 'import', '--verbose', mail], { cwd, env: env() });
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${join(maildir, 'cur', '1764576000.M1P2.host:2,S')}: hard bounce (userunknown) for nobody@example.com: address suppressed`,
      `${join(maildir, 'new', '1764576001.M3P4.host')}: delay for slowpoke@example.net: a delay, ignored`,
      `${join(mail, 'empty.eml')}: skipped: an empty file`,
      `${join(mail, 'garbage.bin')}: skipped: binary data, not a mail message`,
      '2 messages read: 1 hard bounces, 0 soft, 0 policy rejections, 0 complaints, 1 delays (ignored)',
      '1 addresses suppressed',
    ]);
    expect(result.stderr.trimEnd().split('\n')).toEqual([`  skipped ${join(mail, 'empty.eml')}: an empty file`, `  skipped ${join(mail, 'garbage.bin')}: binary data, not a mail message`]);
  });

  it('exits 0 when every message was read', async () => {
    const result = await runCli(['bounces', 'import', join(FIXTURES, 'postfix-mailbox-full.eml'), join(FIXTURES, 'yahoo-delayed.eml')], { cwd, env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('2 messages read: 0 hard bounces, 1 soft, 0 policy rejections, 0 complaints, 1 delays (ignored)\n0 addresses suppressed\n');
  });

  it('reads the whole fixture corpus', async () => {
    // 15 files and the mbox's 4 messages. Unsubstituted placeholders quote no Message-ID of ours: every report is matched by address,
    // so the Yahoo complaint, whose recipient is redacted, is skipped along with the auto-reply.
    const result = await runCli(['bounces', 'import', FIXTURES], { cwd, env: env() });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^19 messages read: 11 hard bounces, 1 soft, 2 policy rejections, 2 complaints, 1 delays \(ignored\)$/m);
    const skipped = result.stderr.trimEnd().split('\n');
    expect(skipped).toEqual([
      `  skipped ${join(FIXTURES, 'arf-yahoo-complaint.eml')}: the report names no recipient and quotes no message of ours`,
      `  skipped ${join(FIXTURES, 'outlook-auto-reply.eml')}: an automatic reply (out of office), not a bounce`,
    ]);
  });
});
