// One-click unsubscribe (RFC 8058). The URL in List-Unsubscribe takes a POST with no cookie, no
// login and no redirect; a GET only shows a page whose button POSTs, because mail scanners fetch
// every link they see.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { subscriberLinks, verifyToken } from '../audience/tokens.ts';
import { subscriberView, unsubscribe } from '../audience/subscriptions.ts';
import type { WebDeps } from './context.ts';
import { maskEmail, page } from './page.ts';
import { invalidLink } from './subscribe.ts';

export function unsubscribeRoutes(app: Hono, deps: WebDeps): void {
  app.get('/unsubscribe/:token', async (c) => {
    const claims = verifyToken(deps.secret, c.req.param('token'), 'unsubscribe', deps.clock.now());
    const s = claims && (await subscriberView(deps.db, claims.listId, claims.subscriberId));
    if (!claims || !s) return invalidLink(c, deps);
    const left = s.memberStatus === 'unsubscribed' || s.status === 'unsubscribed';
    return page(c, {
      listName: deps.list.name,
      title: 'Unsubscribe',
      body: left
        ? html`<h1>You are unsubscribed</h1><p>${maskEmail(s.email)} receives nothing more from ${deps.list.name}.</p>`
        : html`<h1>Unsubscribe?</h1>
<p>${maskEmail(s.email)} will receive no more editions of ${deps.list.name}.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
<p class="muted">Only want fewer topics, or a break? <a href="${subscriberLinks(deps.config.baseUrl, deps.secret, s.id, claims.listId).preferencesUrl}">Change your preferences</a> instead.</p>`,
    });
  });

  app.post('/unsubscribe/:token', async (c) => {
    const claims = verifyToken(deps.secret, c.req.param('token'), 'unsubscribe', deps.clock.now());
    if (!claims) return c.text('This unsubscribe link is not valid.', 400);
    // The body is List-Unsubscribe=One-Click (urlencoded or multipart); the signed token is what
    // authorises, so any POST to the URL unsubscribes, and a second one changes nothing.
    const outcome = await unsubscribe(deps.db, claims.listId, claims.subscriberId, 'one-click', deps.clock.now());
    if (outcome === 'unknown') return c.text('This unsubscribe link is for a list this address is not a member of; nothing was changed.', 404);
    if (outcome === 'unsubscribed') deps.log(`subscriber ${claims.subscriberId} unsubscribed (one-click)`);
    if (!(c.req.header('accept') ?? '').includes('text/html')) return c.text('You are unsubscribed.', 200);
    return page(c, {
      listName: deps.list.name,
      title: 'Unsubscribed',
      body: html`<h1>You are unsubscribed</h1><p>You will receive no more editions of ${deps.list.name}. Sorry to see you go.</p>
<p class="muted">Changed your mind? <a href="/subscribe">Subscribe again</a>.</p>`,
    });
  });
}
