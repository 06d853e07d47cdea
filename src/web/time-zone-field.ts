// The time zone field of the subscribe form and the preferences page (local send time). A select of
// the IANA zones; empty is the list's zone. On the subscribe form a tiny inline script preselects
// the browser's zone; without JavaScript the field stays on the list's. The pages run no other
// script: the subscribe page's policy allows this one by its hash.
import { createHash } from 'node:crypto';
import { html, raw } from 'hono/html';
import { timeZoneChoices } from '../audience/time-zone.ts';
import type { Markup } from './page.ts';

const BROWSER_ZONE_SCRIPT =
  "var s=document.getElementById('time_zone');if(s&&!s.value){var z=Intl.DateTimeFormat().resolvedOptions().timeZone;" +
  'if([].some.call(s.options,function(o){return o.value===z}))s.value=z}';

/** The app's policy (app.ts), with the one inline script of the subscribe page. */
export const SUBSCRIBE_CSP =
  `default-src 'none'; style-src 'self'; img-src 'self'; script-src 'sha256-${createHash('sha256').update(BROWSER_ZONE_SCRIPT).digest('base64')}'; ` +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function timeZoneField(selected: string | null, listZone: string, options: { fromBrowser: boolean }): Markup {
  const zones = timeZoneChoices().map((z) => html`<option value="${z}"${z === selected ? html` selected` : ''}>${z.replaceAll('_', ' ')}</option>`);
  return html`<label for="time_zone">Time zone <span class="muted">(the recap arrives in your morning)</span></label>
<select id="time_zone" name="time_zone"><option value=""${selected ? '' : html` selected`}>${listZone.replaceAll('_', ' ')} (the list's)</option>${zones}</select>
${options.fromBrowser ? html`<script>${raw(BROWSER_ZONE_SCRIPT)}</script>` : ''}`;
}
