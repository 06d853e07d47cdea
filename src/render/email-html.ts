// Every email's HTML comes from here: React Email's render, then the Outlook-only markup put in
// place and break opportunities added to long unbroken text.
import { render } from '@react-email/components';
import type { ReactElement } from 'react';
import { unwrapMso } from '../../emails/_components/mso.tsx';

export async function renderEmail(element: ReactElement): Promise<string> {
  return breakLongRuns(unwrapMso(await render(element)));
}

/** Text without spaces longer than this (a URL, a long name) may break inside. */
const LONG_RUN = 30;
/** In a long run, a break opportunity at least this often. */
const BREAK_EVERY = 20;

// Yahoo supports neither word-break nor overflow-wrap (the card's style), so a long URL would push
// the email wider than a phone; <wbr> is honoured there. Only the text between tags of the body is
// touched, an entity is one character, and per-recipient placeholders (filled in after rendering)
// are left whole.
const TEXT_BETWEEN_TAGS = />([^<]+)</g;
const RUN = new RegExp(`[^\\s<>]{${LONG_RUN + 1},}`, 'g');
const PLACEHOLDER = /(%%recap-[0-9a-f]+:[a-z_]+%%)/;
const CHARACTER = /&#?\w+;|[\s\S]/gu;
const BREAK_AFTER = new Set(['/', '.', '@', '?', '=', '&amp;', '-', '_', ',', ':']);

export function breakLongRuns(html: string): string {
  const body = html.indexOf('<body');
  if (body < 0) return html;
  const inBody = html.slice(body).replace(TEXT_BETWEEN_TAGS, (_, text: string) => `>${text.replace(RUN, withBreaks)}<`);
  return html.slice(0, body) + inBody;
}

function withBreaks(run: string): string {
  return run
    .split(PLACEHOLDER)
    .map((piece, i) => (i % 2 === 1 ? piece : breakPiece(piece)))
    .join('');
}

function breakPiece(piece: string): string {
  let out = '';
  let since = 0;
  const characters = piece.match(CHARACTER) ?? [];
  characters.forEach((ch, i) => {
    out += ch;
    since++;
    const last = i === characters.length - 1;
    if (!last && (BREAK_AFTER.has(ch) || since >= BREAK_EVERY)) {
      out += '<wbr>';
      since = 0;
    }
  });
  return out;
}
