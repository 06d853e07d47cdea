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
    writeFileSync(join(inbox, 'notes.json'), '{"not": "a message"}'); // not read: neither .eml, .mbox, .msg nor .txt

    const result = await runCli(['bounces', 'import', inbox], { cwd, env: env() });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      // 7 files + the mbox's 4 messages; the mbox holds two hard bounces, a policy refusal and a complaint.
      '11 messages read: 4 hard bounces, 1 soft, 2 policy rejections, 2 complaints, 1 delays (ignored)',
      '6 addresses suppressed; 1 reports about addresses we never mailed (recorded)',
    ]);
    expect(result.stderr.trimEnd().split('\n')).toEqual([`  skipped ${join(inbox, 'outlook-auto-reply.eml')}: neither a delivery status notification nor a feedback report`]);

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
      `  skipped ${join(FIXTURES, 'outlook-auto-reply.eml')}: neither a delivery status notification nor a feedback report`,
    ]);
  });
});
