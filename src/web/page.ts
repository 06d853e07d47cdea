// The frame every page shares. Values go through hono's `html` template, which escapes them;
// only markup built here is passed through `raw`.
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>;

export function page(c: Context, options: { title: string; body: Markup; status?: ContentfulStatusCode; listName: string; wide?: boolean }) {
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${options.title} · ${options.listName}</title>
<link rel="stylesheet" href="/assets/recap.css">
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
</head>
<body${options.wide ? html` class="wide"` : ''}>
<main>
<p class="brand">${options.listName}</p>
${options.body}
</main>
<footer><small><a href="/archive">Archive</a> · <a href="/subscribe">Subscribe</a></small></footer>
</body>
</html>`,
    options.status ?? 200,
  );
}

export function errorList(errors: string[]): Markup {
  if (errors.length === 0) return html``;
  return html`<div class="errors" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>`;
}

export function notice(text: string | null): Markup {
  return text ? html`<p class="notice" role="status">${text}</p>` : html``;
}

/** a***@example.com: enough for the owner to recognise, little for whoever sees a forwarded link. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@'); // the last one: a quoted local part may hold an @
  const [local, domain] = [email.slice(0, Math.max(0, at)), email.slice(at + 1)];
  return `${local.slice(0, 1)}${'*'.repeat(Math.max(2, Math.min(local.length - 1, 6)))}@${domain}`;
}
