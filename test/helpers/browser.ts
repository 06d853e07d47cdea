// Debian's chromium driven by playwright-core, and the app on a real local port, for the tests
// that need a real browser. CI installs chromium (.ci/run); on a laptop without it those tests are
// skipped, never faked — and under CI its absence is an error.
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && process.env.CI) throw new Error(`chromium not found at ${CHROMIUM}; .ci/run installs it`);

/** Headless, sandbox off (root), and no background traffic: this machine's network is closed. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface Served {
  method: string;
  path: string;
  status: number;
  /** The request carried credentials. */
  authorized: boolean;
}

export interface LocalServer {
  origin: string;
  /** Every response, as the server saw it. */
  served: Served[];
  /** Hand over the app once it is made (it needs the origin for BASE_URL first). */
  use(app: Hono): void;
  close(): Promise<void>;
}

/**
 * Starts listening before the app exists, so that BASE_URL can be the origin the browser really
 * uses: the CSRF check compares the Origin header to it, and the links in emails are built from it.
 */
export async function startLocalServer(): Promise<LocalServer> {
  let app: Hono | undefined;
  const served: Served[] = [];
  const server = await new Promise<ServerType>((resolve, reject) => {
    const fetch = async (req: Request, env: object) => {
      if (!app) return new Response('starting', { status: 503 });
      const res = await app.fetch(req, env);
      served.push({ method: req.method, path: new URL(req.url).pathname, status: res.status, authorized: req.headers.has('authorization') });
      return res;
    };
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    use: (a) => {
      app = a;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
