// The CLI as a user meets it: help on every command, exit codes that mean something, clear errors.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { article, SAMPLE_DIR } from '../helpers/articles.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

let cwd: string;
const env = () => ({ RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test' });

beforeAll(async () => {
  cwd = tempDir('recap-cli-');
  const migrated = await runCli(['db', 'migrate'], { cwd, env: env() });
  expect(migrated.code).toBe(0);
  expect(migrated.stdout).toContain('applied 0001_initial');
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('recap --help', () => {
  it.each([
    [[], ['db', 'articles', 'subscribers', 'segments', 'digest', 'demo', 'worker']],
    [['worker'], ['--once', '--poll', 'RECAP_QUOTA']],
    [['digest'], ['build', 'send', 'preview']],
    [['digest', 'send'], ['--week', '--segment', '--dry-run']],
    [['subscribers', 'import'], ['--confirmed', '--delimiter', '<file>']],
    [['segments', 'create'], ['--topics', '--attr', '--signed-up-from']],
    [['articles', 'import'], ['--format']],
  ])('recap %j --help lists its commands and options', async (args, expected) => {
    const result = await runCli([...args, '--help'], { cwd });
    expect(result.code).toBe(0);
    for (const word of expected) expect(result.stdout).toContain(word);
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['nonsense'], { cwd })).code).toBe(2);
    expect((await runCli(['digest', 'send', '--bogus'], { cwd })).code).toBe(2);
  });
});

describe('recap commands', () => {
  it('refuses to run on a database that is not migrated, and says how to fix it', async () => {
    const fresh = tempDir('recap-cli-fresh-');
    const result = await runCli(['articles', 'list', '--week', '2026-W48'], { cwd: fresh, env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('recap db migrate');
    rmSync(fresh, { recursive: true, force: true });
  });

  it('names a bad configuration variable', async () => {
    const result = await runCli(['articles', 'list'], { cwd, env: { RECAP_TZ: 'Mars/Olympus' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/RECAP_TZ: .*IANA/);
  });

  it('imports articles, keeps the good records, names the bad one and exits 1', async () => {
    const file = join(cwd, 'mixed.json');
    writeFileSync(file, JSON.stringify([article({ title: 'Good one' }), { ...article(), url: 'ftp://nope' }, article({ title: 'Good two' })]));
    const result = await runCli(['articles', 'import', file], { cwd, env: env() });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 new, 0 updated, 0 unchanged, 1 failed');
    expect(result.stderr).toMatch(/index 1: url: /);
  });

  it('imports the sample week and lists it', async () => {
    const result = await runCli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')], { cwd, env: env() });
    expect(result.code).toBe(0);
    const listed = await runCli(['articles', 'list', '--week', '2026-W48'], { cwd, env: env() });
    expect(listed.stdout).toContain('Why Meta Must Pivot to Cloud Infrastructure');
    expect(listed.stdout).toMatch(/2026-W48 \(23–29 Nov 2026, UTC\): 1[0-9] articles/);
  });

  it('adds subscribers, rejecting an invalid address with exit 2', async () => {
    const bad = await runCli(['subscribers', 'add', 'not-an-address'], { cwd, env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not-an-address');
    const good = await runCli(['subscribers', 'add', 'Ada@Example.com', '--name', 'Ada', '--topics', 'compute,policy'], { cwd, env: env() });
    expect(good.code).toBe(0);
    const imported = await runCli(['subscribers', 'import', join(SAMPLE_DIR, 'subscribers.csv')], { cwd, env: env() });
    expect(imported.code).toBe(0);
    const listed = await runCli(['subscribers', 'list'], { cwd, env: env() });
    expect(listed.stdout).toMatch(/ada@example\.com\s+active\s+yes\s+active\s+compute,policy\s+Ada/);
    expect(listed.stdout).toContain('jamie.park@example.org');
  });

  it('creates a segment and shows its count', async () => {
    const created = await runCli(['segments', 'create', 'policy-people', '--topics', 'policy'], { cwd, env: env() });
    expect(created.code).toBe(0);
    const shown = await runCli(['segments', 'show', 'policy-people'], { cwd, env: env() });
    expect(shown.stdout).toContain('follows any of policy');
    // Ada, Chidi, Noah are active; Jamie is pending.
    expect(shown.stdout).toContain('members: 4');
    expect(shown.stdout).toContain('would receive an edition: 3');
    expect(shown.stdout).toContain('left out, pending: 1');
  });

  it('does a dry run that writes and sends nothing', async () => {
    const result = await runCli(['digest', 'send', '--week', '2026-W48', '--dry-run'], { cwd, env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run: nothing written, nothing sent');
    expect(result.stdout).toMatch(/full edition\s+\d+ recipients?/);
    expect(existsSync(join(cwd, 'var/outbox'))).toBe(false);
  });

  it('will not send without RECAP_SECRET', async () => {
    const result = await runCli(['digest', 'send', '--week', '2026-W48'], { cwd, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RECAP_SECRET is not set');
  });

  it('writes previews per variant and for one subscriber', async () => {
    const out = join(cwd, 'preview');
    const all = await runCli(['digest', 'preview', '--week', '2026-W48', '--out', out], { cwd, env: env() });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(join(out, '2026-W48-full.html'));
    // Each variant with the subject it goes out with.
    expect(all.stdout).toMatch(/^ {2}full edition · .*\n {4}Subject: \S/m);
    const one = await runCli(['digest', 'preview', '--week', '2026-W48', '--subscriber', 'ada@example.com', '--out', out], { cwd, env: env() });
    expect(one.code).toBe(0);
    expect(readdirSync(out)).toContain('2026-W48-ada@example.com.html');
    // Imported as "Okafor, Chidi": greeted by the first name.
    await runCli(['digest', 'preview', '--week', '2026-W48', '--subscriber', 'chidi.okafor@example.org', '--out', out], { cwd, env: env() });
    const chidi = readFileSync(join(out, '2026-W48-chidi.okafor@example.org.html'), 'utf8').replace(/<!-- -->/g, '');
    expect(chidi).toContain('Hi Chidi, here');
    expect(readFileSync(join(out, '2026-W48-chidi.okafor@example.org.txt'), 'utf8')).toContain('Hi Chidi, here');
  });

  it('sends to the outbox, one .eml per delivery, and a second send adds nothing', async () => {
    const first = await runCli(['digest', 'send', '--week', '2026-W48'], { cwd, env: env() });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/This run: 15 submitted, 0 deferred, 0 failed, 0 skipped/);
    const files = readdirSync(join(cwd, 'var/outbox/2026-W48'));
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(15);
    expect(first.stderr).toContain('sending: 15/15 (100%)');
    const second = await runCli(['digest', 'send', '--week', '2026-W48'], { cwd, env: env() });
    expect(second.stdout).toMatch(/This run: 0 submitted, 0 deferred, 0 failed, 0 skipped \(0 newly queued\)/);
    expect(readdirSync(join(cwd, 'var/outbox/2026-W48'))).toHaveLength(15);
  });

  it('exits 3 and sends nothing for a week with too few stories', async () => {
    const result = await runCli(['digest', 'send', '--week', '2026-W30'], { cwd, env: env() });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('No edition for 2026-W30');
    expect(result.stdout).toContain('at least 3');
  });

  it('splits at the --delimiter given, and refuses one it does not know with exit 2', async () => {
    const file = join(cwd, 'semicolons.csv');
    writeFileSync(file, 'email;name\nnew.reader@example.com;Reader\n');
    const bad = await runCli(['subscribers', 'import', file, '--delimiter', '|'], { cwd, env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Use "," ";" or "tab"');
    // Found from the header this file would import; told "," it has no "email" column.
    const forced = await runCli(['subscribers', 'import', file, '--delimiter', ','], { cwd, env: env() });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain('line 1: the header row has no "email" column (found: email;name)');
  });
});

describe('recap digest send on an oversized week', () => {
  it('reports the stories it shortened to stay under Gmail’s clipping size', async () => {
    const big = tempDir('recap-cli-big-');
    await runCli(['db', 'migrate'], { cwd: big, env: env() });
    const long = (n: number) => '&"<>'.repeat(Math.ceil(n / 4)).slice(0, n);
    const huge = Array.from({ length: 12 }, (_, i) =>
      article({
        title: `Huge story ${i}`,
        score: 90 - i,
        topics: [`topic-${i % 4}`],
        hook: long(600),
        takeaways: Array.from({ length: 10 }, () => long(600)),
        deepDive: Array.from({ length: 10 }, () => long(800)),
        predictions: Array.from({ length: 6 }, () => ({ claim: long(300), rationale: long(800) })),
      }),
    );
    writeFileSync(join(big, 'huge.json'), JSON.stringify(huge));
    await runCli(['articles', 'import', 'huge.json'], { cwd: big, env: env() });
    await runCli(['subscribers', 'add', 'ada@example.com'], { cwd: big, env: env() });
    const result = await runCli(['digest', 'send', '--week', '2026-W48', '--dry-run'], { cwd: big, env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/full edition\s+1 recipient\s+\d+\.\d kB HTML\s+\d+ shortened to title and link to stay under 102\.0 kB/);
    expect(result.stdout).toContain('shortened in "full edition": Huge story 11');
    rmSync(big, { recursive: true, force: true });
  });
});

describe('recap serve', () => {
  it('serves until SIGTERM, then stops cleanly with exit code 0', async () => {
    const child = spawn(process.execPath, [RECAP_BIN, 'serve', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const archive = await (await fetch(`${url}/archive`)).text();
    expect(archive).toContain('href="/archive/2026-W48"');
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
