// Stored text (articles, editor fields, names, config) is plain text wherever it is written: the
// HTML email, the web pages, the feed, the text part and headers. Escaping is each writer's job
// (React, hono's html, the XML builder, nodemailer); this module removes what no escaping makes
// harmless: control characters (terminal escapes, invalid in XML, header breaks), bidi embeddings,
// overrides and isolates (they reorder the text around them), lone surrogates and non-characters.

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI; the plain marks (LRM, RLM, ALM) stay. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;
const NON_CHARACTERS = /[\ufdd0-\ufdef\ufffe\uffff]/g;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function withoutInvisibles(value: string): string {
  return value.replace(LONE_SURROGATES, '\ufffd').replace(BIDI_CONTROLS, '').replace(NON_CHARACTERS, '');
}

/** One line: every control and line break becomes a space, runs of space collapse. For headers, titles, labels. */
export function headerSafe(value: string): string {
  return withoutInvisibles(value).replace(CONTROLS, ' ').replace(/\s{2,}/g, ' ').trim();
}

/** Several lines (an editor's note): line breaks kept as \n, every other control becomes a space. */
export function plainText(value: string): string {
  return withoutInvisibles(value)
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .split('\n')
    .map(headerSafe)
    .join('\n')
    .trim();
}

/** For a terminal: lines and spacing kept as they are, every other control (ESC above all) a space, bidi controls dropped. */
export function terminalSafe(value: string): string {
  return withoutInvisibles(value).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}
