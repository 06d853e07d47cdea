// The XML side of feeds: htmlparser2's tree in XML mode (entities and CDATA decoded once, by the
// parser), elements matched by namespace URI and local name (prefixes are the feed's choice), and
// xml:base applied the way RFC 3986 resolves references (new URL).
import { type Document, type Element, isTag } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';

export const NS = {
  atom10: 'http://www.w3.org/2005/Atom',
  atom03: 'http://purl.org/atom/ns#',
  rss10: 'http://purl.org/rss/1.0/',
  rss090: 'http://my.netscape.com/rdf/simple/0.9/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  xhtml: 'http://www.w3.org/1999/xhtml',
} as const;

export type { Element };

export function parseXml(body: string): Document {
  return parseDocument(body, { xmlMode: true });
}

export function rootElement(doc: Document): Element | undefined {
  return doc.children.find(isTag);
}

export function localName(el: Element): string {
  return el.name.slice(el.name.indexOf(':') + 1);
}

/** The namespace URI of the element's prefix (or of the default namespace), '' for none. */
export function namespaceOf(el: Element): string {
  const colon = el.name.indexOf(':');
  const declaration = colon < 0 ? 'xmlns' : `xmlns:${el.name.slice(0, colon)}`;
  for (let node: Element | null = el; node; node = parentElement(node)) {
    const uri = node.attribs[declaration];
    if (uri !== undefined) return uri;
  }
  return '';
}

export function is(el: Element, ns: string, name: string): boolean {
  return localName(el) === name && namespaceOf(el) === ns;
}

export function childElements(parent: Element, ns: string, name: string): Element[] {
  return parent.children.filter((c): c is Element => isTag(c) && is(c, ns, name));
}

export function firstChild(parent: Element, ns: string, name: string): Element | undefined {
  return childElements(parent, ns, name)[0];
}

export function hasElementChildren(el: Element): boolean {
  return el.children.some(isTag);
}

/** All the character data inside the element, as the parser decoded it. */
export function textOf(el: Element): string {
  return DomUtils.textContent(el);
}

/** The base URI in force at the element: the document's URL, then every xml:base from the root down. */
export function baseOf(el: Element, documentUrl: string | undefined): string | undefined {
  const chain: Element[] = [];
  for (let node: Element | null = el; node; node = parentElement(node)) chain.unshift(node);
  return chain.reduce<string | undefined>((base, node) => {
    const declared = node.attribs['xml:base'];
    return declared === undefined ? base : resolveUrl(declared, base);
  }, documentUrl);
}

/**
 * `reference` resolved against `base`. An absolute reference is kept as the feed wrote it (resolution
 * would also normalise it, e.g. lower-case its host); one that cannot be resolved too.
 */
export function resolveUrl(reference: string, base: string | undefined): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(reference)) return reference;
  try {
    return new URL(reference, base).href;
  } catch {
    return reference;
  }
}

function parentElement(el: Element): Element | null {
  return el.parent && isTag(el.parent) ? el.parent : null;
}
