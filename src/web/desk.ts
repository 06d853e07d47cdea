// The editor's desk at /desk, behind RECAP_EDITOR_TOKEN (a bearer token, or basic auth with it as
// the password); closed when unset. The pages only: what editors can do lives in src/desk/, which
// `recap edition …` uses too.
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import { DateTime } from 'luxon';
import { normalizeEmail } from '../audience/email.ts';
import { NotFoundError } from '../audience/lists.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import { mostRead } from '../delivery/clicks.ts';
import { addItem, approveEdition, backToDraft, editBlurb, moveEntry, type StoryMove, updateDetails } from '../desk/actions.ts';
import { inboxView } from '../desk/inbox.ts';
import { editionUrls, linkChecker, linkResults, linksNeedCheck, linkWorks } from '../desk/link-check.ts';
import { inertLinks, type PreviewTarget, previewTarget, previewValues, renderPreview } from '../desk/preview.ts';
import { describeDeadline, describeSend, localTime, nextWeeklyRun, sendPlan } from '../desk/schedule.ts';
import { MAX_SUBJECTS, removeSubjectTest, setSubjectTest } from '../desk/subject-test.ts';
import { testSend } from '../desk/test-send.ts';
import { type Audience, editionAudience } from '../desk/variants.ts';
import { controlEdition, editionStats, type EditionStats, TransitionError } from '../delivery/control.ts';
import { clickWeightingOn, editionWeights, setClickWeighting } from '../editions/click-weighting.ts';
import { findSubjectTest, sampleSize, type SubjectTest, subjectTestBlocked, type SubjectTestReport, subjectTestReport } from '../delivery/subject-test.ts';
import { armLetter, confidenceText, formatP, percent } from '../editions/subject-stats.ts';
import { editionWaves, waveLine } from '../delivery/waves.ts';
import { type FormatStats, statsByFormat } from '../delivery/format-stats.ts';
import { type Edition, editionEntries, findEdition } from '../editions/editions.ts';
import { parseWeek } from '../editions/week.ts';
import type { LinkCheckRow } from '../../db/schema.ts';
import { headerSafe as line, plainText } from '../plain-text.ts';
import { leadPreheader, leadSubject } from '../render/headline.ts';
import { describeVariantKey, topicsOfKey } from '../render/arrange.ts';
import { topicLabel } from '../render/story-view.ts';
import { presentedSecret, sameSecret } from './auth.ts';
import { clickWeightingSection, storyScore } from './desk-clicks.ts';
import { asText, formFields, type WebDeps } from './context.ts';
import { errorList, type Markup, notice, page } from './page.ts';

const PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
const DESK_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function deskRoutes(app: Hono, deps: WebDeps): void {
  const checks = deps.linkChecker ?? linkChecker({ db: deps.db, clock: deps.clock, log: deps.log, timeoutMs: deps.config.linkCheckTimeoutMs });

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
    const { config } = deps;
    const editions = await deps.db.selectFrom('editions').selectAll().where('list_id', '=', deps.list.id).orderBy('starts_at', 'desc').limit(52).execute();
    const rows: Markup[] = [];
    for (const e of editions) {
      const stats = await editionStats(deps.db, { row: e });
      // A chart only where something was sent: a draft's would be all zeros.
      const sent = Object.values(stats.counts).some((n) => n > 0);
      rows.push(html`<li><a href="/desk/editions/${e.week}"><strong>#${e.number} · ${e.week}</strong></a> · ${e.status}<br><span class="muted">${line(e.subject)}</span>${sent ? chart(stats) : ''}</li>`);
    }
    const next = nextWeeklyRun(config, deps.clock.now());
    const mode =
      config.sendMode === 'approve'
        ? `Each week's edition waits for an editor's approval; ${config.approvalDeadlineHours} h after the editors are told, an unapproved one ${config.deadlineAction === 'send' ? 'goes out anyway' : 'is skipped'}.`
        : 'Each week’s edition goes out as soon as it is made (no approval).';
    return page(c, {
      listName: deps.list.name,
      title: 'Desk',
      body: html`<h1>Editor's desk</h1>
<p class="muted">${mode}${next ? ` Next weekly run: ${localTime(next, config.timeZone)}.` : ''}</p>
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

  /** What the request previews; a subscriber that does not exist is the editor's error, not a 500. */
  const target = async (edition: Edition, asked: { variant?: string | undefined; subscriber?: string | undefined }): Promise<PreviewTarget | string> => {
    try {
      return await previewTarget(deps.db, edition, asked);
    } catch (e) {
      if (e instanceof NotFoundError) return e.message;
      throw e;
    }
  };

  app.get('/desk/editions/:week', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    const previewed = await target(edition, { variant: c.req.query('variant'), subscriber: c.req.query('subscriber') });
    if (typeof previewed === 'string') return editionPage(c, deps, edition, await target(edition, {}) as PreviewTarget, null, [previewed], 404);
    if (edition.row.status === 'draft' || edition.row.status === 'approved') {
      if (linksNeedCheck(editionUrls(edition), await linkResults(deps.db, edition.row.id), deps.clock.now())) checks.start(edition);
    }
    return editionPage(c, deps, edition, previewed, c.req.query('done') ?? null, []);
  });

  // The question before an approval: who it goes to, when, and whether anything will send it.
  app.get('/desk/editions/:week/approve', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    if (edition.row.status !== 'draft') return editionPage(c, deps, edition, (await target(edition, {})) as PreviewTarget, null, [`edition ${edition.row.week} is ${edition.row.status}; only a draft can be approved`], 400);
    const sendAt = parseSendAt(asText(c.req.query('send_at')), deps.config.timeZone);
    if (typeof sendAt === 'string') return editionPage(c, deps, edition, (await target(edition, {})) as PreviewTarget, null, [sendAt], 400);
    const now = deps.clock.now();
    const audience = await editionAudience(deps.db, edition);
    const plan = { ...(await sendPlan(deps.db, deps.config, edition, now)), sendAt };
    const results = await linkResults(deps.db, edition.row.id);
    const urls = editionUrls(edition);
    const broken = urls.filter((u) => results.has(u) && !linkWorks(results.get(u) as LinkCheckRow));
    const unchecked = urls.filter((u) => !results.has(u)).length;
    return page(c, {
      listName: deps.list.name,
      title: `Approve ${edition.row.week}`,
      body: html`<p><a href="/desk/editions/${edition.row.week}">← Back to the edition</a></p>
<h1>Approve #${edition.row.number} · ${edition.row.week}?</h1>
<p>It goes to <strong>${plural(audience.total, 'reader')}</strong> in ${plural(audience.variants.filter((v) => v.readers > 0).length, 'variant')}:</p>
${variantTable(audience)}
<p>${describeSend(plan, deps.config.timeZone, now)}</p>
${subjectTestPlan(await findSubjectTest(deps.db, edition.row.id), audience.total, deps.config)}
${broken.length ? html`<p class="errors">${plural(broken.length, 'link')} of ${urls.length} did not answer well: ${broken.join(', ')}. <a href="/desk/editions/${edition.row.week}#links">See the link check</a>.</p>` : ''}${unchecked ? html`<p class="muted">${plural(unchecked, 'link')} not checked yet.</p>` : ''}
<p class="muted">Until the send starts you can take it back to draft from the edition's page.</p>
<form method="post" action="/desk/editions/${edition.row.week}"><input type="hidden" name="action" value="approve"><input type="hidden" name="send_at" value="${asText(c.req.query('send_at'))}"><input type="hidden" name="readers" value="${audience.total}">
<button type="submit">Approve: send to ${plural(audience.total, 'reader')}</button></form>`,
    });
  });

  app.post('/desk/editions/:week', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    const f = await formFields(c);
    const now = deps.clock.now();
    const previewed = { variant: asText(f.variant), subscriber: asText(f.subscriber) };
    let anchor = '';
    try {
      let message: string;
      switch (asText(f.action)) {
        case 'move': {
          const kind = asText(f.item) ? 'item' : 'story';
          const id = Number(asText(f.item) || asText(f.article));
          await moveEntry(deps.db, edition, { kind, id }, asText(f.move) as StoryMove, now);
          message = asText(f.move) === 'pin' ? 'Pinned: it leads every variant.' : asText(f.move) === 'unpin' ? 'Unpinned: each variant leads with its readers’ topics again.' : 'Stories reordered.';
          // Back where the editor was, not at the top of the page.
          anchor = asText(f.move) === 'exclude' ? '#order' : `#${kind}-${id}`;
          break;
        }
        case 'blurb': {
          const id = Number(asText(f.article));
          const restore = asText(f.restore) === 'yes';
          const tldr = ['whatChanged', 'whyItMatters', 'whatToDoNext', 'whoShouldCare'].map((k) => asText(f[k]));
          await editBlurb(deps.db, edition, id, restore ? null : { hook: asText(f.hook), tldr: tldr.some(Boolean) ? { whatChanged: tldr[0] as string, whyItMatters: tldr[1] as string, whatToDoNext: tldr[2] as string, whoShouldCare: tldr[3] as string } : null }, now);
          message = restore ? 'The article’s own blurb is back.' : 'Blurb saved for this edition (the stored article is unchanged).';
          anchor = `#story-${id}`;
          break;
        }
        case 'item':
          await addItem(deps.db, edition, { title: asText(f.title), url: asText(f.url), line: asText(f.line), after: Number(asText(f.after)) }, now);
          message = 'Editor’s item added.';
          anchor = '#order';
          break;
        case 'details':
          await updateDetails(deps.db, edition, { subject: asText(f.subject), preheader: asText(f.preheader), editorNote: asText(f.note) }, now);
          message = 'Saved.';
          anchor = '#inbox';
          break;
        case 'subject-test':
          await setSubjectTest(deps.db, deps.config, edition, {
            subjects: Array.from({ length: MAX_SUBJECTS }, (_, i) => asText(f[`subject_${i}`])),
            sampleKind: asText(f.sample_kind),
            sample: asText(f.sample),
            waitHours: asText(f.wait_hours),
            confidencePercent: asText(f.confidence),
          }, now);
          message = 'Subject test set up: it runs when the edition is sent.';
          anchor = '#subject-test';
          break;
        case 'subject-test-remove':
          await removeSubjectTest(deps.db, edition);
          message = 'Subject test removed: every reader gets the edition’s subject.';
          anchor = '#subject-test';
          break;
        case 'links':
          checks.start(edition);
          message = 'Checking the links in the background; reload in a moment.';
          anchor = '#links';
          break;
        case 'test': {
          const to = (asText(f.to) || deps.config.editors.join(',')).split(/[\s,;]+/).filter(Boolean);
          const bad = to.filter((a) => !normalizeEmail(a));
          if (to.length === 0 || bad.length > 0) throw new TransitionError(to.length === 0 ? 'no address to send the test to (set RECAP_EDITORS or type one)' : `not email addresses: ${bad.join(', ')}`);
          const what = await target(edition, previewed);
          if (typeof what === 'string') throw new TransitionError(what);
          const sent = await testSend(deps.config, deps.transport, edition, what, to.map((a) => normalizeEmail(a) as string), now);
          message = `Test of ${what.label} sent to ${to.join(', ')}: “${sent.subject}” (not counted as deliveries; its unsubscribe links are inert).`;
          anchor = '#test';
          break;
        }
        case 'approve': {
          const when = parseSendAt(asText(f.send_at), deps.config.timeZone);
          if (typeof when === 'string') throw new TransitionError(when);
          const audience = await editionAudience(deps.db, edition);
          await approveEdition(deps.db, edition, 'the desk', when, now);
          const plan = { ...(await sendPlan(deps.db, deps.config, edition, now)), sendAt: when };
          // The audience as it stands now; the question showed it as it was then.
          const shown = Number(asText(f.readers));
          const since = Number.isInteger(shown) && asText(f.readers) !== '' && shown !== audience.total ? ` (${shown} when you were asked)` : '';
          message = `Approved for ${plural(audience.total, 'reader')}${since}. ${describeSend(plan, deps.config.timeZone, now)}`;
          break;
        }
        case 'click_weighting': {
          if (!deps.config.trackClicks) throw new TransitionError('click weighting needs RECAP_TRACK_CLICKS=true: without it no clicks are counted');
          const on = asText(f.weighting) === 'on';
          await setClickWeighting(deps.db, edition.list.id, on);
          message = on
            ? 'Click weighting is on: the next edition made is ranked by its stories’ scores weighed by their topics’ click rates; this one keeps its order.'
            : 'Click weighting is off: the next edition made is ranked by its stories’ scores alone; this one keeps its order.';
          anchor = '#clicks';
          break;
        }
        case 'draft':
          await backToDraft(deps.db, edition, now);
          message = 'Back to draft: it will not go out until it is approved again.';
          break;
        case 'cancel':
          await controlEdition(deps.db, edition, 'cancel', now);
          message = 'Cancelled.';
          break;
        default:
          throw new TransitionError('unknown action');
      }
      deps.log(`desk: ${edition.row.week}: ${message}`);
      // Post, then redirect: reloading the page must not approve, move or test-send again. The
      // preview the editor was looking at stays.
      const query = new URLSearchParams({ ...(previewed.subscriber ? { subscriber: previewed.subscriber } : previewed.variant ? { variant: previewed.variant } : {}), done: message });
      return c.redirect(`/desk/editions/${edition.row.week}?${query.toString().replace(/\+/g, '%20')}${anchor}`, 303);
    } catch (e) {
      if (!(e instanceof TransitionError)) throw e;
      const fresh = (await findEdition(deps.db, deps.list, edition.row.week, deps.config.timeZone)) as Edition;
      const what = await target(fresh, previewed);
      return editionPage(c, deps, fresh, typeof what === 'string' ? ((await target(fresh, {})) as PreviewTarget) : what, null, [e.message], 400);
    }
  });

  // The email itself, for the preview frames: a variant with a sample reader, or what one subscriber would get.
  app.get('/desk/editions/:week/preview', async (c) => {
    const edition = await load(c);
    if (!edition) return c.notFound();
    const what = await target(edition, { variant: c.req.query('variant'), subscriber: c.req.query('subscriber') });
    if (typeof what === 'string') return c.text(`${what[0]?.toUpperCase()}${what.slice(1)}.`, 404);
    const links = what.subscriber ? subscriberLinks(deps.config.baseUrl, deps.secret, what.subscriber.id, deps.list.id) : inertLinks(deps.config.baseUrl, 'preview');
    const { body } = await renderPreview(edition, what, previewValues(what, links), { baseUrl: deps.config.baseUrl, postalAddress: deps.config.postalAddress});
    c.header('Content-Security-Policy', PREVIEW_CSP);
    return c.html(body.html);
  });
}

/** The form's local time is the list's time zone, where editors plan the week; empty: now. */
function parseSendAt(value: string, timeZone: string): Date | null | string {
  if (!value) return null;
  const at = DateTime.fromISO(value, { zone: timeZone });
  return at.isValid ? at.toJSDate() : `send at: "${value}" is not a date and time`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A variant's topics in words: "full edition", "Policy + Safety". */
function variantTopics(key: string): string {
  return describeVariantKey(topicsOfKey(key).join(','), topicLabel);
}

/** Every variant: its readers, its format, the story it leads with, and the subject and preheader it goes out with. */
function variantTable(audience: Audience): Markup {
  return html`<table class="variants"><thead><tr><th>Variant</th><th>Format</th><th>Readers</th><th>Top story</th><th>Subject · preheader</th></tr></thead><tbody>${audience.variants.map(
    (v) => html`<tr><td>${variantTopics(v.key)}</td><td>${v.format}</td><td>${v.readers}</td><td>${line(v.leadTitle)}${v.displaced ? html`<br><span class="muted">pinned, instead of ${line(v.displaced.title)}</span>` : ''}</td><td>${line(v.subject)}<br><span class="muted">${line(v.preheader)}</span></td></tr>`,
  )}</tbody><tfoot><tr><td>Total</td><td></td><td>${audience.total}</td><td colspan="2"></td></tr></tfoot></table>`;
}

async function editionPage(c: Context, deps: WebDeps, edition: Edition, previewed: PreviewTarget, message: string | null, errors: string[], status: 200 | 400 | 404 = 200) {
  const { config } = deps;
  const r = edition.row;
  const now = deps.clock.now();
  const draft = r.status === 'draft';
  const waiting = draft || r.status === 'approved';
  const stats = await editionStats(deps.db, edition);
  const sent = Object.values(stats.counts).some((n) => n > 0);
  const waves = sent ? await editionWaves(deps.db, r.id, config.timeZone, now) : [];
  const read = await mostRead(deps.db, r.id);
  const weights = await editionWeights(deps.db, r.id);
  const weighting = { trackClicks: config.trackClicks, on: await clickWeightingOn(deps.db, edition.list.id) };
  const audience = waiting ? await editionAudience(deps.db, edition) : null;
  const plan = waiting ? await sendPlan(deps.db, config, edition, now) : null;
  const results = await linkResults(deps.db, r.id);
  const urls = editionUrls(edition);
  const subjectTest = await findSubjectTest(deps.db, r.id);
  const testReport = subjectTest && r.status !== 'draft' && r.status !== 'approved' ? await subjectTestReport(deps.db, subjectTest, now) : null;
  const previewQuery = previewed.subscriber ? `subscriber=${encodeURIComponent(previewed.subscriber.email)}` : `variant=${encodeURIComponent(previewed.key)}`;
  const keep = html`${previewed.subscriber ? html`<input type="hidden" name="subscriber" value="${previewed.subscriber.email}">` : html`<input type="hidden" name="variant" value="${previewed.key}">`}`;

  const move = (kind: 'story' | 'item', id: number, what: StoryMove, label: string) =>
    html`<form method="post" class="inline"><input type="hidden" name="action" value="move"><input type="hidden" name="${kind === 'item' ? 'item' : 'article'}" value="${id}"><input type="hidden" name="move" value="${what}">${keep}<button type="submit" class="secondary small" aria-label="${label}">${label}</button></form>`;
  const entries = editionEntries(edition);
  const pinned = r.pinned_article_id;
  // The variants readers get (each format's twin is listed with none, for the preview).
  const reached = audience ? audience.variants.filter((v) => v.readers > 0 || v.key === '') : [];
  const pinReach = pinned ? reached.filter((v) => v.displaced) : [];
  const order = entries.map((entry, i) => {
    const last = i === entries.length - 1;
    if (entry.kind === 'item') {
      const it = entry.item;
      return html`<li id="item-${it.id}" class="item"><strong>${line(it.title)}</strong> <span class="muted">· editor's item · ${line(it.url)}</span><br>${line(it.line)}
${draft ? html`<div class="moves">${i > 1 ? move('item', it.id, 'up', 'Up') : ''}${!last ? move('item', it.id, 'down', 'Down') : ''}${move('item', it.id, 'exclude', 'Remove')}</div>` : ''}</li>`;
    }
    const s = entry.story;
    const top = i === 0;
    const check = results.get(s.url);
    return html`<li id="story-${s.id}"><strong>${line(s.title)}</strong> <span class="muted">· ${storyScore(weights, s)} · ${s.topics.map(topicLabel).join(', ') || 'no topic'} · ${line(s.source.name)}${top ? ' · top story' : ''}${s.id === pinned ? ' · pinned: leads every variant' : ''}${edition.edited.has(s.id) ? ' · blurb edited for this edition' : ''}${check && !linkWorks(check) ? html` · <span class="bad">link: ${check.status ?? check.error}</span>` : ''}</span>
${draft
  ? html`<div class="moves">${s.id !== pinned ? move('story', s.id, 'pin', top ? 'Pin (lead every variant)' : 'Pin to top') : move('story', s.id, 'unpin', 'Unpin')}${!top ? move('story', s.id, 'up', 'Up') : ''}${!last ? move('story', s.id, 'down', 'Down') : ''}${edition.stories.length > 1 ? move('story', s.id, 'exclude', 'Exclude') : ''}</div>
<details><summary>Edit the blurb for this edition</summary><form method="post"><input type="hidden" name="action" value="blurb"><input type="hidden" name="article" value="${s.id}">${keep}
<label for="hook-${s.id}">Hook</label><textarea id="hook-${s.id}" name="hook" rows="3" maxlength="600">${plainText(s.hook)}</textarea>
${(['whatChanged', 'whyItMatters', 'whatToDoNext', 'whoShouldCare'] as const).map((k) => html`<label for="${k}-${s.id}">TL;DR: ${TLDR_LABELS[k]}</label><input type="text" id="${k}-${s.id}" name="${k}" value="${line(s.tldr?.[k] ?? '')}">`)}
<button type="submit" class="secondary">Save the blurb</button>${edition.edited.has(s.id) ? html`<button type="submit" name="restore" value="yes" class="secondary">Restore the article's own</button>` : ''}</form></details>`
  : ''}</li>`;
  });

  const fullLead = edition.stories.find((s) => s.id === pinned) ?? (edition.stories[0] as Edition['stories'][number]);
  const inbox = inboxView(line(r.subject), line(r.preheader));
  const checked = urls.filter((u) => results.has(u));
  const broken = checked.filter((u) => !linkWorks(results.get(u) as never));
  const fullReaders = audience?.variants.find((v) => v.key === '')?.readers ?? 0;

  const controls = html`
${r.paused_reason ? html`<p class="errors">${r.paused_reason}</p>` : ''}
${r.status === 'approved' && plan
  ? html`<section id="approval"><h2>Approved</h2><p>Approved by ${line(r.approved_by ?? 'an editor')} at ${localTime(new Date(r.approved_at as string), config.timeZone)} for ${plural(audience?.total ?? 0, 'reader')}. ${describeSend(plan, config.timeZone, now)}</p>
<form method="post"><input type="hidden" name="action" value="draft">${keep}<button type="submit" class="secondary">Back to draft</button></form></section>`
  : ''}
${draft && plan?.deadline ? html`<p class="notice">${describeDeadline(plan.deadline, config.timeZone)}</p>` : ''}
${sent ? html`<h2>Deliveries</h2>${chart(stats)}${formatTable(await statsByFormat(deps.db, r.id))}` : ''}
${waves.length ? html`<h2 id="waves">Waves</h2><p class="muted">Local send time: each reader's copy waits for their morning; the edition is frozen since the first wave.</p><ul>${waves.map((w) => html`<li>${waveLine(w)}</li>`)}</ul>` : ''}
${read.length ? html`<h2>Most read</h2><ol>${read.map((s) => html`<li>${line(s.title)} <span class="muted">· ${s.clicks} clicks</span></li>`)}</ol>` : ''}
${clickWeightingSection(weights, weighting, keep)}
<h2 id="order">Stories</h2>
${pinned && audience ? html`<p class="muted">The pinned story leads all ${plural(reached.length, 'variant')} (${plural(audience.total, 'reader')}); it takes the place of the readers' own top story in ${pinReach.length ? html`${pinReach.map((v, i) => html`${i > 0 ? ', ' : ''}${describeVariantKey(v.key, topicLabel)} (${v.readers})`)}` : 'none of them'}.</p>` : ''}
<ol class="stories">${order}</ol>
${draft
  ? html`<details><summary>Add an editor's item (a link with a title and a line)</summary><form method="post"><input type="hidden" name="action" value="item">${keep}
<label for="item-title">Title</label><input type="text" id="item-title" name="title" maxlength="300">
<label for="item-url">Link</label><input type="text" id="item-url" name="url" inputmode="url" placeholder="https://…">
<label for="item-line">Line</label><input type="text" id="item-line" name="line" maxlength="600">
<label for="item-after">Place it after</label><select id="item-after" name="after">${entries.map((e, i) => html`<option value="${i + 1}"${i === entries.length - 1 ? html` selected` : ''}>${i + 1}. ${line(e.kind === 'story' ? e.story.title : e.item.title)}</option>`)}</select>
<button type="submit" class="secondary">Add the item</button></form></details>`
  : ''}
${waiting
  ? html`<h2 id="links">Links</h2>
${checked.length < urls.length ? html`<p class="muted">Checking ${plural(urls.length - checked.length, 'link')} in the background; reload to see the results.</p>` : ''}
${checked.length ? html`<p>${broken.length ? html`<strong class="bad">${plural(broken.length, 'link')} of ${urls.length} did not answer well.</strong>` : `All ${plural(checked.length, 'link')} answered.`} <span class="muted">Sending never waits for this check.</span></p>
${linkList(broken, results, config.timeZone)}${checked.length > broken.length ? html`<details><summary>${plural(checked.length - broken.length, 'link')} answered</summary>${linkList(checked.filter((u) => !broken.includes(u)), results, config.timeZone)}</details>` : ''}`
      : ''}
<form method="post"><input type="hidden" name="action" value="links">${keep}<button type="submit" class="secondary small">Check the links again</button></form>`
  : ''}
<h2 id="inbox">Subject and preheader</h2>
<div class="inbox">
<div class="inbox-row phone"><span class="muted">Phone</span><br><strong>${deps.list.name}</strong><br>${inbox.phone.subject}<br><span class="muted">${inbox.phone.preheader}</span></div>
<div class="inbox-row desktop"><span class="muted">Desktop</span><br><strong>${deps.list.name}</strong> · ${inbox.desktop.subject} <span class="muted">— ${inbox.desktop.preheader}</span></div>
</div>
<p class="muted">Subject ${inbox.subjectLength} characters, preheader ${inbox.preheaderLength}. ${r.subject_by_hand ? 'Subject written by an editor: every variant gets it.' : 'Subject not written by hand: each variant’s follows its own top story.'} ${r.preheader_by_hand ? 'Preheader written by an editor: every variant gets it.' : 'Preheader likewise follows each variant’s top story.'}</p>
${inbox.advice.length ? html`<ul class="advice">${inbox.advice.map((a) => html`<li>${a}</li>`)}</ul>` : ''}
${draft
  ? html`<form method="post"><input type="hidden" name="action" value="details">${keep}
<label for="subject">Subject <span class="muted">(empty: each variant's top story, "${leadSubject(fullLead)}" in the full edition)</span></label><input type="text" id="subject" name="subject" maxlength="200" value="${r.subject_by_hand ? line(r.subject) : ''}" placeholder="${leadSubject(fullLead)}">
<label for="preheader">Preheader <span class="muted">(empty: each variant's top story's hook)</span></label><input type="text" id="preheader" name="preheader" maxlength="200" value="${r.preheader_by_hand ? line(r.preheader) : ''}" placeholder="${leadPreheader(fullLead)}">
<label for="note">Editor's note</label><textarea id="note" name="note" rows="4" maxlength="2000">${plainText(r.editor_note ?? '')}</textarea>
<button type="submit">Save</button></form>`
  : ''}
${subjectTest || draft ? subjectTestSection({ test: subjectTest, report: testReport, draft, blocked: subjectTestBlocked(config), firstSubject: line(r.subject), keep, timeZone: config.timeZone }) : ''}
${audience ? html`<h2 id="variants">Who gets what</h2>${variantTable(audience)}` : ''}
${waiting
  ? html`<h2 id="test">Test send</h2>
<form method="post"><input type="hidden" name="action" value="test">${keep}
<label for="to">To</label><input type="text" id="to" name="to" value="${config.editors.join(', ')}" placeholder="editor@example.com">
<button type="submit" class="secondary">Send a test of ${previewed.label}</button></form>`
  : ''}
${draft
  ? html`<h2>Approve</h2>
<form method="get" action="/desk/editions/${r.week}/approve">
<label for="send_at">Send at <span class="muted">(empty: as soon as it is approved; ${config.timeZone})</span></label><input type="datetime-local" id="send_at" name="send_at">
<button type="submit">Approve…</button></form>`
  : ''}
${['draft', 'approved', 'sending', 'paused'].includes(r.status) ? html`<form method="post"><input type="hidden" name="action" value="cancel"><button type="submit" class="danger">Cancel this edition</button></form>` : ''}`;

  const variants: Array<[string, number]> = audience ? audience.variants.map((v) => [v.key, v.readers]) : [['', 0], ['|brief', 0]];
  const preview = html`<h2>Preview</h2>
<form method="get" class="preview-pick">
<label for="variant">Variant</label>
<select id="variant" name="variant">${variants.map(([k, n]) => html`<option value="${k}"${k === previewed.key && !previewed.subscriber ? html` selected` : ''}>${describeVariantKey(k, topicLabel)}${audience ? ` (${plural(n, 'reader')})` : ''}</option>`)}</select>
<label for="subscriber">…or what this subscriber gets</label><input type="text" inputmode="email" autocomplete="off" id="subscriber" name="subscriber" value="${previewed.subscriber?.email ?? ''}" placeholder="reader@example.com">
<button type="submit" class="secondary">Show</button></form>
<p class="showing">Showing ${previewed.label}${!previewed.subscriber && previewed.key === '' && audience ? ` (${plural(fullReaders, 'reader')} ${fullReaders === 1 ? 'gets' : 'get'} it)` : ''}.</p>
<div class="previews">
<figure><figcaption>Desktop (600 px)</figcaption><iframe title="Desktop preview" class="desktop" src="/desk/editions/${r.week}/preview?${previewQuery}"></iframe></figure>
<figure><figcaption>Phone (375 px)</figcaption><iframe title="Phone preview" class="phone" src="/desk/editions/${r.week}/preview?${previewQuery}"></iframe></figure>
</div>`;

  return page(c, {
    listName: deps.list.name,
    title: `Desk · ${r.week}`,
    status,
    wide: true,
    body: html`<p><a href="/desk/">← All editions</a></p>
<h1>#${r.number} · ${r.week} · ${r.status}</h1>
${notice(message)}${errorList(errors)}
<div class="desk"><div class="controls">${controls}</div><div class="preview-pane">${preview}</div></div>`,
  });
}

/** Each checked URL with what it answered (its status, or why there was no answer) and when. */
function linkList(urls: string[], results: Map<string, LinkCheckRow>, timeZone: string): Markup {
  if (urls.length === 0) return html``;
  return html`<ul class="links">${urls.map((u) => {
    const res = results.get(u) as LinkCheckRow;
    return html`<li${linkWorks(res) ? '' : html` class="bad"`}>${linkWorks(res) ? 'OK' : 'Broken'} · ${res.status ?? res.error} · <span class="url">${u}</span> <span class="muted">(${localTime(new Date(res.checked_at), timeZone)})</span></li>`;
  })}</ul>`;
}

const TLDR_LABELS = { whatChanged: 'what changed', whyItMatters: 'why it matters', whatToDoNext: 'what to do next', whoShouldCare: 'who should care' } as const;

/** The deliveries and clicks of each format. */
function formatTable(formats: FormatStats[]): Markup {
  const columns = ['readers', 'submitted', 'failed', 'deferred', 'uncertain', 'queued', 'clicks'] as const;
  return html`<table class="formats"><thead><tr><th>Format</th>${columns.map((c) => html`<th>${c === 'queued' ? 'to send' : c}</th>`)}</tr></thead><tbody>${formats.map(
    (f) => html`<tr><td>${f.format}</td>${columns.map((c) => html`<td>${f[c]}</td>`)}</tr>`,
  )}</tbody></table>`;
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

/** On the approval question: what the test will do, or why it will not run. */
function subjectTestPlan(test: SubjectTest | null, readers: number, config: WebDeps['config']): Markup {
  if (!test) return html``;
  const blocked = subjectTestBlocked(config);
  if (blocked) return html`<p class="errors">The subject test set up will not run: ${blocked}. Every reader gets the first subject.</p>`;
  const size = sampleSize(test, readers);
  return html`<p><strong>A subject test runs first:</strong> a sample of ${plural(size, 'reader')} (${'percent' in test.sample ? `${test.sample.percent} %` : 'a count'}) gets the ${test.subjects.length} subjects at random; after a wait of ${hours(test.waitMinutes)} the subject with the most messages clicked per message delivered, if it beats A at ${confidenceText(test.confidence)}, goes to the other ${plural(Math.max(0, readers - size), 'reader')} (otherwise A does).</p>`;
}

function hours(minutes: number): string {
  return minutes % 60 === 0 ? plural(minutes / 60, 'hour') : `${(minutes / 60).toFixed(2).replace(/0+$/, '')} hours`;
}

/** The subject test: set up or removed on a draft; its figures, state and decision once the send began. */
function subjectTestSection(v: { test: SubjectTest | null; report: SubjectTestReport | null; draft: boolean; blocked: string | null; firstSubject: string; keep: Markup; timeZone: string }): Markup {
  const { test, report, draft, blocked } = v;
  const describe = test
    ? html`<p>${test.subjects.length} subjects to a sample of ${'percent' in test.sample ? `${test.sample.percent} % of the audience` : plural(test.sample.count, 'reader')}, a wait of ${hours(test.waitMinutes)}, confidence ${confidenceText(test.confidence)} · ${test.state}</p>
<ol type="A">${test.subjects.map((s) => html`<li>${line(s)}</li>`)}</ol>`
    : html``;
  if (draft) {
    const cannot = blocked ? html`<p class="errors">The subject test cannot run: ${blocked}.</p>` : '';
    const form = blocked
      ? ''
      : html`<form method="post"><input type="hidden" name="action" value="subject-test">${v.keep}
${Array.from({ length: MAX_SUBJECTS }, (_, i) => html`<label for="subject_${i}">Subject ${armLetter(i)}${i === 0 ? ' (goes to the rest unless another wins)' : i >= 2 ? ' (optional)' : ''}</label><input type="text" id="subject_${i}" name="subject_${i}" maxlength="200" value="${test?.subjects[i] ?? (i === 0 ? v.firstSubject : '')}">`)}
<label for="sample_kind">Sample</label><select id="sample_kind" name="sample_kind"><option value="percent"${!test || 'percent' in test.sample ? html` selected` : ''}>a share of the audience (%)</option><option value="count"${test && 'count' in test.sample ? html` selected` : ''}>a number of readers</option></select>
<input type="text" id="sample" name="sample" inputmode="numeric" aria-label="Sample size" value="${test ? ('percent' in test.sample ? test.sample.percent : test.sample.count) : 20}">
<label for="wait_hours">Wait (hours) before the decision</label><input type="text" id="wait_hours" name="wait_hours" inputmode="decimal" value="${test ? test.waitMinutes / 60 : 4}">
<label for="confidence">Confidence (%)</label><input type="text" id="confidence" name="confidence" inputmode="decimal" value="${test ? test.confidence * 100 : 95}">
<button type="submit" class="secondary">${test ? 'Change the subject test' : 'Set up the subject test'}</button></form>`;
    const remove = test ? html`<form method="post"><input type="hidden" name="action" value="subject-test-remove">${v.keep}<button type="submit" class="secondary small">Remove the subject test</button></form>` : '';
    return html`<h2 id="subject-test">Subject test</h2>${cannot}${describe}${remove}
<p class="muted">Measured by messages clicked per message delivered (no open pixel). The winner must beat A by a two-proportion z-test at the confidence chosen; otherwise A goes.</p>${form}`;
  }
  if (!test) return html``;
  if (!report) return html`<h2 id="subject-test">Subject test</h2>${describe}`;
  const state =
    report.state === 'sampling' ? `Sampling: the sample of ${report.sampleSize ?? '…'} is being sent; the rest waits.`
    : report.state === 'waiting' ? `Waiting for clicks: the decision comes at ${localTime(new Date(report.decideAt as string), v.timeZone)} (in about ${Math.ceil((report.secondsLeft ?? 0) / 60)} min); the rest waits.`
    : report.state === 'decided' && report.decided ? `Decided at ${localTime(new Date(report.decided.at), v.timeZone)}: ${report.decided.goes} went to the rest.`
    : 'Planned.';
  const rows = report.arms.map(
    (a) => html`<tr${report.decided?.winner === a.arm ? html` class="winner"` : ''}><td>${a.letter}</td><td>${line(a.subject)}</td><td>${a.delivered}</td><td>${a.clicked}</td><td>${percent(a.rate)}</td><td>${a.arm === 0 ? '—' : a.z === null ? 'too few to test' : `z = ${a.z.toFixed(2)}, p = ${formatP(a.p as number)}`}</td></tr>`,
  );
  return html`<h2 id="subject-test">Subject test</h2>
<p>${state}</p>
${report.decided ? html`<p class="notice">${report.decided.winner !== null ? 'Winner ' : ''}${report.decided.reason}.</p>` : ''}
<table class="variants"><thead><tr><th>Arm</th><th>Subject</th><th>Delivered</th><th>Messages clicked</th><th>Rate</th><th>Against A</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Sample: ${report.sample}${report.sampleSize !== null ? ` (${report.sampleSize} readers)` : ''}; confidence ${confidenceText(report.confidence)}${report.arms.length > 2 ? `, each comparison at ${formatP((1 - report.confidence) / (report.arms.length - 1))} (Bonferroni)` : ''}.</p>`;
}
