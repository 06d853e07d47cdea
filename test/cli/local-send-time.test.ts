// Local send time through the real CLI on a migrated SQLite file and a real SMTP server:
// `subscribers add --time-zone`, `digest send --no-wait` stopping at the waves to come, and
// `digest status` (text and --json) showing each wave.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { SAMPLE_DIR } from '../helpers/articles.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';

let cwd: string;
let sink: SmtpSink;
// Monday 30 November, 09:00 in Tokyo (the list's zone): Tokyo's 08:00 has just passed.
const env = (clock: string) => ({
  RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test', SMTP_URL: sink.url, RECAP_RATE: '0',
  RECAP_TZ: 'Asia/Tokyo', RECAP_LOCAL_SEND_TIME: '08:00', RECAP_CLOCK_START: clock,
});
const cli = (args: string[], clock = '2026-11-30T00:00:00Z') => runCli(args, { cwd, env: env(clock) });

beforeAll(async () => {
  sink = await startSmtpSink();
  cwd = tempDir('recap-cli-local-send-');
  expect((await cli(['db', 'migrate'])).code).toBe(0);
  expect((await cli(['articles', 'import', join(SAMPLE_DIR, 'articles.json')])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await sink.close();
  rmSync(cwd, { recursive: true, force: true });
});

it('adds readers with --time-zone, refuses a zone that is not one, sends the first wave and shows the rest', { timeout: 300_000 }, async () => {
  for (const [email, zone] of [['tokyo@example.com', 'Asia/Tokyo'], ['berlin@example.com', 'europe/berlin'], ['ny@example.com', 'America/New_York']]) {
    expect((await cli(['subscribers', 'add', email as string, '--time-zone', zone as string])).code).toBe(0);
  }
  const refused = await cli(['subscribers', 'add', 'mars@example.com', '--time-zone', 'Mars/Olympus']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('timeZone: "Mars/Olympus" is not an IANA time zone such as Europe/Berlin');

  const sent = await cli(['digest', 'send', '--week', '2026-W48', '--no-wait']);
  expect(sent.code, sent.stderr).toBe(0);
  expect(sink.messages.map((m) => m.to[0])).toEqual(['tokyo@example.com']);
  expect(sent.stdout).toContain('Later waves: the next is the 08:00 wave of Europe/Berlin (1 reader) at 2026-11-30T07:00Z.');
  expect(sent.stdout).toContain('`recap digest send --week 2026-W48` waits for them');

  // An hour later (each process's clock starts at RECAP_CLOCK_START).
  const status = await cli(['digest', 'status', '--week', '2026-W48'], '2026-11-30T01:00:00Z');
  expect(status.stdout).toContain('Waves (local send time): 1 done, 0 sending, 2 to come');
  expect(status.stdout).toMatch(/2026-11-30 00:00 UTC · 09:0\d Asia\/Tokyo · 1 reader · done/);
  expect(status.stdout).toContain('2026-11-30 07:00 UTC · 08:00 Europe/Berlin · 1 reader · to come');
  expect(status.stdout).toContain('2026-11-30 13:00 UTC · 08:00 America/New_York · 1 reader · to come');
  // Nothing is due until the next wave: no time left is promised meanwhile.
  expect(status.stdout).not.toContain('Time left');

  const json = JSON.parse((await cli(['digest', 'status', '--week', '2026-W48', '--json'], '2026-11-30T01:00:00Z')).stdout) as { status: string; waves: Array<{ at: string; state: string; zones: Array<{ zone: string }> }> };
  expect(json.status).toBe('sending');
  expect(json.waves.map((w) => [w.zones[0]?.zone, w.state])).toEqual([['Asia/Tokyo', 'done'], ['Europe/Berlin', 'to come'], ['America/New_York', 'to come']]);
  expect(json.waves[1]?.at).toBe('2026-11-30T07:00:00.000Z');
});
