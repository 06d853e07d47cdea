// `recap subscribers add --format` and the export that writes the format, through the real CLI on a
// migrated SQLite file.
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
