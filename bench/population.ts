// The bench's data: a list of subscribers with realistic topic mixes, and weeks of articles made
// from the sample week. Generated from a fixed seed, so two runs measure the same audience.
import type { Db } from '../db/connect.ts';
import { hashEmail } from '../src/audience/email.ts';

export interface SampleArticle {
  url: string;
  score: number;
  topics: string[];
  publishedAt?: string;
  collectedAt?: string;
  [field: string]: unknown;
}

export interface GeneratedSubscriber {
  id: number;
  email: string;
  name: string | null;
  topics: string[];
}

/** Mulberry32: a small, fast, seeded generator; the bench needs repeatability, not cryptography. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Topics ordered by how many of the articles carry them: the popular ones come first. */
export function topicsByPopularity(articles: SampleArticle[]): string[] {
  const counts = new Map<string, number>();
  for (const a of articles) for (const t of a.topics) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).map(([t]) => t);
}

/**
 * How many topics a reader follows: many follow none (the full edition), most one to three.
 * Roughly what a sign-up form with optional topic boxes gets.
 */
const FOLLOWED_COUNT = [
  { n: 0, share: 0.15 },
  { n: 1, share: 0.35 },
  { n: 2, share: 0.28 },
  { n: 3, share: 0.15 },
  { n: 4, share: 0.05 },
  { n: 5, share: 0.02 },
];

const FIRST = ['Ada', 'Priya', 'José', 'Zoë', 'Wei', 'Fatima', 'Liam', 'Noah', 'Mia', 'Olu', 'Sven', 'Aiko', 'Mateo', 'Chloé', 'Ivan', 'Sara'];
const LAST = ['Lindqvist', 'Raman', "O'Connell", 'García', 'Chen', 'Okafor', 'Müller', 'Nakamura', 'Rossi', 'Kowalski', 'Dubois', 'Singh'];
const DOMAINS = ['mail.example', 'inbox.example', 'post.example', 'northwind.example', 'lumen.example', 'uni-berlin.example'];

/** Picks `k` distinct topics, each with weight 1/rank (Zipf, s = 1). */
function zipfPick(topics: string[], k: number, random: () => number): string[] {
  const pool = topics.map((t, i) => ({ t, w: 1 / (i + 1) }));
  const picked: string[] = [];
  while (picked.length < k && pool.length > 0) {
    let r = random() * pool.reduce((s, p) => s + p.w, 0);
    const i = pool.findIndex((p) => (r -= p.w) < 0);
    const [hit] = pool.splice(i === -1 ? pool.length - 1 : i, 1);
    picked.push((hit as { t: string }).t);
  }
  return picked;
}

/** `count` subscribers, ids 1…count, with Zipf-distributed topics; a fifth have no name. */
export function* generateSubscribers(count: number, topics: string[], seed = 48): Generator<GeneratedSubscriber> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  for (let id = 1; id <= count; id++) {
    let r = random();
    const k = (FOLLOWED_COUNT.find((f) => (r -= f.share) < 0) ?? { n: 0 }).n;
    const first = pick(FIRST);
    const last = pick(LAST);
    const local = `${first}.${last}`.normalize('NFD').replace(/[^A-Za-z.]/g, '').toLowerCase();
    yield {
      id,
      email: `${local}.${id}@${pick(DOMAINS)}`,
      name: random() < 0.2 ? null : `${first} ${last}`,
      topics: zipfPick(topics, k, random),
    };
  }
}

/**
 * Stores the subscribers as active, confirmed members of the list, in one transaction of
 * multi-row inserts: the bench measures sending, not sign-ups.
 */
export async function insertSubscribers(db: Db, listId: number, subscribers: Iterable<GeneratedSubscriber>, now: Date): Promise<number> {
  const at = now.toISOString();
  const CHUNK = 500;
  let total = 0;
  await db.transaction().execute(async (trx) => {
    let chunk: GeneratedSubscriber[] = [];
    const flush = async () => {
      if (chunk.length === 0) return;
      await trx
        .insertInto('subscribers')
        .values(chunk.map((s) => ({
          id: s.id, email: s.email, email_hash: hashEmail(s.email), name: s.name, status: 'active' as const,
          created_at: at, updated_at: at, consent_at: at, consent_source: 'bench', consent_ip: null, consent_user_agent: null,
          confirmed_at: at, paused_at: null, confirm_requested_at: null,
        })))
        .execute();
      await trx
        .insertInto('list_members')
        .values(chunk.map((s) => ({ list_id: listId, subscriber_id: s.id, status: 'active' as const, created_at: at, updated_at: at, confirm_nonce: null })))
        .execute();
      const follows = chunk.flatMap((s) => s.topics.map((topic) => ({ subscriber_id: s.id, topic })));
      if (follows.length > 0) await trx.insertInto('subscriber_topics').values(follows).execute();
      total += chunk.length;
      chunk = [];
    };
    for (const s of subscribers) {
      chunk.push(s);
      if (chunk.length === CHUNK) await flush();
    }
    await flush();
  });
  return total;
}

const DAY_MS = 86_400_000;

/**
 * The sample week moved `weeksBack` weeks earlier, with URLs of its own so each week's articles
 * are new ones; `count` articles, repeating the sample (copies a little lower in score) if more.
 */
export function articlesForWeek(sample: SampleArticle[], weeksBack: number, count: number): SampleArticle[] {
  const shift = (iso: string | undefined) => (iso ? new Date(Date.parse(iso) - weeksBack * 7 * DAY_MS).toISOString() : iso);
  return Array.from({ length: count }, (_, i) => {
    const a = sample[i % sample.length] as SampleArticle;
    const copy = Math.floor(i / sample.length);
    const url = new URL(a.url);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/bench-w${weeksBack}-${copy}`;
    return { ...a, url: url.toString(), score: Math.max(0, a.score - copy), publishedAt: shift(a.publishedAt), collectedAt: shift(a.collectedAt) };
  });
}
