// Fixed-window counters in the database, shared by every `recap serve` on it: one row per key,
// counted with one atomic upsert, so hits spread over several processes add up and two processes
// counting the same key at once never lose one. A window starts at a key's first hit after the
// last one ended. Keys are stored as hashes: the table holds no IP or address. Rows of ended
// windows are removed by `sweepRateLimits` (on `recap serve`'s interval), never on a request.
import { createHash } from 'node:crypto';
import type { Db } from '../../db/connect.ts';
import type { Clock } from '../context.ts';

export type RateDecision = { allowed: true } | { allowed: false; retryAfter: number };

export interface RateLimiter {
  /** Counts one hit of `key`; when that is over the limit, the seconds until it may try again. */
  take(key: string): Promise<RateDecision>;
}

/** `name` tells limits apart that count the same kind of key with other windows. */
export function rateLimiter(db: Db, clock: Clock, name: string, limit: number, windowMs: number): RateLimiter {
  return {
    async take(key) {
      const now = clock.now();
      const at = now.toISOString();
      const ends = new Date(now.getTime() + windowMs).toISOString();
      const row = await db
        .insertInto('rate_limits')
        .values({ key: hashKey(name, key), window_started_at: at, window_ends_at: ends, hits: 1 })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => {
            // Every SET sees the row as it was: a window that ended starts again with this hit.
            const ended = () => eb.case().when('rate_limits.window_ends_at', '<=', at);
            return {
              hits: ended().then(1).else(eb(eb.ref('rate_limits.hits'), '+', 1)).end(),
              window_started_at: ended().then(at).else(eb.ref('rate_limits.window_started_at')).end(),
              window_ends_at: ended().then(ends).else(eb.ref('rate_limits.window_ends_at')).end(),
            };
          }),
        )
        .returning(['hits', 'window_ends_at'])
        .executeTakeFirstOrThrow();
      if (Number(row.hits) <= limit) return { allowed: true };
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((Date.parse(row.window_ends_at) - now.getTime()) / 1000)) };
    },
  };
}

function hashKey(name: string, key: string): string {
  return createHash('sha256').update(`${name}\n${key}`).digest('hex');
}

/** Deletes the counters whose window has ended (an index read); returns how many. */
export async function sweepRateLimits(db: Db, now: Date): Promise<number> {
  const r = await db.deleteFrom('rate_limits').where('window_ends_at', '<=', now.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The limits of `recap serve`: per IP, 10 subscription requests in 15 minutes; per address, 3 confirmation emails an hour. */
export function serveLimits(db: Db, clock: Clock, perIp = 10, perAddress = 3): { perIp: RateLimiter; perAddress: RateLimiter } {
  return {
    perIp: rateLimiter(db, clock, 'subscribe-per-ip', perIp, 15 * 60_000),
    perAddress: rateLimiter(db, clock, 'confirm-per-address', perAddress, 60 * 60_000),
  };
}
