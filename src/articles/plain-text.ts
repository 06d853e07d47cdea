// Articles store plain text (every renderer escapes it); feeds carry HTML as often as not. HTML is
// read with a real parser, so entities are decoded exactly once and nothing tag-like survives.
import { type ChildNode, isCDATA, isTag, isText } from 'domhandler';
import { parseDocument } from 'htmlparser2';

// Never text a reader sees.
const HIDDEN = new Set(['script', 'style', 'template']);
// Elements that separate words; inline ones (b, a, span…) do not: "foo<b>bar</b>" is "foobar".
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure',
  'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'table', 'td', 'th', 'tr', 'ul',
]);

/** The text of parsed HTML or XHTML nodes, whitespace collapsed. Element names may carry a prefix (xhtml:p). */
export function nodesToPlainText(nodes: readonly ChildNode[]): string {
  const parts: string[] = [];
  const walk = (node: ChildNode): void => {
    if (isText(node)) {
      parts.push(node.data);
    } else if (isCDATA(node)) {
      node.children.forEach(walk);
    } else if (isTag(node)) {
      const name = node.name.slice(node.name.indexOf(':') + 1).toLowerCase();
      if (HIDDEN.has(name)) return;
      const block = BLOCK.has(name);
      if (block) parts.push(' ');
      node.children.forEach(walk);
      if (block) parts.push(' ');
    }
  };
  nodes.forEach(walk);
  return collapseWhitespace(parts.join(''));
}

export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function htmlToPlainText(html: string): string {
  return nodesToPlainText(parseDocument(html).children);
}

/**
 * For text whose type the feed does not declare (RSS titles): feedparser's test, a closing tag or an
 * HTML entity reference makes it HTML. Unlike feedparser we do not also require every tag to be
 * harmless HTML: it keeps other markup as text because it hands out sanitised HTML, while we hand out
 * plain text, and "safe<script>…</script>" is markup either way.
 */
export function looksLikeHtml(text: string): boolean {
  if (/<\/[a-z][\w:.-]*\s*>/i.test(text)) return true;
  return (text.match(/&(?:#\d+|#x[\da-f]+|[a-z][a-z\d]*);/gi) ?? []).some((ref) => htmlToPlainText(ref) !== ref);
}
