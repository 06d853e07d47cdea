// `recap edition …` and `recap schedule` as processes, each on a clock that starts at a fixed
// instant (RECAP_CLOCK_START): nothing here depends on the day the tests run.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

let cwd: string;
// The sample week's run is due on Monday 2026-11-30 at 08:00 UTC (RECAP_CRON's default).
const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', RECAP_EDITORS: 'ed@example.com', RECAP_CLOCK_START: '2026-11-30T09:00:00Z' };
/** Folders with the sample week imported and no edition yet, for the daemons. */
const fresh: string[] = [];

beforeAll(async () => {
  cwd = tempDir('recap-edition-');
  await runCli(['db', 'migrate'], { cwd, env });
  await runCli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')], { cwd, env });
  await runCli(['subscribers', 'add', 'reader@example.com'], { cwd, env });
  for (const name of ['due', 'missed']) {
    const dir = tempDir(`recap-schedule-${name}-`);
    cpSync(join(cwd, 'var'), join(dir, 'var'), { recursive: true });
    fresh.push(dir);
  }
  const built = await runCli(['digest', 'build', '--week', '2026-W48'], { cwd, env });
  expect(built.code).toBe(0);
}, 60_000);
afterAll(() => {
  for (const dir of [cwd, ...fresh]) rmSync(dir, { recursive: true, force: true });
});

describe('recap edition', () => {
  it('shows, reorders, edits, test-sends and approves a draft', async () => {
    const shown = await runCli(['edition', 'show', '--week', '2026-W48'], { cwd, env });
    const ids = [...shown.stdout.matchAll(/^\s+\d+\. id (\d+) /gm)].map((m) => m[1] as string);
    expect(ids.length).toBeGreaterThan(3);
    const pinned = await runCli(['edition', 'pin', '--week', '2026-W48', '--article', ids[2] as string], { cwd, env });
    expect(pinned.stdout).toContain(`Order now: ${ids[2]}, ${ids[0]}, ${ids[1]}`);
    expect((await runCli(['edition', 'edit', '--week', '2026-W48', '--subject', 'Hand-picked'], { cwd, env })).code).toBe(0);
    // A blurb for this edition and an editor's item, with the same logic as the desk's.
    expect((await runCli(['edition', 'blurb', '--week', '2026-W48', '--article', ids[1] as string, '--hook', 'Our own hook'], { cwd, env })).stdout).toContain('Blurb saved for this edition.');
    expect((await runCli(['edition', 'item', '--week', '2026-W48', '--title', 'Our podcast', '--url', 'https://pod.example/1', '--after', '1'], { cwd, env })).code).toBe(0);
    const edited = await runCli(['edition', 'show', '--week', '2026-W48'], { cwd, env });
    expect(edited.stdout).toMatch(new RegExp(`id ${ids[2]} .*\\(pinned: leads every variant\\)`));
    expect(edited.stdout).toMatch(new RegExp(`id ${ids[1]} .*\\(blurb edited\\)`));
    expect(edited.stdout).toContain("Editor's item after 1: Our podcast <https://pod.example/1>");
    expect(edited.stdout).toMatch(/Audience: 1 reader in 1 variant\n\s+full edition: 1 reader · Hand-picked/);
    const test = await runCli(['edition', 'test', '--week', '2026-W48', '--subscriber', 'reader@example.com'], { cwd, env });
    expect(test.stdout).toContain('Test of what reader@example.com gets (the full edition) sent to ed@example.com: [TEST] Hand-picked');
    expect(readdirSync(join(cwd, 'var/outbox/tests'))).toHaveLength(1);
    const approved = await runCli(['edition', 'approve', '--week', '2026-W48'], { cwd, env });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('Approved for 1 reader. It goes out within a minute of approval');
    expect(approved.stdout).toContain('no scheduler is running');
    // Back to draft and approved again, as on the desk.
    expect((await runCli(['edition', 'draft', '--week', '2026-W48'], { cwd, env })).stdout).toContain('Back to draft');
    expect((await runCli(['edition', 'approve', '--week', '2026-W48'], { cwd, env })).code).toBe(0);
    const list = await runCli(['edition', 'list'], { cwd, env });
    expect(list.stdout).toMatch(/#1\s+2026-W48\s+approved\s+.*Hand-picked/);
    // An approved edition is no longer a draft.
    const late = await runCli(['edition', 'exclude', '--week', '2026-W48', '--article', ids[0] as string], { cwd, env });
    expect(late.code).toBe(2);
    expect(late.stderr).toContain('only a draft can be changed');
  }, 300_000); // fifteen CLI starts, each over 15 s on a busy machine
});

describe('recap schedule', () => {
  function start(dir: string, clockStart: string, extra: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
    let log = '';
    const child = spawn(process.execPath, [RECAP_BIN, 'schedule'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env, RECAP_CLOCK_START: clockStart, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    return { child, log: () => log };
  }
  const until = async (what: () => boolean, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return what();
  };
  const stop = (child: ChildProcess) => new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
  const editorMail = (dir: string) => {
    const folder = join(dir, 'var/outbox/transactional');
    if (!existsSync(folder)) return [];
    return readdirSync(folder).map((f) => readFileSync(join(folder, f), 'utf8'));
  };

  it('runs the due week at start within RECAP_CATCHUP_HOURS, giving the editors their full approval time; a second daemon stands by', async () => {
    const dir = fresh[0] as string;
    // Twelve hours after the slot, later than slot + RECAP_APPROVAL_DEADLINE_HOURS (6).
    const first = start(dir, '2026-11-30T20:00:00Z');
    expect(await until(() => /2026-W48: edition #1 waits/.test(first.log())), first.log()).toBe(true);
    expect(first.log()).toMatch(/^2026-11-30T20:00:\d\d\.\d+Z INFO  scheduler lease taken/m);
    expect(first.log()).toMatch(/2026-W48: edition #1 waits for approval until 2026-12-01T02:0[01]:00\.000Z; editors told/);
    expect(editorMail(dir)).toHaveLength(1);
    expect(existsSync(join(dir, 'var/outbox/2026-W48'))).toBe(false);
    const second = start(dir, '2026-11-30T20:00:00Z');
    expect(await until(() => /standing by/.test(second.log())), second.log()).toBe(true);
    expect(await stop(second.child)).toBe(0);
    expect(await stop(first.child)).toBe(0);
    expect(existsSync(join(dir, 'var/outbox/2026-W48'))).toBe(false);
  }, 90_000);

  it('records a week found later than RECAP_CATCHUP_HOURS as missed, logs it, tells the editors, and says so in edition list and digest status', async () => {
    const dir = fresh[1] as string;
    const at = { ...env, RECAP_CLOCK_START: '2026-12-01T09:00:00Z' };
    const daemon = start(dir, at.RECAP_CLOCK_START);
    expect(await until(() => /2026-W48: run missed/.test(daemon.log())), daemon.log()).toBe(true);
    expect(daemon.log()).toContain('2026-W48: run missed (due 2026-11-30 08:00 UTC, more than RECAP_CATCHUP_HOURS=24 h ago); nothing made or sent; editors told');
    expect(await stop(daemon.child)).toBe(0);
    const [notice, ...more] = editorMail(dir);
    expect(more).toEqual([]);
    expect(notice).toContain('Subject: [Recap] No edition for 2026-W48');
    expect(existsSync(join(dir, 'var/outbox/2026-W48'))).toBe(false);

    const list = await runCli(['edition', 'list'], { cwd: dir, env: at });
    expect(list.stdout).toMatch(/^-\s+2026-W48\s+missed\s+no edition: run missed \(due 2026-11-30 08:00 UTC; no schedule ran until 2026-12-01 09:00 UTC/m);
    // The default week is the one that ended last, on the process's clock.
    const status = await runCli(['digest', 'status'], { cwd: dir, env: at });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('no edition for 2026-W48: its scheduled run missed (due 2026-11-30 08:00 UTC');
    expect(status.stdout).toContain('nothing was made or sent, and the editors were told');
    expect(status.stdout).toContain('`recap digest build --week 2026-W48` makes the draft');
    const built = await runCli(['digest', 'build'], { cwd: dir, env: at });
    expect(built.code).toBe(0);
    expect(built.stdout).toContain('Its scheduled run was missed: due 2026-11-30 08:00 UTC');
    expect(built.stdout).toContain('recap edition approve --week 2026-W48');
  }, 120_000);
});
