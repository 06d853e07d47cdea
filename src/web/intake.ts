// POST /api/articles: the aggregator pushes articles (a JSON array or NDJSON) through the same
// validation and upsert as `recap articles import`, and gets a result per record.
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ImportFileError } from '../articles/formats.ts';
import { importArticles } from '../articles/import.ts';
import { presentedSecret, sameSecret } from './auth.ts';
import type { WebDeps } from './context.ts';

export function intakeRoutes(app: Hono, deps: WebDeps): void {
  app.post('/api/articles', bodyLimit({ maxSize: 5 * 1024 * 1024, onError: (c) => c.json({ error: 'the body is larger than 5 MB; send fewer articles at a time' }, 413) }), async (c) => {
    const expected = deps.config.ingestToken;
    if (!expected) return c.json({ error: 'article intake is closed: RECAP_INGEST_TOKEN is not set' }, 403);
    if (!sameSecret(presentedSecret(c), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="recap"');
      return c.json({ error: 'a valid bearer token is required' }, 401);
    }
    const type = c.req.header('content-type') ?? '';
    const format = /ndjson|jsonl/i.test(type) ? 'ndjson' : /json/i.test(type) ? 'json' : undefined;
    if (!format) return c.json({ error: 'send application/json (an array) or application/x-ndjson' }, 415);
    try {
      const report = await importArticles(deps.db, await c.req.text(), { now: deps.clock.now(), format });
      deps.log(`intake: ${report.inserted} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.failed} failed`);
      // 200 when every record was stored; 422 when some were not (the good ones were).
      return c.json(report, report.failed > 0 ? 422 : 200);
    } catch (e) {
      if (e instanceof ImportFileError) return c.json({ error: e.message }, 400);
      throw e;
    }
  });
}
