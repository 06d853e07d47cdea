// What a feed item becomes: RSS 2.0/0.9x items, RSS 1.0 (RDF) items and Atom 1.0/0.3 entries read
// into raw article records labelled "item N" or "entry N". Validation comes afterwards, per record,
// as for every format, so one bad item never costs the others. Text is stored as plain text.
import { Buffer } from 'node:buffer';
import { isTag } from 'domhandler';
import { ARTICLE_LIMITS, type ArticleInput, httpUrl } from './article.ts';
import { collapseWhitespace, htmlToPlainText, looksLikeHtml, nodesToPlainText } from './plain-text.ts';
import {
  baseOf,
  childElements,
  type Element,
  firstChild,
  hasElementChildren,
  localName,
  NS,
  namespaceOf,
  parseXml,
  resolveUrl,
  rootElement,
  textOf,
} from './xml-tree.ts';

export type FeedRecord = { where: string; value: Partial<Record<keyof ArticleInput, unknown>> };
/** The feed's own title (plain text) and its items, or why the document is not a feed. */
export type FeedReading = { title: string | undefined; records: FeedRecord[] } | { problem: string };

interface Context {
  source: { name: string; url: string | null };
  collectedAt: string;
  documentUrl: string | undefined;
}

interface Shape {
  title: string | undefined;
  link: string | undefined;
  label: 'item' | 'entry';
  items: Element[];
  read(item: Element, c: Context): FeedRecord['value'];
}

/** `documentUrl`, where the feed was fetched from, is the base of relative links (RFC 3986 5.1.3). */
export function readFeedItems(body: string, collectedAt: Date, documentUrl?: string): FeedReading {
  const root = rootElement(parseXml(body));
  if (!root) return { problem: 'no XML element in it' };
  const shape = shapeOf(root, documentUrl);
  if (!shape) return { problem: `its root element is <${root.name}>, not <rss>, <rdf:RDF> or <feed>` };
  const c: Context = { source: sourceOf(shape.title, shape.link), collectedAt: collectedAt.toISOString(), documentUrl };
  return { title: shape.title, records: shape.items.map((item, i) => ({ where: `${shape.label} ${i + 1}`, value: shape.read(item, c) })) };
}

function shapeOf(root: Element, documentUrl: string | undefined): Shape | undefined {
  const name = localName(root);
  const ns = namespaceOf(root);
  if (name === 'rss') {
    // RSS 0.9x/2.0 elements have no namespace, or the one the root declares (Userland's). Items
    // belong in the channel; a feed without one has them under the root.
    const channel = firstChild(root, ns, 'channel') ?? root;
    return {
      title: rssText(firstChild(channel, ns, 'title') ?? firstChild(channel, NS.dc, 'title')),
      link: rssLink(firstChild(channel, ns, 'link'), documentUrl),
      label: 'item',
      items: childElements(channel, ns, 'item'),
      read: (item, c) => rssItem(item, ns, c),
    };
  }
  if (name === 'RDF' && ns === NS.rdf) {
    // RSS 1.0 and 0.90: the items are siblings of the channel.
    const rssNs = root.children.some((c) => isTag(c) && namespaceOf(c) === NS.rss090) ? NS.rss090 : NS.rss10;
    const channel = firstChild(root, rssNs, 'channel');
    return {
      title: rssText(channel && (firstChild(channel, rssNs, 'title') ?? firstChild(channel, NS.dc, 'title'))),
      link: rssLink(channel && firstChild(channel, rssNs, 'link'), documentUrl),
      label: 'item',
      items: childElements(root, rssNs, 'item'),
      read: (item, c) => rssItem(item, rssNs, c),
    };
  }
  if (name === 'feed') {
    // Atom 1.0 or 0.3, or the drafts of 2003 under other namespaces: the elements are in the root's.
    const atom03 = ns !== NS.atom10 && (ns === NS.atom03 || root.attribs.version === '0.3');
    return {
      title: textConstruct(firstChild(root, ns, 'title'), atom03),
      link: alternateLink(childElements(root, ns, 'link'), documentUrl),
      label: 'entry',
      items: childElements(root, ns, 'entry'),
      read: (entry, c) => atomEntry(entry, ns, atom03, c),
    };
  }
  return undefined;
}

function rssItem(item: Element, ns: string, c: Context): FeedRecord['value'] {
  const guid = firstChild(item, ns, 'guid');
  // A guid is the item's permalink unless it says otherwise (RSS 2.0).
  const permalink = guid && (guid.attribs.isPermaLink ?? 'true').trim().toLowerCase() === 'true' ? guid : undefined;
  const description =
    firstChild(item, ns, 'description') ??
    firstChild(item, NS.content, 'encoded') ??
    firstChild(item, NS.dc, 'description') ??
    firstChild(item, NS.xhtml, 'body');
  return {
    title: rssText(firstChild(item, ns, 'title') ?? firstChild(item, NS.dc, 'title')),
    url: rssLink(firstChild(item, ns, 'link'), c.documentUrl) ?? rssLink(permalink, c.documentUrl),
    source: c.source,
    publishedAt: toIso(firstText(item, [ns, 'pubDate'], [NS.dc, 'date'])),
    collectedAt: c.collectedAt,
    topics: feedTopics([...childElements(item, ns, 'category'), ...childElements(item, NS.dc, 'subject')].map(textOf)),
    hook: shorten(description ? htmlContent(description) : '', ARTICLE_LIMITS.hook),
  };
}

function atomEntry(entry: Element, ns: string, atom03: boolean, c: Context): FeedRecord['value'] {
  const summary = firstChild(entry, ns, 'summary');
  const content = firstChild(entry, ns, 'content');
  const dates = ['published', 'issued', 'created', 'updated', 'modified'].map((n) => [ns, n] as const);
  return {
    title: textConstruct(firstChild(entry, ns, 'title'), atom03),
    url: alternateLink(childElements(entry, ns, 'link'), c.documentUrl) ?? idAsLink(firstChild(entry, ns, 'id')),
    source: c.source,
    publishedAt: toIso(firstText(entry, ...dates)),
    collectedAt: c.collectedAt,
    topics: feedTopics([
      ...childElements(entry, ns, 'category').map((cat) => cat.attribs.term),
      ...childElements(entry, NS.dc, 'subject').map(textOf),
    ]),
    hook: shorten(textConstruct(summary, atom03) || (content?.attribs.src ? '' : textConstruct(content, atom03)) || '', ARTICLE_LIMITS.hook),
  };
}

/**
 * An Atom text construct as plain text (RFC 4287 3.1): type text is literal, html is escaped HTML,
 * xhtml is inline markup. Atom 0.3 gives MIME types instead and a mode: escaped, base64, or xml
 * (inline, the default). Content of any other media type is base64 (RFC 4287 4.1.3.3): it has text
 * to give only when it decodes to UTF-8.
 */
function textConstruct(el: Element | undefined, atom03: boolean): string | undefined {
  if (!el) return undefined;
  const type = mediaType(el.attribs.type);
  const mode = atom03 ? (el.attribs.mode ?? 'xml').trim().toLowerCase() : 'xml';
  const markup = ['html', 'xhtml', 'text/html', 'application/xhtml+xml'].includes(type);
  const textual = markup || ['', 'text'].includes(type) || /^text\/|[/+]xml$/.test(type);
  if (mode === 'base64' || !textual) {
    const decoded = fromBase64(textOf(el));
    return decoded === undefined ? undefined : typedText(decoded, markup);
  }
  if (mode !== 'escaped' && (hasElementChildren(el) || type === 'xhtml')) return nodesToPlainText(el.children);
  return typedText(textOf(el), markup);
}

function fromBase64(encoded: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

function typedText(value: string, markup: boolean): string {
  return markup ? htmlToPlainText(value) : collapseWhitespace(value);
}

/** RSS does not say whether a title is text or HTML: it is HTML when it looks like it, as feedparser guesses. */
function rssText(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  if (hasElementChildren(el)) return nodesToPlainText(el.children);
  const text = textOf(el);
  return typedText(text, looksLikeHtml(text));
}

/** RSS descriptions are HTML, escaped or (xhtml:body, broken feeds) inline. */
function htmlContent(el: Element): string {
  return hasElementChildren(el) ? nodesToPlainText(el.children) : htmlToPlainText(textOf(el));
}

function rssLink(el: Element | undefined, documentUrl: string | undefined): string | undefined {
  const href = el && textOf(el).trim();
  return href ? resolveUrl(href, baseOf(el, documentUrl)) : undefined;
}

/**
 * An entry without a web page link whose id is an http(s) URL: that URL, as feedparser takes it.
 * RFC 4287 does not promise an id can be opened, but without a link the article could not be in a
 * digest at all.
 */
function idAsLink(el: Element | undefined): string | undefined {
  const id = el && textOf(el).trim();
  return id && httpUrl.safeParse(id).success ? id : undefined;
}

const HTML_TYPES = new Set(['', 'text/html', 'application/xhtml+xml']);

/**
 * The page an Atom entry (or feed) stands for: its alternate link (a link without rel is one), an
 * HTML one first. Enclosures, self, via, related, license, edit… links are other resources.
 */
function alternateLink(links: Element[], documentUrl: string | undefined): string | undefined {
  const alternates = links.flatMap((link) => {
    const rel = (link.attribs.rel ?? '').trim() || 'alternate';
    // Some Atom 0.3 feeds write the URL as the element's content instead of href.
    const href = (link.attribs.href ?? textOf(link)).trim();
    if (href === '' || (rel !== 'alternate' && rel !== 'http://www.iana.org/assignments/relation/alternate')) return [];
    return [{ href: resolveUrl(href, baseOf(link, documentUrl)), html: HTML_TYPES.has(mediaType(link.attribs.type)) }];
  });
  return (alternates.find((a) => a.html) ?? alternates[0])?.href;
}

function sourceOf(title: string | undefined, link: string | undefined): Context['source'] {
  const url = link && httpUrl.safeParse(link).success ? link : null;
  const name = title || (url ? new URL(url).hostname : '') || 'unknown source';
  return { name: shorten(name, ARTICLE_LIMITS.sourceName), url };
}

function mediaType(type: string | undefined): string {
  return (type ?? '').split(';')[0]!.trim().toLowerCase();
}

function firstText(parent: Element, ...names: ReadonlyArray<readonly [string, string]>): string | undefined {
  for (const [ns, name] of names) {
    const el = firstChild(parent, ns, name);
    if (el && textOf(el).trim() !== '') return textOf(el).trim();
  }
  return undefined;
}

function toIso(date: string | undefined): string | undefined {
  if (!date) return undefined;
  const d = new Date(date);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Feeds tag freely: the first distinct categories, as many as an article takes, as topic slugs. */
function feedTopics(categories: Array<string | undefined>): string[] {
  return [...new Set(categories.map((c) => slugify(c ?? '')).filter(Boolean))].slice(0, ARTICLE_LIMITS.topics);
}

function slugify(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, ARTICLE_LIMITS.topicLength)
    .replace(/^-+|-+$/g, '');
}

/** Cut at a word boundary, with an ellipsis, to at most `max` characters. */
function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).replace(/\s+\S*$/, '')}…` : text;
}
