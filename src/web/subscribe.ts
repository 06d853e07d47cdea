// Subscribe (form and JSON) and confirm. A subscription request is validated, queued and answered
// without looking at the address, so the answer (content, status and time) is the same whether it
// is new, pending, active or suppressed, and nobody can learn who is subscribed. The worker in
// subscription-requests.ts does the rest.
import type { Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import { html } from 'hono/html';
import { describeIssues } from '../articles/article.ts';
import { greetingName } from '../audience/first-name.ts';
import { subscriberLinks, type TokenClaims, verifyToken } from '../audience/tokens.ts';
import { confirmationState, confirmSubscription, knownTopics, subscribeSchema, subscriberView, type RequestMeta } from '../audience/subscriptions.ts';
import { sendTransactional } from '../delivery/transactional.ts';
import { topicLabel } from '../render/story-view.ts';
import { renderWelcome } from '../render/transactional.ts';
import { asList, asText, clientIp, formFields, userAgent, type WebDeps } from './context.ts';
import { errorList, type Markup, page } from './page.ts';
import { queueSubscriptionRequest } from './subscription-requests.ts';
import { SUBSCRIBE_CSP, timeZoneField } from './time-zone-field.ts';

const ACCEPTED = 'Thanks! If this address can be subscribed, a confirmation link is on its way. Please check your inbox (and the spam folder).';

interface FormValues {
  email: string;
  name: string;
  timeZone: string;
  format: string;
  topics: string[];
}

export function subscribeRoutes(app: Hono, deps: WebDeps): void {
  app.get('/subscribe', async (c) => subscribePage(c, deps, { email: '', name: '', format: 'full', timeZone: '', topics: [] }, []));

  app.post('/subscribe', async (c) => {
    const fields = await formFields(c);
    const values = { email: asText(fields.email), name: asText(fields.name), format: asText(fields.format), timeZone: asText(fields.time_zone), topics: asList(fields.topics) };
    const result = await handleRequest(c, deps, values, asText(fields.website), 'form');
    if (result.kind === 'invalid') return subscribePage(c, deps, values, result.errors, 400);
    if (result.kind === 'limited') return page(c, { listName: deps.list.name, title: 'Slow down', status: 429, body: html`<h1>Too many requests</h1><p>Please try again in a few minutes.</p>` });
    return page(c, { listName: deps.list.name, title: 'Check your inbox', body: html`<h1>Check your inbox</h1><p>${ACCEPTED}</p>` });
  });

  // The same for other sites to embed, as JSON; any origin may call it (no cookies are involved).
  app.use('/api/subscribe', cors({ origin: '*', allowMethods: ['POST'], allowHeaders: ['Content-Type'] }));
  app.post('/api/subscribe', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ ok: false, errors: ['the body is not JSON'] }, 400);
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const values = { email: String(b.email ?? ''), name: String(b.name ?? ''), format: String(b.format ?? ''), timeZone: String(b.timeZone ?? ''), topics: Array.isArray(b.topics) ? b.topics.map(String) : [] };
    const result = await handleRequest(c, deps, values, String(b.website ?? ''), 'api');
    if (result.kind === 'invalid') return c.json({ ok: false, errors: result.errors }, 400);
    if (result.kind === 'limited') {
      c.header('Retry-After', String(result.retryAfter));
      return c.json({ ok: false, errors: ['too many requests; try again later'] }, 429);
    }
    return c.json({ ok: true, message: ACCEPTED }, 202);
  });

  // A GET never confirms: mail scanners open links. The page's button does.
  app.get('/confirm/:token', async (c) => {
    const claims = verifyToken(deps.secret, c.req.param('token'), 'confirm', deps.clock.now());
    if (!claims || (await confirmationState(deps.db, claims)).outcome === 'stale') return invalidLink(c, deps);
    return page(c, {
      listName: deps.list.name,
      title: 'Confirm your subscription',
      body: html`<h1>Confirm your subscription</h1>
<p>One click and the ${deps.list.name} arrives every Monday.</p>
<form method="post"><button type="submit">Confirm my subscription</button></form>`,
    });
  });

  app.post('/confirm/:token', async (c) => {
    const claims = verifyToken(deps.secret, c.req.param('token'), 'confirm', deps.clock.now());
    if (!claims) return invalidLink(c, deps);
    const outcome = await confirmSubscription(deps.db, claims, meta(c, deps, 'form'), deps.clock.now());
    if (outcome === 'stale') return invalidLink(c, deps);
    const links = subscriberLinks(deps.config.baseUrl, deps.secret, claims.subscriberId, claims.listId);
    if (outcome === 'confirmed') {
      deps.log(`subscriber ${claims.subscriberId} confirmed`);
      if (deps.config.welcomeEmail) await sendWelcome(deps, claims, links.preferencesUrl);
    }
    return page(c, {
      listName: deps.list.name,
      title: 'Subscribed',
      body: html`<h1>${outcome === 'confirmed' ? 'You are subscribed' : 'You were already subscribed'}</h1>
<p>The next edition arrives on Monday. Meanwhile, read past editions in the <a href="/archive">archive</a>.</p>
<p><a href="${links.preferencesUrl}">Choose your topics and manage your subscription</a></p>`,
    });
  });
}

type RequestResult = { kind: 'accepted' } | { kind: 'invalid'; errors: string[] } | { kind: 'limited'; retryAfter: number };

async function handleRequest(c: Context, deps: WebDeps, values: FormValues, honeypot: string, source: RequestMeta['source']): Promise<RequestResult> {
  const ip = clientIp(c, deps.config.trustProxy) ?? 'unknown';
  const limit = await deps.limits.perIp.take(`ip:${ip}`);
  if (!limit.allowed) return { kind: 'limited', retryAfter: limit.retryAfter };
  // A filled honeypot is a bot: answer as if all went well, and do nothing.
  if (honeypot.trim() !== '') return { kind: 'accepted' };
  const parsed = subscribeSchema(new Set(await knownTopics(deps.db))).safeParse(values);
  if (!parsed.success) return { kind: 'invalid', errors: describeIssues(parsed.error) };
  await queueSubscriptionRequest(deps.db, { listId: deps.list.id, ...parsed.data, meta: meta(c, deps, source), at: deps.clock.now() });
  deps.subscriptionWorker.wake();
  return { kind: 'accepted' };
}

/** Full or brief, as radio buttons; `chosen` as typed (anything but brief is the full digest). */
export function formatChoice(chosen: string): Markup {
  const brief = chosen.trim().toLowerCase() === 'brief';
  return html`<fieldset><legend>How much of it</legend>
<label><input type="radio" name="format" value="full"${brief ? '' : html` checked`}> Full digest <span class="muted">(every story with its TL;DR, the top story analysed in depth)</span></label>
<label><input type="radio" name="format" value="brief"${brief ? html` checked` : ''}> Brief <span class="muted">(the top story’s TL;DR and the week’s headlines: a two-minute read)</span></label></fieldset>`;
}

function meta(c: Context, deps: WebDeps, source: RequestMeta['source']): RequestMeta {
  return { source, ip: clientIp(c, deps.config.trustProxy), userAgent: userAgent(c) };
}

async function sendWelcome(deps: WebDeps, claims: TokenClaims, preferencesUrl: string): Promise<void> {
  const s = await subscriberView(deps.db, claims.listId, claims.subscriberId);
  if (!s) return;
  const email = await renderWelcome({ listName: deps.list.name, name: greetingName(s), archiveUrl: `${deps.config.baseUrl}/archive`, preferencesUrl, postalAddress: deps.config.postalAddress });
  await sendTransactional(deps.transport, deps.config, { email: s.email, name: s.name }, email, deps.clock.now());
}

export function invalidLink(c: Context, deps: WebDeps) {
  return page(c, {
    listName: deps.list.name,
    title: 'Link not valid',
    status: 400,
    body: html`<h1>This link is not valid</h1>
<p>It may have expired, been replaced by a newer one, or been copied incompletely. You can <a href="/subscribe">subscribe again</a>.</p>`,
  });
}

async function subscribePage(c: Context, deps: WebDeps, values: FormValues, errors: string[], status: 200 | 400 = 200) {
  const topics = await knownTopics(deps.db);
  const chosen = new Set(values.topics);
  const boxes: Markup[] = topics.map(
    (t) => html`<label><input type="checkbox" name="topics" value="${t}"${chosen.has(t) ? html` checked` : ''}> ${topicLabel(t)}</label>`,
  );
  c.header('Content-Security-Policy', SUBSCRIBE_CSP);
  return page(c, {
    listName: deps.list.name,
    title: 'Subscribe',
    status,
    body: html`<h1>Subscribe to ${deps.list.name}</h1>
<p>Every Monday: the week's most important AI stories, each with a 30-second TL;DR. One click to leave.</p>
${errorList(errors)}
<form method="post" action="/subscribe">
<label for="email">Email address</label>
<input type="text" inputmode="email" id="email" name="email" required maxlength="254" autocomplete="email" autocapitalize="off" spellcheck="false" value="${values.email}">
<label for="name">Name <span class="muted">(optional, for the greeting)</span></label>
<input type="text" id="name" name="name" maxlength="100" autocomplete="name" value="${values.name}">
${formatChoice(values.format)}
${timeZoneField(values.timeZone || null, deps.config.timeZone, { fromBrowser: true })}
<fieldset><legend>Lead with these topics <span class="muted">(none: the full edition)</span></legend>
<div class="topics">${boxes}</div></fieldset>
<div class="hp" aria-hidden="true"><label for="website">Leave this empty</label><input type="text" id="website" name="website" tabindex="-1" autocomplete="off"></div>
<button type="submit">Subscribe</button>
</form>
<p class="muted">We send a confirmation link first. We store your address, name, time zone, topics, and when and from where you subscribed, to prove your consent; you can download or erase it all from any email.</p>`,
  });
}
