// GET /r/:token — the counted redirect of RECAP_TRACK_CLICKS. It only ever sends readers to the
// URL of the article the token was signed for.
import type { Hono } from 'hono';
import { countClick, resolveClick } from '../delivery/clicks.ts';
import { httpUrl } from '../render/story-view.ts';
import type { WebDeps } from './context.ts';

export function clickRoutes(app: Hono, deps: WebDeps): void {
  app.get('/r/:token', async (c) => {
    const target = await resolveClick(deps.db, deps.secret, c.req.param('token'));
    const url = target && httpUrl(target.url);
    if (!target || !url) return c.notFound();
    await countClick(deps.db, target.editionId, target.articleId, deps.clock.now());
    c.header('Cache-Control', 'no-store');
    return c.redirect(url, 302);
  });
}
