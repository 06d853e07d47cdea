// GET /r/:token — the counted redirect of RECAP_TRACK_CLICKS. It only ever sends readers to the
// URL of the article the token was signed for; a click is counted per story and message
// (src/delivery/clicks.ts), and a message tag that cannot be one never stops the redirect.
import type { Hono } from 'hono';
import { recordClick, resolveClick } from '../delivery/clicks.ts';
import { httpUrl } from '../render/story-view.ts';
import type { WebDeps } from './context.ts';

export function clickRoutes(app: Hono, deps: WebDeps): void {
  app.get('/r/:token', async (c) => {
    const now = deps.clock.now();
    const target = await resolveClick(deps.db, deps.secret, c.req.param('token'), now);
    const url = target && httpUrl(target.url);
    if (!target || !url) return c.notFound();
    await recordClick(deps.db, target, now);
    c.header('Cache-Control', 'no-store');
    return c.redirect(url, 302);
  });
}
