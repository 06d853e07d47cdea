// The web app on a real migrated SQLite file, sending to the outbox folder, with a clock that only
// moves when a test moves it. Requests go through app.request(): no port needed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Hono } from 'hono';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import type { Db } from '../../db/connect.ts';
import { createApp } from '../../src/web/app.ts';
import { type DrainReport, subscriptionWorker } from '../../src/web/subscription-requests.ts';
import { serveLimits } from '../../src/web/rate-limit.ts';
import { importArticles } from '../../src/articles/import.ts';
import { type LinkChecker, linkChecker, probe } from '../../src/desk/link-check.ts';
import { sampleArticles } from './articles.ts';
import { createTestContext, TEST_SECRET, type TestContext } from './context.ts';

export interface WebTest {
  ctx: TestContext;
  app: Hono;
  logs: string[];
  /** The desk's link check: only loopback URLs are asked (tests never depend on the internet). */
  links: LinkChecker;
  /** Works through the queued subscription requests (what `recap serve` does after each answer). */
  drain(): Promise<DrainReport>;
  /** Confirmation and welcome emails written to the outbox, oldest first. */
  transactional(): Promise<Array<{ to: string; subject: string; text: string; html: string }>>;
  close(): Promise<void>;
}

/**
 * `background`: the app wakes the real worker after each request, as `recap serve` does. Without
 * it, requests stay queued until the test calls drain(), so a test can look at what the answer
 * alone did. `appDb` wraps the database the app's handlers use (to watch their queries).
 */
export async function createWebTest(env: Record<string, string> = {}, limits = { perIp: 1000, perAddress: 1000 }, options: { background?: boolean; appDb?: (db: Db) => Db } = {}): Promise<WebTest> {
  const ctx = await createTestContext({ BASE_URL: 'https://recap.test', ...env });
  await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
  const logs: string[] = [];
  const base = {
    ...ctx,
    secret: TEST_SECRET,
    transport: outboxTransport(ctx.config.outboxDir),
    list: await findList(ctx.db, 'weekly-ai-recap'),
    limits: serveLimits(ctx.db, ctx.clock, limits.perIp, limits.perAddress),
    log: (line: string) => {
      logs.push(line);
    },
  };
  const worker = subscriptionWorker(base);
  const loopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  const links = linkChecker({ ...base, timeoutMs: ctx.config.linkCheckTimeoutMs, probe: async (url, timeoutMs) => (loopback(url) ? probe(url, timeoutMs) : { status: null, error: 'not asked in tests' }) });
  const app = createApp({ ...base, db: options.appDb ? options.appDb(ctx.db) : ctx.db, subscriptionWorker: options.background ? worker : { wake: () => undefined }, linkChecker: links });
  return {
    ctx,
    app,
    logs,
    links,
    drain: () => worker.drain(),
    async transactional() {
      const dir = join(ctx.config.outboxDir, 'transactional');
      let files: string[] = [];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
      } catch {
        return [];
      }
      return Promise.all(
        files.map(async (f) => {
          const mail = await simpleParser(readFileSync(join(dir, f)));
          const to = mail.to && !Array.isArray(mail.to) ? (mail.to.value[0]?.address ?? '') : '';
          return { to, subject: mail.subject ?? '', text: mail.text ?? '', html: mail.html || '' };
        }),
      );
    },
    close: async () => {
      await worker.idle();
      await links.idle();
      await ctx.close();
    },
  };
}

/** The path of the first link to `prefix` in a text. */
export function linkPath(text: string, prefix: string): string {
  const m = new RegExp(`https://recap\\.test(${prefix}[\\w.\\-/]+)`).exec(text);
  if (!m?.[1]) throw new Error(`no ${prefix} link in: ${text.slice(0, 300)}`);
  return m[1];
}

export const SAME_ORIGIN = { Origin: 'https://recap.test' };

export function form(fields: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
  return body;
}
