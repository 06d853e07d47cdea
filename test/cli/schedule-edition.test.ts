// `recap edition …` and `recap schedule` as processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

let cwd: string;
const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', RECAP_EDITORS: 'ed@example.com' };

beforeAll(async () => {
  cwd = tempDir('recap-edition-');
  await runCli(['db', 'migrate'], { cwd, env });
  await runCli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')], { cwd, env });
  await runCli(['subscribers', 'add', 'reader@example.com'], { cwd, env });
  const built = await runCli(['digest', 'build', '--week', '2026-W48'], { cwd, env });
  expect(built.code).toBe(0);
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('recap edition', () => {
  it('shows, reorders, edits, test-sends and approves a draft', async () => {
    const shown = await runCli(['edition', 'show', '--week', '2026-W48'], { cwd, env });
    const ids = [...shown.stdout.matchAll(/^\s+\d+\. id (\d+) /gm)].map((m) => m[1] as string);
    expect(ids.length).toBeGreaterThan(3);
    const pinned = await runCli(['edition', 'pin', '--week', '2026-W48', '--article', ids[2] as string], { cwd, env });
    expect(pinned.stdout).toContain(`Order now: ${ids[2]}, ${ids[0]}, ${ids[1]}`);
    expect((await runCli(['edition', 'edit', '--week', '2026-W48', '--subject', 'Hand-picked'], { cwd, env })).code).toBe(0);
    const test = await runCli(['edition', 'test', '--week', '2026-W48'], { cwd, env });
    expect(test.stdout).toContain('Test sent to ed@example.com');
    expect(readdirSync(join(cwd, 'var/outbox/tests'))).toHaveLength(1);
    expect((await runCli(['edition', 'approve', '--week', '2026-W48'], { cwd, env })).code).toBe(0);
    const list = await runCli(['edition', 'list'], { cwd, env });
    expect(list.stdout).toMatch(/#1\s+2026-W48\s+approved\s+.*Hand-picked/);
    // An approved edition is no longer a draft.
    const late = await runCli(['edition', 'exclude', '--week', '2026-W48', '--article', ids[0] as string], { cwd, env });
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('only a draft can be changed');
  });
});

describe('recap schedule', () => {
  function start(extra: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
    let log = '';
    const child = spawn(process.execPath, [RECAP_BIN, 'schedule'], { cwd, env: { PATH: process.env.PATH ?? '', ...env, RECAP_CATCHUP_HOURS: '168', ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    return { child, log: () => log };
  }
  const until = async (what: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return what();
  };
  const stop = (child: ChildProcess) => new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });

  it('runs the due week at start, lets a second daemon stand by, and stops cleanly on SIGTERM', async () => {
    const first = start();
    expect(await until(() => /schedule: weekly run at "0 8 \* \* 1"/.test(first.log())), first.log()).toBe(true);
    // The week that ended last has no stories here: no edition, and the editors are told.
    expect(first.log()).toMatch(/scheduler lease taken/);
    expect(first.log()).toMatch(/20\d\d-W\d\d: (no edition|edition #\d+ waits for approval)/);
    const second = start();
    expect(await until(() => /standing by/.test(second.log())), second.log()).toBe(true);
    expect(await stop(second.child)).toBe(0);
    expect(await stop(first.child)).toBe(0);
  });
});
