// /healthz (the database answers), /readyz (ready to serve, and the daemon's heartbeat) and
// /metrics (Prometheus; off unless RECAP_METRICS_TOKEN is set, and only with that token).
import type { Hono } from 'hono';
import { databaseAnswers, readiness } from '../health.ts';
import { metricsRegistry } from '../metrics.ts';
import { presentedSecret, sameSecret } from './auth.ts';
import type { WebDeps } from './context.ts';

export function healthRoutes(app: Hono, deps: WebDeps): void {
  app.get('/healthz', async (c) => {
    const answers = await databaseAnswers(deps.db);
    return answers.ok ? c.json({ status: 'ok' }) : c.json({ status: 'error', error: answers.error }, 503);
  });

  app.get('/readyz', async (c) => {
    const report = await readiness(deps.db, deps.clock.now());
    return c.json({ status: report.ready ? 'ready' : 'not ready', ...report }, report.ready ? 200 : 503);
  });

  const token = deps.config.metricsToken;
  if (!token) return; // off by default: /metrics is then Not Found like any other unknown path
  const registry = metricsRegistry(deps.db, deps.clock);
  app.get('/metrics', async (c) => {
    if (!sameSecret(presentedSecret(c), token)) {
      return c.text('a bearer token (RECAP_METRICS_TOKEN) is required\n', 401, { 'WWW-Authenticate': 'Bearer realm="recap metrics"' });
    }
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
  });
}
