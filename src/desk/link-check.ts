// The link check shown on the desk: every story and editor's item URL of an edition, asked with
// HEAD (GET where a server refuses HEAD) and a short timeout, in the background of `recap serve`.
// Results are kept per edition and URL; nothing here is ever awaited by a send. A check in progress
// holds a lease in the database, so several `recap serve` processes never ask the same hosts twice.
import type { Db } from '../../db/connect.ts';
import type { LinkCheckRow } from '../../db/schema.ts';
import type { Clock } from '../context.ts';
import { acquireLease, LeaseHeldError } from '../delivery/lease.ts';
import { type Edition, editionEntries } from '../editions/editions.ts';
import { httpUrl } from '../render/story-view.ts';

/** Checked at most this many at once: a story list is short, and we are a guest on those hosts. */
const AT_ONCE = 4;
/** A result older than this is checked again when the desk shows the edition. */
const RECHECK_AFTER_MS = 60 * 60_000;

export interface Probe {
  status: number | null;
  error: string | null;
}

/** One URL: HEAD, then GET when the server does not take HEAD (405, 501) or refuses it outright. */
export async function probe(url: string, timeoutMs: number): Promise<Probe> {
  const ask = async (method: 'HEAD' | 'GET') => {
    const res = await fetch(url, { method, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs), headers: { 'User-Agent': 'Recap link check' } });
    await res.body?.cancel();
    return res.status;
  };
  try {
    const head = await ask('HEAD');
    return { status: head === 405 || head === 501 || head === 403 ? await ask('GET') : head, error: null };
  } catch (e) {
    const error = e as Error & { cause?: { code?: string; message?: string } };
    const why = error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error.cause?.code ?? error.cause?.message ?? error.message);
    return { status: null, error: why };
  }
}

/** The http(s) URLs readers can click in the edition, once each. */
export function editionUrls(edition: Pick<Edition, 'stories' | 'items'>): string[] {
  const urls = editionEntries(edition).map((e) => httpUrl(e.kind === 'story' ? e.story.url : e.item.url));
  return [...new Set(urls.filter((u): u is string => u !== null))];
}

export type Prober = (url: string, timeoutMs: number) => Promise<Probe>;

export async function checkLinks(db: Db, edition: Pick<Edition, 'row' | 'stories' | 'items'>, clock: Clock, timeoutMs: number, ask: Prober = probe): Promise<void> {
  const queue = editionUrls(edition);
  const work = async () => {
    for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
      const { status, error } = await ask(url, timeoutMs);
      const row = { edition_id: edition.row.id, url, status, error, checked_at: clock.now().toISOString() };
      await db.insertInto('link_checks').values(row).onConflict((oc) => oc.columns(['edition_id', 'url']).doUpdateSet({ status, error, checked_at: row.checked_at })).execute();
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, work));
}

export async function linkResults(db: Db, editionId: number): Promise<Map<string, LinkCheckRow>> {
  const rows = await db.selectFrom('link_checks').selectAll().where('edition_id', '=', editionId).execute();
  return new Map(rows.map((r) => [r.url, r]));
}

/** Whether a result says the link works: a 2xx or 3xx answer at the end of any redirects. */
export function linkWorks(row: Pick<LinkCheckRow, 'status'>): boolean {
  return row.status !== null && row.status < 400;
}

export interface LinkChecker {
  /** Starts a check of the edition unless one runs; returns at once. */
  start(edition: Edition): void;
  /** Resolves when no check is running (tests, shutdown). */
  idle(): Promise<void>;
}

/** The longest a check of `urls` can take: HEAD and GET, each up to the timeout, AT_ONCE at a time; and a minute. */
function checkTtlMs(urls: number, timeoutMs: number): number {
  return Math.ceil(urls / AT_ONCE) * 2 * timeoutMs + 60_000;
}

/** Checks the edition unless a check of it runs anywhere (this process or another on the database). */
async function checkUnlessRunning(deps: LinkCheckerDeps, edition: Edition): Promise<void> {
  const ttl = checkTtlMs(editionUrls(edition).length, deps.timeoutMs);
  let lease;
  try {
    lease = await acquireLease(deps.db, `link-check:edition:${edition.row.id}`, deps.clock, ttl);
  } catch (e) {
    if (e instanceof LeaseHeldError) return;
    throw e;
  }
  try {
    await checkLinks(deps.db, edition, deps.clock, deps.timeoutMs, deps.probe);
  } finally {
    await lease.release();
  }
}

interface LinkCheckerDeps {
  db: Db;
  clock: Clock;
  log: (line: string) => void;
  timeoutMs: number;
  probe?: Prober;
}

/** `probe` asks one URL; tests pass one that keeps to loopback. */
export function linkChecker(deps: LinkCheckerDeps): LinkChecker {
  const running = new Map<number, Promise<void>>();
  return {
    start(edition) {
      if (running.has(edition.row.id)) return;
      const check = checkUnlessRunning(deps, edition)
        .catch((e: unknown) => deps.log(`error: link check of ${edition.row.week}: ${(e as Error).message}`))
        .finally(() => running.delete(edition.row.id));
      running.set(edition.row.id, check);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}

/** Whether the desk should start a check: some URL never checked, or the last check is old. */
export function linksNeedCheck(urls: string[], results: Map<string, LinkCheckRow>, now: Date): boolean {
  return urls.some((u) => {
    const r = results.get(u);
    return !r || now.getTime() - Date.parse(r.checked_at) > RECHECK_AFTER_MS;
  });
}
