// The preferences page, reached from a signed link in every email: topics, name and first name, pause,
// unsubscribe or come back, download everything we hold, or be erased.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import { describeIssues, topicSchema } from '../articles/article.ts';
import {
  eraseSubscriber,
  exportSubscriber,
  firstNameSchema,
  formatSchema,
  knownTopics,
  personNameSchema,
  setPaused,
  subscriberView,
  type SubscriberView,
  unsubscribe,
  updatePreferences,
} from '../audience/subscriptions.ts';
import { greetingName, MAX_FIRST_NAME_LENGTH } from '../audience/first-name.ts';
import { timeZoneSchema } from '../audience/time-zone.ts';
import { MAX_NAME_LENGTH } from '../audience/subscribers.ts';
import { type TokenClaims, verifyToken } from '../audience/tokens.ts';
import { topicLabel } from '../render/story-view.ts';
import { asList, asText, clientIp, formFields, userAgent, type WebDeps } from './context.ts';
import { errorList, type Markup, notice, page } from './page.ts';
import { formatChoice, invalidLink } from './subscribe.ts';
import { queueSubscriptionRequest } from './subscription-requests.ts';
import { timeZoneField } from './time-zone-field.ts';

export function preferencesRoutes(app: Hono, deps: WebDeps): void {
  const load = async (c: Context) => {
    const claims = verifyToken(deps.secret, c.req.param('token') ?? '', 'preferences', deps.clock.now());
    const s = claims && (await subscriberView(deps.db, claims.listId, claims.subscriberId));
    return claims && s ? { claims, s } : undefined;
  };

  app.get('/preferences/:token', async (c) => {
    const found = await load(c);
    if (!found) return invalidLink(c, deps);
    return preferencesPage(c, deps, found.s, null, []);
  });

  app.get('/preferences/:token/data.json', async (c) => {
    const found = await load(c);
    if (!found) return c.json({ error: 'this link is not valid' }, 400);
    c.header('Content-Disposition', 'attachment; filename="my-recap-data.json"');
    c.header('Cache-Control', 'no-store');
    return c.json(await exportSubscriber(deps.db, found.s.id));
  });

  app.post('/preferences/:token', async (c) => {
    const found = await load(c);
    if (!found) return invalidLink(c, deps);
    const { claims, s } = found;
    const fields = await formFields(c);
    const now = deps.clock.now();
    switch (asText(fields.action)) {
      case 'save': {
        const known = new Set(await knownTopics(deps.db));
        const parsed = z
          .object({ name: personNameSchema, firstName: firstNameSchema, format: formatSchema, topics: z.array(topicSchema.refine((t) => known.has(t), 'is not a topic of this list')), timeZone: timeZoneSchema })
          .safeParse({ name: asText(fields.name), firstName: asText(fields.first_name), format: asText(fields.format), topics: asList(fields.topics), timeZone: asText(fields.time_zone) });
        if (!parsed.success) {
          const typed = { ...s, name: asText(fields.name), firstName: asText(fields.first_name), format: asText(fields.format), topics: asList(fields.topics), timeZone: asText(fields.time_zone) || null };
          return preferencesPage(c, deps, typed, null, describeIssues(parsed.error), 400);
        }
        const { name, firstName, format, topics, timeZone } = parsed.data;
        await updatePreferences(deps.db, s.id, { name, firstName, format, topics: [...new Set(topics)], timeZone }, now);
        return reload(c, deps, claims, 'Saved. The next edition leads with your topics.');
      }
      case 'pause':
        await setPaused(deps.db, s.id, true, now);
        return reload(c, deps, claims, 'Paused. You receive nothing until you resume.');
      case 'resume':
        await setPaused(deps.db, s.id, false, now);
        return reload(c, deps, claims, 'Welcome back: the next edition comes on Monday.');
      case 'unsubscribe':
        await unsubscribe(deps.db, claims.listId, s.id, 'preferences', now);
        return reload(c, deps, claims, 'You are unsubscribed and will receive nothing more.');
      case 'resubscribe': {
        // Coming back needs a new confirmation, like a first subscription, through the same queue.
        const meta = { source: 'preferences' as const, ip: clientIp(c, deps.config.trustProxy), userAgent: userAgent(c) };
        await queueSubscriptionRequest(deps.db, { listId: claims.listId, email: s.email, name: s.name, format: s.format, timeZone: s.timeZone, topics: s.topics, meta, at: now });
        deps.subscriptionWorker.wake();
        return reload(c, deps, claims, 'We are sending you a confirmation link: click it to come back.');
      }
      case 'erase': {
        if (asText(fields.confirm) !== 'yes') return preferencesPage(c, deps, s, null, ['Tick the box to confirm that everything should be erased.'], 400);
        await eraseSubscriber(deps.db, s.id, now);
        deps.log(`subscriber ${s.id} erased`);
        return page(c, { listName: deps.list.name, title: 'Erased', body: html`<h1>Your data is erased</h1><p>We deleted your address, name, topics and history. We keep only a one-way hash of the address, so that we never email it again unless you subscribe anew.</p>` });
      }
      default:
        return preferencesPage(c, deps, s, null, ['Unknown action.'], 400);
    }
  });
}

async function reload(c: Context, deps: WebDeps, claims: TokenClaims, message: string) {
  const s = await subscriberView(deps.db, claims.listId, claims.subscriberId);
  if (!s) return invalidLink(c, deps);
  return preferencesPage(c, deps, s, message, []);
}

/** The page shows what was typed when a save failed: the format too, as a string. */
type ShownSubscriber = Omit<SubscriberView, 'format'> & { format: string };

async function preferencesPage(c: Context, deps: WebDeps, s: ShownSubscriber, message: string | null, errors: string[], status: 200 | 400 = 200) {
  const topics = await knownTopics(deps.db);
  const chosen = new Set(s.topics);
  const boxes: Markup[] = topics.map((t) => html`<label><input type="checkbox" name="topics" value="${t}"${chosen.has(t) ? html` checked` : ''}> ${topicLabel(t)}</label>`);
  const subscribed = s.status === 'active' && s.memberStatus === 'active';
  const pending = s.status === 'pending' && s.memberStatus === 'active';
  const state = subscribed ? (s.paused ? 'paused' : 'subscribed') : pending ? 'waiting for confirmation' : 'not subscribed';
  const action = (name: string, label: string, cls = '') => html`<form method="post"><input type="hidden" name="action" value="${name}"><button type="submit" class="${cls}">${label}</button></form>`;
  return page(c, {
    listName: deps.list.name,
    title: 'Your preferences',
    status,
    body: html`<h1>Your preferences</h1>
${notice(message)}${errorList(errors)}
<p>${s.email} · <strong>${state}</strong></p>
<form method="post">
<input type="hidden" name="action" value="save">
<label for="name">Name</label>
<input type="text" id="name" name="name" maxlength="${MAX_NAME_LENGTH}" value="${s.name ?? ''}">
<label for="first_name">First name <span class="muted">(left empty, the emails say “Hi ${greetingName({ firstName: null, name: s.name })}”)</span></label>
<input type="text" id="first_name" name="first_name" maxlength="${MAX_FIRST_NAME_LENGTH}" autocomplete="given-name" value="${s.firstName ?? ''}">
${formatChoice(s.format)}
${timeZoneField(s.timeZone, deps.config.timeZone, { fromBrowser: false })}
<fieldset><legend>Lead with these topics <span class="muted">(none: the full edition)</span></legend>
<div class="topics">${boxes}</div></fieldset>
<button type="submit">Save preferences</button>
</form>
<h2>Your subscription</h2>
${subscribed ? (s.paused ? action('resume', 'Resume the recap') : action('pause', 'Pause the recap', 'secondary')) : ''}
${subscribed || pending ? action('unsubscribe', 'Unsubscribe', 'secondary') : action('resubscribe', 'Subscribe again')}
<h2>Your data</h2>
<p><a href="${c.req.path}/data.json">Download everything we hold about you</a> (JSON: profile, consent record, history).</p>
<form method="post">
<input type="hidden" name="action" value="erase">
<label class="check"><input type="checkbox" name="confirm" value="yes"> Erase my address, name, topics and history for good</label>
<button type="submit" class="danger">Erase my data</button>
</form>`,
  });
}
