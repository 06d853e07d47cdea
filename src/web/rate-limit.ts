// Fixed-window counters in memory, per key (an IP, an address). One process serves the pages
// today; several would need the counters in the database.
import type { Clock } from '../context.ts';

export interface RateLimiter {
  /** Counts one hit; false when `key` is over its limit for the current window. */
  take(key: string): boolean;
  /** Seconds until `key` may try again. */
  retryAfter(key: string): number;
}

export function rateLimiter(clock: Clock, limit: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  const current = (key: string) => {
    const now = clock.now().getTime();
    let w = windows.get(key);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, count: 0 };
      windows.set(key, w);
    }
    // Forget old windows now and then, so the map stays small.
    if (windows.size > 10_000) for (const [k, v] of windows) if (now - v.start >= windowMs) windows.delete(k);
    return { w, now };
  };
  return {
    take(key) {
      const { w } = current(key);
      w.count++;
      return w.count <= limit;
    },
    retryAfter(key) {
      const { w, now } = current(key);
      return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    },
  };
}
