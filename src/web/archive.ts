// Past editions on the web: the archive, each edition's web version ("view in browser"), and an
// RSS 2.0 feed. Only sent editions, the full edition, and nothing personal.
import { generateRssFeed } from 'feedsmith';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { findEdition, editionForRender } from '../editions/editions.ts';
import { parseWeek, weekOfLabel } from '../editions/week.ts';
import { headerSafe } from '../plain-text.ts';
import { escapeHtml } from '../render/personalize.ts';
import { archiveUrl, renderWebVersion } from '../render/variant.ts';
import type { WebDeps } from './context.ts';
import { page } from './page.ts';

/** The web version's own markup carries inline styles (it is the email), so its CSP allows them. */
const EDITION_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async function sentEditions(deps: WebDeps) {
  return deps.db
    .selectFrom('editions')
    .select(['week', 'number', 'subject', 'preheader', 'sent_at', 'starts_at'])
    .where('list_id', '=', deps.list.id)
    .where('status', '=', 'sent')
    .orderBy('starts_at', 'desc')
    .execute();
}

export function archiveRoutes(app: Hono, deps: WebDeps): void {
  const cache = new Map<string, string>();

  app.get('/archive', async (c) => {
    const editions = await sentEditions(deps);
    return page(c, {
      listName: deps.list.name,
      title: 'Archive',
      body: html`<h1>Archive</h1>
${editions.length === 0 ? html`<p>No edition has been sent yet.</p>` : ''}
<ol class="archive">${editions.map((e) => html`<li><a href="/archive/${e.week}"><strong>#${e.number}</strong> · ${headerSafe(e.subject)}</a><br><span class="muted">${weekOfLabel(e.starts_at, deps.config.timeZone)} · ${headerSafe(e.preheader)}</span></li>`)}</ol>
<p><a href="/feed.xml">RSS feed</a> · <a href="/subscribe">Subscribe</a></p>`,
    });
  });

  app.get('/archive/:week', async (c) => {
    const week = c.req.param('week');
    try {
      parseWeek(week);
    } catch {
      return c.notFound();
    }
    const edition = await findEdition(deps.db, deps.list, week, deps.config.timeZone);
    if (!edition || edition.row.status !== 'sent') return c.notFound();
    const key = `${edition.row.id}:${edition.row.updated_at}`;
    let body = cache.get(key);
    if (!body) {
      body = await renderWebVersion(editionForRender(edition), { baseUrl: deps.config.baseUrl, postalAddress: deps.config.postalAddress });
      cache.set(key, body);
    }
    c.header('Content-Security-Policy', EDITION_CSP);
    return c.html(body);
  });

  app.get('/feed.xml', async (c) => {
    const editions = await sentEditions(deps);
    const name = headerSafe(deps.list.name);
    // feedsmith builds the XML (escaping, CDATA split at "]]>"). Titles are plain text; readers
    // render a description as HTML, so ours is the plain text escaped as HTML: it shows as typed.
    const xml = generateRssFeed({
      title: name,
      link: `${deps.config.baseUrl}/archive`,
      description: escapeHtml(`Every edition of ${name}: the week's most important AI stories.`),
      language: 'en',
      items: editions.map((e) => ({
        title: headerSafe(e.subject),
        link: archiveUrl(deps.config.baseUrl, e.week),
        guid: { value: archiveUrl(deps.config.baseUrl, e.week), isPermaLink: true },
        pubDate: new Date(e.sent_at ?? e.starts_at),
        description: escapeHtml(headerSafe(e.preheader)),
      })),
    });
    return c.body(xml, 200, { 'Content-Type': 'application/rss+xml; charset=utf-8' });
  });
}
