// What the web handlers share: the app's dependencies and small request helpers.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { ListRow } from '../../db/schema.ts';
import type { Context as AppContext } from '../context.ts';
import type { LinkChecker } from '../desk/link-check.ts';
import type { Transport } from '../delivery/transport.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { SubscriptionWorker } from './subscription-requests.ts';

export interface WebDeps extends AppContext {
  secret: string;
  transport: Transport;
  list: ListRow;
  limits: { perIp: RateLimiter; perAddress: RateLimiter };
  log: (line: string) => void;
  /** Woken after a subscription request is queued: it does the rest once the answer has gone. */
  subscriptionWorker: Pick<SubscriptionWorker, 'wake'>;
  /** The desk's background link check; the desk makes its own when none is given. */
  linkChecker?: LinkChecker | undefined;
}

export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // app.request() in tests has no socket
  }
}

export function userAgent(c: Context): string | null {
  return c.req.header('user-agent')?.slice(0, 500) ?? null;
}

/** Form fields as strings (and string arrays for repeated keys), from urlencoded or multipart bodies. */
export async function formFields(c: Context): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

export function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function asText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
