// The desk's view of click weighting (src/editions/click-weights.ts): what it did to this edition
// when it was made, per topic and per story, and the list's switch for the next edition.
import { html } from 'hono/html';
import type { StoredArticle } from '../articles/article.ts';
import { CLICK_EDITIONS, CLICK_FACTOR_MAX, CLICK_FACTOR_MIN, CLICK_PRIOR_CLICKS } from '../editions/click-weights.ts';
import type { EditionWeights } from '../editions/click-weighting.ts';
import { topicLabel } from '../render/story-view.ts';
import type { Markup } from './page.ts';

const percent = (rate: number) => `${(rate * 100).toFixed(2)} %`;
const times = (factor: number) => `×${factor.toFixed(2)}`;
const score = (n: number) => String(Math.round(n * 100) / 100);

/** A story's line on the desk: its score, and what click weighting made of it. */
export function storyScore(weights: EditionWeights, story: StoredArticle): string {
  const factor = weights.factors.get(story.id);
  if (factor === undefined) return `score ${story.score}`;
  return `score ${story.score} → ${score(story.score * factor)} (clicks ${times(factor)})`;
}

/** Per topic: its rate, the factor, from how many clicks and deliveries; and the switch with what it does. */
export function clickWeightingSection(weights: EditionWeights, state: { trackClicks: boolean; on: boolean }, keep: Markup): Markup {
  const clicks = weights.topics.reduce((n, t) => n + t.clicks, 0);
  const exposures = weights.topics.reduce((n, t) => n + t.exposures, 0);
  const made = !weights.weighted
    ? html`<p>This edition was ranked by its stories' scores alone: click weighting was off when it was made.</p>`
    : weights.topics.length === 0 || clicks === 0
      ? html`<p>Click weighting was on when this edition was made, but the last ${CLICK_EDITIONS} sent editions had no counted clicks: every story kept its score (factor ×1.00).</p>`
      : html`<p>When this edition was made, each topic's click rate over the last ${CLICK_EDITIONS} sent editions (counted clicks on its stories per story delivered; the average topic: ${percent(clicks / exposures)}) multiplied its stories' scores, by at most ${times(CLICK_FACTOR_MAX)} and at least ${times(CLICK_FACTOR_MIN)}; a topic's clicks are weighed as if it had ${CLICK_PRIOR_CLICKS} more at the average rate, so a few clicks move it little.</p>
<table class="variants"><thead><tr><th>Topic</th><th>Click rate</th><th>Factor</th><th>Clicks</th><th>Deliveries</th></tr></thead><tbody>${weights.topics.map(
          (t) => html`<tr><td>${t.topic ? topicLabel(t.topic) : 'no topic'}</td><td>${percent(t.rate)}</td><td>${times(t.factor)}</td><td>${t.clicks}</td><td>${t.deliveries}</td></tr>`,
        )}</tbody></table>`;
  const next = !state.trackClicks
    ? html`<p class="muted">Off: clicks are not counted (RECAP_TRACK_CLICKS is not set), so nothing can weigh the next edition.</p>`
    : html`<p>For the next edition made: click weighting is <strong>${state.on ? 'on' : 'off'}</strong>. ${state.on ? '' : 'It will be ranked by its scores alone. '}An edition already made keeps its order.</p>
<form method="post"><input type="hidden" name="action" value="click_weighting"><input type="hidden" name="weighting" value="${state.on ? 'off' : 'on'}">${keep}<button type="submit" class="secondary small">${state.on ? 'Switch click weighting off' : 'Switch click weighting on'}</button></form>`;
  return html`<h2 id="clicks">What readers read</h2>${made}${next}`;
}
