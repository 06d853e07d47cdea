// `recap subscribers add --first-name`, through the real CLI on a migrated SQLite file.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';

let cwd: string;
const env = () => ({ RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test' });

beforeAll(async () => {
  cwd = tempDir('recap-cli-first-name-');
  expect((await runCli(['db', 'migrate'], { cwd, env: env() })).stdout).toContain('0011_first_name');
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

it('stores the first name given with --first-name beside the name, and refuses an overlong one with exit 2', async () => {
  const added = await runCli(['subscribers', 'add', 'chidi@example.org', '--name', 'Okafor, Chidi', '--first-name', '\u202eChidi-Emeka'], { cwd, env: env() });
  expect(added.code).toBe(0);
  const refused = await runCli(['subscribers', 'add', 'ada@example.com', '--first-name', 'x'.repeat(51)], { cwd, env: env() });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('firstName: longer than 50 characters');
  const db = openDb(join(cwd, 'var/recap.db'));
  try {
    expect(await db.selectFrom('subscribers').select(['email', 'name', 'first_name']).execute()).toEqual([
      { email: 'chidi@example.org', name: 'Okafor, Chidi', first_name: 'Chidi-Emeka' },
    ]);
  } finally {
    await db.destroy();
  }
});
