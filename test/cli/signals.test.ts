// `recap digest send` as cron runs it, stopped by SIGTERM mid-send: it finishes the batch in
// flight, leaves nothing claimed, exits 4, and the next run completes the edition.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { RECAP_BIN, runCli } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let sink: SmtpSink;
let dir: string;
afterEach(async () => {
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

it('stops cleanly on SIGTERM and resumes on the next run, nobody twice', async () => {
  sink = await startSmtpSink();
  dir = tempDir('recap-signal-');
  const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', SMTP_URL: sink.url, RECAP_RATE: '10', RECAP_SEND_BATCH: '5', SMTP_POOL_SIZE: '1' };
  await runCli(['db', 'migrate'], { cwd: dir, env });
  await runCli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')], { cwd: dir, env });
  const people = Array.from({ length: 40 }, (_, i) => `t${i}@example.com`);
  const csv = join(dir, 'people.csv');
  writeFileSync(csv, `email\n${people.join('\n')}\n`);
  await runCli(['subscribers', 'import', csv, '--confirmed'], { cwd: dir, env });

  const child = spawn(process.execPath, [RECAP_BIN, 'digest', 'send', '--week', '2026-W48'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => {
      if (sink.messages.length >= 3) {
        clearInterval(timer);
        child.kill('SIGTERM');
      }
    }, 5);
    child.on('exit', (c) => {
      clearInterval(timer);
      resolve(c);
    });
  });
  expect(code, stderr).toBe(4);
  expect(stderr).toContain('SIGTERM: finishing the batch in flight');
  const db = openDb(join(dir, 'var/recap.db'));
  const rows = await db.selectFrom('deliveries').select(['status']).execute();
  await db.destroy();
  expect(rows.filter((r) => r.status === 'claimed' || r.status === 'uncertain')).toEqual([]);
  const submitted = rows.filter((r) => r.status === 'submitted').length;
  expect(submitted).toBe(sink.messages.length);
  expect(submitted).toBeLessThan(40);

  const rest = await runCli(['digest', 'send', '--week', '2026-W48'], { cwd: dir, env });
  expect(rest.code).toBe(0);
  const received = sink.byRecipient();
  expect(received.size).toBe(40);
  for (const p of people) expect(received.get(p)?.length, p).toBe(1);
});
