// `recap serve` mails what a previous run left queued as soon as it starts (a crash between the
// answer and the email loses nothing), mails each new request after answering it, and stops
// cleanly on SIGTERM with the queue empty.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openDb } from '../../db/connect.ts';
import { findList } from '../../src/audience/lists.ts';
import { queueSubscriptionRequest } from '../../src/web/subscription-requests.ts';
import { runCli, startServe } from '../helpers/cli.ts';
import { TEST_SECRET, tempDir } from '../helpers/context.ts';
import { until } from '../helpers/until.ts';

const cwd = tempDir('recap-serve-queue-');
afterAll(() => rmSync(cwd, { recursive: true, force: true }));


it('mails the requests a dead process left queued at start, and new ones after answering', { timeout: 180_000 }, async () => {
  const env = { RECAP_SECRET: TEST_SECRET, BASE_URL: 'https://recap.test' };
  expect((await runCli(['db', 'migrate'], { cwd, env })).code).toBe(0);
  // The previous `recap serve` answered this request and died before mailing it.
  const db = openDb(join(cwd, 'var/recap.db'));
  const list = await findList(db, 'weekly-ai-recap');
  await queueSubscriptionRequest(db, { listId: list.id, email: 'left-behind@example.com', name: null, format: 'full', timeZone: null, topics: [], meta: { source: 'form', ip: null, userAgent: null }, at: new Date() });

  const serve = await startServe({ cwd, env });
  const res = await fetch(`${serve.url}/api/subscribe`, { method: 'POST', body: JSON.stringify({ email: 'new@example.com' }), headers: { 'Content-Type': 'application/json' } });
  expect(res.status).toBe(202);

  const outbox = join(cwd, 'var/outbox/transactional');
  const files = await until('two confirmation emails', () => {
    const names = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : [];
    return names.length >= 2 ? names : undefined;
  });
  expect(files.map((f) => f.replace(/^[^-]+-[^-]+-/, '')).sort()).toEqual(['left-behind@example.com.eml', 'new@example.com.eml']);

  expect(await serve.stop(), serve.stderr()).toBe(0);
  expect(await db.selectFrom('subscription_requests').select('id').execute()).toEqual([]);
  await db.destroy();
});
