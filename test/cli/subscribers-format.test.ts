// `recap subscribers add --format`, the export that writes the format, and a send's dry run and
// status per format, through the real CLI on a migrated SQLite file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

let cwd: string;
const env = () => ({ RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test' });

beforeAll(async () => {
  cwd = tempDir('recap-cli-format-');
  expect((await runCli(['db', 'migrate'], { cwd, env: env() })).stdout).toContain('0016_request_format');
}, 60_000);

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

it('stores the format given with --format, refuses another with exit 2, and exports it', async () => {
  expect((await runCli(['subscribers', 'add', 'ada@example.com', '--format', 'Brief'], { cwd, env: env() })).code).toBe(0);
  const refused = await runCli(['subscribers', 'add', 'bob@example.com', '--format', 'tiny'], { cwd, env: env() });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('format: must be full or brief, not "tiny"');
  const db = openDb(join(cwd, 'var/recap.db'));
  try {
    expect(await db.selectFrom('subscribers').select(['email', 'format']).execute()).toEqual([{ email: 'ada@example.com', format: 'brief' }]);
  } finally {
    await db.destroy();
  }
  const exported = await runCli(['subscribers', 'export'], { cwd, env: env() });
  const [header, row] = exported.stdout.trim().split('\n');
  const at = (header as string).split(',').indexOf('format');
  expect(at).toBeGreaterThan(0);
  expect(row?.split(',')[at]).toBe('brief');
}, 120_000);

it('names each variant’s format in a dry run, and counts each format in digest status (and --json)', async () => {
  expect((await runCli(['articles', 'import', join(import.meta.dirname, '../../data/sample/articles.json')], { cwd, env: env() })).code).toBe(0);
  expect((await runCli(['subscribers', 'add', 'cy@example.com'], { cwd, env: env() })).code).toBe(0);
  const dry = await runCli(['digest', 'send', '--week', '2026-W48', '--dry-run'], { cwd, env: env() });
  // The sample week's brief is whole: nothing shortened or left out, under 15 kB.
  const brief = /full edition · brief\s+1 recipient\s+([\d.]+) kB HTML *$/m.exec(dry.stdout);
  expect(brief, dry.stdout).not.toBeNull();
  expect(Number(brief?.[1])).toBeLessThanOrEqual(15);
  expect(dry.stdout).toMatch(/full edition\s+1 recipient\s+[\d.]+ kB HTML/);
  expect((await runCli(['digest', 'send', '--week', '2026-W48'], { cwd, env: env() })).code).toBe(0);
  const status = await runCli(['digest', 'status', '--week', '2026-W48'], { cwd, env: env() });
  expect(status.stdout).toContain('    full: 1 reader: 1 submitted, 0 failed, 0 deferred, 0 uncertain · 0 clicks');
  expect(status.stdout).toContain('    brief: 1 reader: 1 submitted, 0 failed, 0 deferred, 0 uncertain · 0 clicks');
  const json = JSON.parse((await runCli(['digest', 'status', '--week', '2026-W48', '--json'], { cwd, env: env() })).stdout);
  expect(json.formats).toEqual([
    { format: 'full', readers: 1, submitted: 1, failed: 0, deferred: 0, uncertain: 0, queued: 0, clicks: 0 },
    { format: 'brief', readers: 1, submitted: 1, failed: 0, deferred: 0, uncertain: 0, queued: 0, clicks: 0 },
  ]);
  expect(json.counts.submitted).toBe(2);
}, 240_000);
