// The HTTP app of `recap serve`: subscriber pages, the archive and its feed, the aggregator's
// intake, health checks and metrics. Every response carries security headers; pages load nothing from
// other hosts and run no script.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { html } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';
import { archiveRoutes } from './archive.ts';
import type { WebDeps } from './context.ts';
import { bounceRoutes } from './bounces.ts';
import { clickRoutes } from './clicks.ts';
import { deskRoutes } from './desk.ts';
import { healthRoutes } from './health.ts';
import { intakeRoutes } from './intake.ts';
import { page } from './page.ts';
import { preferencesRoutes } from './preferences.ts';
import { ICON, STYLESHEET } from './style.ts';
import { subscribeRoutes } from './subscribe.ts';
import { unsubscribeRoutes } from './unsubscribe.ts';

export function createApp(deps: WebDeps): Hono {
  const app = new Hono();
  const origin = new URL(deps.config.baseUrl).origin;

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      // A route that sets its own policy (the archive's web version, the desk's previews) keeps it.
      overwrite: false,
      strictTransportSecurity: origin.startsWith('https:') ? 'max-age=31536000' : false,
    }),
  );
  // Forms are small; the intake sets its own, larger limit.
  app.use('*', async (c, next) => (c.req.path === '/api/articles' ? next() : bodyLimit({ maxSize: 64 * 1024 })(c, next)));
  // Browser forms must come from our own pages. Exempt: the one-click unsubscribe POST (mailbox
  // providers send it from their servers; the signed URL authorises it) and the /api/ endpoints
  // (other sites and providers call them; a secret or CORS governs them, and SNS posts text/plain).
  app.use('*', async (c, next) =>
    c.req.path.startsWith('/unsubscribe/') || c.req.path.startsWith('/api/')
      ? next()
      : csrf({ origin: (o, ctx) => o === origin || o === new URL(ctx.req.url).origin })(c, next),
  );

  app.get('/assets/recap.css', (c) => c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }));
  app.get('/assets/icon.svg', (c) => c.body(ICON, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }));
  app.get('/favicon.ico', (c) => c.redirect('/assets/icon.svg', 301));
  app.get('/', (c) => c.redirect('/subscribe'));
  healthRoutes(app, deps);
  subscribeRoutes(app, deps);
  unsubscribeRoutes(app, deps);
  preferencesRoutes(app, deps);
  archiveRoutes(app, deps);
  intakeRoutes(app, deps);
  bounceRoutes(app, deps);
  deskRoutes(app, deps);
  clickRoutes(app, deps);

  app.notFound((c) => page(c, { listName: deps.list.name, title: 'Not found', status: 404, body: html`<h1>Not found</h1><p>There is nothing here. Try the <a href="/archive">archive</a>.</p>` }));
  app.onError((err, c) => {
    // Refusals raised by middleware (a cross-site form: 403, a body too large: 413) keep their status.
    if (err instanceof HTTPException) return err.getResponse();
    deps.log(`error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return page(c, { listName: deps.list.name, title: 'Error', status: 500, body: html`<h1>Something went wrong</h1><p>Please try again in a moment.</p>` });
  });
  return app;
}
