// The editor's desk at /desk, behind RECAP_EDITOR_TOKEN (a bearer token, or basic auth with it as
// the password); closed when unset. Editions with their status and counts; for a draft, the stories
// to pin, exclude or reorder, the subject, preheader and note to edit, previews of any variant or
// subscriber at desktop and phone widths, test sends, approve (now or at a time) and cancel.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { DateTime } from 'luxon';
import { normalizeEmail } from '../audience/email.ts';
import { greetingName } from '../audience/first-name.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import { audienceByVariant, topicsOfSubscribers } from '../delivery/variants.ts';
import { mostRead } from '../delivery/clicks.ts';
import { controlEdition, editionStats, type EditionStats, TransitionError } from '../editions/control.ts';
import { approveEdition, moveStory, type StoryMove, testSend, updateDetails } from '../editions/desk.ts';
import { type Edition, editionForRender, editionTopics, findEdition } from '../editions/editions.ts';
import { parseWeek } from '../editions/week.ts';
import { headerSafe as line, plainText } from '../plain-text.ts';
import { topicsOfKey, variantKey } from '../render/arrange.ts';
import { personalize } from '../render/personalize.ts';
import { topicLabel } from '../render/story-view.ts';
import { renderVariant } from '../render/variant.ts';
import { presentedSecret, sameSecret } from './auth.ts';
import { asText, formFields, type WebDeps } from './context.ts';
import { errorList, type Markup, notice, page } from './page.ts';

const PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
const DESK_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function deskRoutes(app: Hono, deps: WebDeps): void {
  app.use('/desk/*', async (c, next) => {
    const token = deps.config.editorToken;
    if (!token) return c.text('The desk is closed: set RECAP_EDITOR_TOKEN to open it.', 403);
    if (!sameSecret(presentedSecret(c), token)) {
      c.header('WWW-Authenticate', 'Basic realm="Recap desk", charset="UTF-8"');
      return c.text('The desk needs the editor token (as the password).', 401);
    }
    await next();
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', DESK_CSP);
    c.header('Cache-Control', 'no-store');
  });
  app.get('/desk', (c) => c.redirect('/desk/'));

  app.get('/desk/', async (c) => {
    const editions = await deps.db.selectFrom('editions').selectAll().where('list_id', '=', deps.list.id).orderBy('starts_at', 'desc').limit(52).execute();
    const rows: Markup[] = [];
    for (const e of editions) {
      const stats = await editionStats(deps.db, { row: e });
      rows.push(html`<li><a href="/desk/editions/${e.week}"><strong>#${e.number} · ${e.week}</strong></a> · ${e.status}<br><span class="muted">${line(e.subject)}</span>${chart(stats)}</li>`);
    }
    return page(c, {
      listName: deps.list.name,
      title: 'Desk',
      body: html`<h1>Editor's desk</h1>
<p class="muted">Mode: ${deps.config.sendMode === 'approve' ? `editions wait for approval (deadline ${deps.config.approvalDeadlineHours} h, then ${deps.config.deadlineAction})` : 'editions go out at once'} · schedule "${deps.config.cron}" ${deps.config.timeZone}</p>
${rows.length ? html`<ol class="archive">${rows}</ol>` : html`<p>No edition yet. The scheduler makes one each week; <code>recap digest build</code> makes one now.</p>`}`,
    });
  });

  const load = async (c: Context): Promise<Edition | undefined> => {
    const week = c.req.param('week') ?? '';
    try {
      parseWeek(week);
    } catch {
      return undefined;
    }
    return findEdition(deps.db, deps.list, week, deps.config.timeZone);
  };

  app.get('/desk/editions/:week', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    return editionPage(c, deps, edition, c.req.query('done') ?? null, []);
  });

  app.post('/desk/editions/:week', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    const f = await formFields(c);
    const now = deps.clock.now();
    try {
      let message: string;
      switch (asText(f.action)) {
        case 'move':
          await moveStory(deps.db, edition, Number(asText(f.article)), asText(f.move) as StoryMove, now);
          message = 'Stories reordered.';
          break;
        case 'details':
          await updateDetails(deps.db, edition, { subject: asText(f.subject), preheader: asText(f.preheader), editorNote: asText(f.note) }, now);
          message = 'Saved.';
          break;
        case 'test': {
          const to = (asText(f.to) || deps.config.editors.join(',')).split(/[\s,;]+/).filter(Boolean);
          const bad = to.filter((a) => !normalizeEmail(a));
          if (to.length === 0 || bad.length > 0) throw new TransitionError(to.length === 0 ? 'no address to send the test to (set RECAP_EDITORS or type one)' : `not email addresses: ${bad.join(', ')}`);
          await testSend(deps.config, deps.transport, edition, asText(f.variant), to.map((a) => normalizeEmail(a) as string), now);
          message = `Test sent to ${to.join(', ')} (subject starts with [TEST]; not counted as deliveries).`;
          break;
        }
        case 'approve': {
          // The form's local time is the list's time zone, where editors plan the week.
          const when = asText(f.send_at) ? DateTime.fromISO(asText(f.send_at), { zone: deps.config.timeZone }).toJSDate() : null;
          await approveEdition(deps.db, edition, 'the desk', when, now);
          message = when ? `Approved; it goes out at ${when.toISOString()}.` : 'Approved; it goes out at the scheduler’s next minute.';
          break;
        }
        case 'cancel':
          await controlEdition(deps.db, edition, 'cancel', now);
          message = 'Cancelled.';
          break;
        default:
          throw new TransitionError('unknown action');
      }
      deps.log(`desk: ${edition.row.week}: ${message}`);
      // Post, then redirect: reloading the page must not approve, move or test-send again.
      return c.redirect(`/desk/editions/${edition.row.week}?done=${encodeURIComponent(message)}`, 303);
    } catch (e) {
      if (!(e instanceof TransitionError)) throw e;
      return editionPage(c, deps, edition, null, [e.message], 400);
    }
  });

  // The email itself, for the preview frames: a variant with a sample reader, or what one subscriber would get.
  app.get('/desk/editions/:week/preview', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    const topics = editionTopics(edition);
    let key = topicsOfKey(c.req.query('variant') ?? '').filter((t) => topics.has(t)).sort().join(',');
    let values = { name: 'Ada', email: 'reader@example.com', unsubscribe_url: `${deps.config.baseUrl}/unsubscribe/preview`, preferences_url: `${deps.config.baseUrl}/preferences/preview` };
    const who = c.req.query('subscriber');
    if (who) {
      const email = normalizeEmail(who);
      const s = email ? await deps.db.selectFrom('subscribers').select(['id', 'email', 'name', 'first_name']).where('email', '=', email).executeTakeFirst() : undefined;
      if (!s) return c.text(`No subscriber ${who}.`, 404);
      key = variantKey((await topicsOfSubscribers(deps.db, [s.id], topics)).get(s.id) ?? [], topics);
      const links = subscriberLinks(deps.config.baseUrl, deps.secret, s.id, deps.list.id);
      values = { name: greetingName({ firstName: s.first_name, name: s.name }), email: s.email, unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl };
    }
    const v = await renderVariant(editionForRender(edition), key, { baseUrl: deps.config.baseUrl, postalAddress: deps.config.postalAddress });
    c.header('Content-Security-Policy', PREVIEW_CSP);
    return c.html(personalize({ html: v.html, text: v.text, placeholder_nonce: v.nonce }, values).html);
  });
}

async function editionPage(c: Context, deps: WebDeps, edition: Edition, message: string | null, errors: string[], status: 200 | 400 = 200) {
  const r = edition.row;
  const draft = r.status === 'draft';
  const stats = await editionStats(deps.db, edition);
  const read = await mostRead(deps.db, r.id);
  const audience = draft ? await audienceByVariant(deps.db, edition, editionTopics(edition)) : new Map<string, number>();
  const variants = [...audience.entries()].sort((a, b) => b[1] - a[1]);
  const variant = c.req.query('variant') ?? variants[0]?.[0] ?? '';
  const subscriber = c.req.query('subscriber') ?? '';
  const previewQuery = subscriber ? `subscriber=${encodeURIComponent(subscriber)}` : `variant=${encodeURIComponent(variant)}`;
  const move = (id: number, what: StoryMove, label: string) =>
    html`<form method="post" class="inline"><input type="hidden" name="action" value="move"><input type="hidden" name="article" value="${id}"><input type="hidden" name="move" value="${what}"><button type="submit" class="secondary small" aria-label="${label}">${label}</button></form>`;
  const stories = edition.stories.map(
    (s, i) => html`<li><strong>${line(s.title)}</strong> <span class="muted">· score ${s.score} · ${s.topics.map(topicLabel).join(', ') || 'no topic'} · ${line(s.source.name)}${i === 0 ? ' · top story' : ''}</span>
${draft ? html`<div class="moves">${i > 0 ? move(s.id, 'pin', 'Pin to top') : ''}${i > 0 ? move(s.id, 'up', 'Up') : ''}${i < edition.stories.length - 1 ? move(s.id, 'down', 'Down') : ''}${edition.stories.length > 1 ? move(s.id, 'exclude', 'Exclude') : ''}</div>` : ''}</li>`,
  );
  return page(c, {
    listName: deps.list.name,
    title: `Desk · ${r.week}`,
    status,
    wide: true,
    body: html`<p><a href="/desk/">← All editions</a></p>
<h1>#${r.number} · ${r.week} · ${r.status}</h1>
${notice(message)}${errorList(errors)}
${r.paused_reason ? html`<p class="errors">${r.paused_reason}</p>` : ''}
${r.status !== 'draft' ? html`<h2>Deliveries</h2>${chart(stats)}` : ''}
${read.length ? html`<h2>Most read</h2><ol>${read.map((s) => html`<li>${line(s.title)} <span class="muted">· ${s.clicks} clicks</span></li>`)}</ol>` : ''}
<h2>Stories</h2>
<ol class="stories">${stories}</ol>
${draft
  ? html`<h2>Subject, preheader, note</h2>
<form method="post"><input type="hidden" name="action" value="details">
<label for="subject">Subject</label><input type="text" id="subject" name="subject" maxlength="200" value="${line(r.subject)}">
<label for="preheader">Preheader</label><input type="text" id="preheader" name="preheader" maxlength="200" value="${line(r.preheader)}">
<label for="note">Editor's note</label><textarea id="note" name="note" rows="4" maxlength="2000">${plainText(r.editor_note ?? '')}</textarea>
<button type="submit">Save</button></form>`
  : html`<p><strong>${line(r.subject)}</strong><br><span class="muted">${line(r.preheader)}</span></p>`}
<h2>Preview</h2>
<form method="get" class="preview-pick">
<label for="variant">Variant</label>
<select id="variant" name="variant">${[['', 0] as [string, number], ...variants.filter(([k]) => k !== '')].map(([k, n]) => html`<option value="${k}"${k === variant && !subscriber ? html` selected` : ''}>${k === '' ? 'full edition' : topicsOfKey(k).map(topicLabel).join(' + ')}${n ? ` (${n} readers)` : ''}</option>`)}</select>
<label for="subscriber">…or what this subscriber gets</label><input type="text" inputmode="email" autocomplete="off" id="subscriber" name="subscriber" value="${subscriber}" placeholder="reader@example.com">
<button type="submit" class="secondary">Show</button></form>
<div class="previews">
<figure><figcaption>Desktop (600 px)</figcaption><iframe title="Desktop preview" class="desktop" src="/desk/editions/${r.week}/preview?${previewQuery}"></iframe></figure>
<figure><figcaption>Phone (375 px)</figcaption><iframe title="Phone preview" class="phone" src="/desk/editions/${r.week}/preview?${previewQuery}"></iframe></figure>
</div>
${draft || r.status === 'approved'
  ? html`<h2>Test send</h2>
<form method="post"><input type="hidden" name="action" value="test"><input type="hidden" name="variant" value="${variant}">
<label for="to">To</label><input type="text" id="to" name="to" value="${deps.config.editors.join(', ')}" placeholder="editor@example.com">
<button type="submit" class="secondary">Send a test</button></form>`
  : ''}
${draft
  ? html`<h2>Approve</h2>
<form method="post"><input type="hidden" name="action" value="approve">
<label for="send_at">Send at <span class="muted">(empty: now; ${deps.config.timeZone})</span></label><input type="datetime-local" id="send_at" name="send_at">
<button type="submit">Approve</button></form>`
  : ''}
${['draft', 'approved', 'sending', 'paused'].includes(r.status) ? html`<form method="post"><input type="hidden" name="action" value="cancel"><button type="submit" class="danger">Cancel this edition</button></form>` : ''}`,
  });
}

/** A small bar chart of the delivery outcomes (SVG attributes only: the CSP allows no inline style). */
function chart(stats: EditionStats): Markup {
  const bars: Array<[string, number, string]> = [
    ['submitted', stats.counts.submitted, '#1d4ed8'],
    ['deferred', stats.counts.deferred, '#b45309'],
    ['failed', stats.counts.failed, '#b42318'],
    ['uncertain', stats.counts.uncertain, '#6b7280'],
    ['bounced', stats.bounced, '#9f1239'],
    ['complained', stats.complained, '#7c2d12'],
    ['unsubscribed since', stats.unsubscribedSince, '#4b5563'],
  ];
  const max = Math.max(1, ...bars.map(([, n]) => n));
  const rows = bars.map(
    ([label, n, color], i) =>
      html`<text x="0" y="${i * 22 + 15}" font-size="12" fill="currentColor">${label}</text><rect x="130" y="${i * 22 + 4}" width="${Math.round((n / max) * 300)}" height="14" fill="${color}"></rect><text x="${136 + Math.round((n / max) * 300)}" y="${i * 22 + 15}" font-size="12" fill="currentColor">${n}</text>`,
  );
  return html`<svg class="chart" role="img" aria-label="${bars.map(([l, n]) => `${n} ${l}`).join(', ')}" viewBox="0 0 480 ${bars.length * 22}" width="100%">${rows}</svg>`;
}
