// `npm run demo` on a fresh folder: the main job on the embedded default, twice.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/context.ts';

let cwd: string;
let first: CliResult;
let second: CliResult;
const outbox = () => join(cwd, 'var/outbox/2026-W48');

beforeAll(async () => {
  cwd = tempDir('recap-demo-');
  first = await runCli(['demo'], { cwd });
  second = await runCli(['demo'], { cwd });
}, 90_000);

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('the demo', () => {
  it('needs no .env, server or account, and says what it did', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Database: migrated \(0001_initial, 0002_subscriber_pages, .*\)/);
    expect(first.stdout).toContain('Articles: data/sample/articles.json (json): 14 new, 0 updated, 0 unchanged, 0 failed');
    expect(first.stdout).toContain('Subscribers: data/sample/subscribers.csv: 16 new');
    expect(first.stdout).toMatch(/Edition #1 of Weekly AI Recap · 2026-W48 \(23–29 Nov 2026\) · sent/);
    expect(first.stdout).toContain('← top story');
    expect(first.stdout).toContain('Audience: 14 of 16 members eligible; left out: 1 pending, 1 unsubscribed');
    expect(first.stdout).toMatch(/full edition\s+\d+ recipients?\s+[\d.]+ kB HTML/);
    expect(first.stdout).toContain('This run: 14 submitted, 0 deferred, 0 failed, 0 skipped');
    expect(first.stdout).toContain('var/outbox/2026-W48/ (14 .eml files');
    expect(first.stdout).toMatch(/Preview: .*2026-W48-full\.html/);
  });

  it('writes one parseable .eml per delivery to the outbox', async () => {
    const files = readdirSync(outbox()).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(14);
    const recipients = new Set<string>();
    const texts = new Map<string, string>();
    for (const file of files) {
      const mail = await simpleParser(readFileSync(join(outbox(), file)));
      const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
      recipients.add(to as string);
      // The subject is the headline of the story this reader's copy leads with.
      expect(mail.subject).toBe(/TOP STORY: ([\s\S]+?)\n=+/.exec(mail.text ?? '')?.[1]?.replace(/\s+/g, ' ').trim());
      expect(mail.html).toContain('Read original on');
      expect(mail.text).toContain('All content rights belong to original publishers. Original source:');
      texts.set(to as string, mail.text ?? '');
    }
    // The sample writes "Okafor, Chidi" and "Ada Lindqvist": each is greeted by the first name.
    expect(texts.get('chidi.okafor@example.org')).toContain('Hi Chidi, here are');
    expect(texts.get('ada.lindqvist@example.com')).toContain('Hi Ada, here are');
    expect(recipients.size).toBe(14);
    expect(recipients.has('jamie.park@example.org')).toBe(false); // pending
    expect(recipients.has('lena.hoffmann@example.net')).toBe(false); // unsubscribed
    expect(recipients.has('priya.raman@example.com')).toBe(true); // imported as Priya.Raman@…
  });

  it('duplicates nothing when run again', () => {
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('Database: up to date');
    expect(second.stdout).toContain('articles.json (json): 0 new, 0 updated, 14 unchanged, 0 failed');
    expect(second.stdout).toContain('subscribers.csv: 0 new, 0 updated, 16 unchanged');
    expect(second.stdout).toContain('Edition #1 of Weekly AI Recap');
    expect(second.stdout).toContain('This run: 0 submitted, 0 deferred, 0 failed, 0 skipped (0 newly queued)');
    expect(readdirSync(outbox())).toHaveLength(14);
  });
});
