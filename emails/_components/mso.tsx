import { createElement } from 'react';

// Outlook for Windows (Word's engine) needs markup that only it may see: a fixed-width table around
// the fluid column, fonts on every element. React cannot write an HTML comment, so <Mso> writes a
// placeholder element holding the conditional comment and unwrapMso() (src/render/email-html.ts
// calls it after every render) lifts the comment out. Unwrapped (react-email's own `email export`)
// the placeholder is an empty inline element every other client ignores.

const TAG = 'x-mso';

/** Markup for Outlook for Windows only: `<!--[if mso]>html<![endif]-->`. */
export function Mso({ html }: { html: string }) {
  return createElement(TAG, { dangerouslySetInnerHTML: { __html: `<!--[if mso]>${html}<![endif]-->` } });
}

const WRAPPED = new RegExp(`<${TAG}>(<!--\\[if mso\\]>[\\s\\S]*?<!\\[endif\\]-->)</${TAG}>`, 'g');

export function unwrapMso(html: string): string {
  return html.replace(WRAPPED, '$1');
}
