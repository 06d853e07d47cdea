// Stored text is plain text in every output. Hostile strings go into every stored article field and
// every editor field; the edition is built, sent, archived, put in the feed and shown on the desk;
// each output is parsed as its reader parses it (HTML with htmlparser2, the feed with an XML parser,
// the email with mailparser, the CLI's output as a terminal gets it) and must hold no element,
// attribute or link that came from the data, no control or bidi character, and show the hostile
// text as the text it is.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomUtils, parseDocument } from 'htmlparser2';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.ts';
import { upsertArticle } from '../../src/articles/repository.ts';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { ensureEdition } from '../../src/editions/editions.ts';
import { headerSafe, plainText } from '../../src/plain-text.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { renderEditorReview } from '../../src/render/transactional.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { runCli } from '../helpers/cli.ts';
import { testIo } from '../helpers/send.ts';
import { createWebTest, type WebTest } from '../helpers/web.ts';

const HOSTILE = [
  '<script>alert("x")</script>',
  '<img src=x onerror=alert(1) ondblclick="alert(2)">',
  ']]><evil-tag>cdata</evil-tag><![CDATA[',
  '&lt;b&gt; &amp;amp; &#x3c;script&#x3e;',
  '<a href="javascript:alert(3)">click</a> javascript:alert(4)',
  'nul\u0000bell\u0007esc\u001b[31mred del\u007f nel\u0085 csi\u009b',
  'bidi \u202egnp.exe\u202c and \u2067isolate\u2069',
  'line\r\nBcc: evil@example.com\r\n\r\n<evil-tag>body</evil-tag>',
].join(' ');

/** A field's hostile value, labelled so each field's text can be found in the output. */
const h = (field: string) => `${field}: ${HOSTILE}`;
const FORBIDDEN_ELEMENTS = new Set(['script', 'img', 'evil-tag']);
/** What may never reach a reader: controls (but tab and line breaks), DEL, C1, bidi embeddings, overrides and isolates. */
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const WEEK = '2026-W47';
const TOKEN = 'editor-token-0123456789';

function hostileArticle(name: string, score: number): Article {
  return {
    title: h(`${name} title`),
    url: `https://news.example.com/${name}?q=<script>"onmouseover=alert(1)`,
    source: { name: h(`${name} source`), url: 'https://news.example.com' },
    publishedAt: null,
    collectedAt: '2026-11-18T12:00:00.000Z',
    topics: [h(`${name} topic`)],
    hook: h(`${name} hook`),
    score,
    analysisLabel: h(`${name} analysis label`),
    tldr: { whatChanged: h(`${name} changed`), whyItMatters: h(`${name} matters`), whatToDoNext: h(`${name} next`), whoShouldCare: h(`${name} who`) },
    takeaways: [h(`${name} takeaway`)],
    competitors: { columns: [h(`${name} column a`), h(`${name} column b`)], rows: [[h(`${name} cell a`), h(`${name} cell b`)]] },
    deepDive: [h(`${name} deep dive`)],
    predictions: [{ claim: h(`${name} claim`), rationale: h(`${name} rationale`) }],
    timeline: [{ date: h(`${name} date`), event: h(`${name} event`) }],
  };
}

/** Fields of the top story, shown in full; and of a card below it. */
const TOP_FIELDS = ['title', 'source', 'hook', 'changed', 'matters', 'next', 'who', 'analysis label', 'takeaway', 'column a', 'column b', 'cell a', 'cell b', 'deep dive', 'claim', 'rationale', 'date', 'event'].map((f) => `top ${f}`);
const CARD_FIELDS = ['title', 'source', 'hook', 'changed', 'matters'].map((f) => `card ${f}`);

const collapse = (text: string) => text.replace(/\s+/g, ' ');

/** Parses an HTML document and checks that nothing in it came from the data but text; returns its text. */
function checkHtml(where: string, markup: string): string {
  expect(markup, `${where}: control or bidi character`).not.toMatch(INVISIBLE);
  const doc = parseDocument(markup);
  for (const el of DomUtils.findAll(() => true, doc.children)) {
    expect(FORBIDDEN_ELEMENTS.has(el.name), `${where}: <${el.name}> element`).toBe(false);
    for (const [name, value] of Object.entries(el.attribs)) {
      expect(name.startsWith('on'), `${where}: ${name} attribute on <${el.name}>`).toBe(false);
      expect(/^\s*(javascript|data|vbscript):/i.test(value), `${where}: ${name}="${value}" on <${el.name}>`).toBe(false);
    }
  }
  return collapse(DomUtils.textContent(doc));
}

/** Each field's text as typed (one line; the note's paragraphs each on its own) must be in `text`. */
function expectShown(where: string, text: string, fields: string[]): void {
  for (const field of fields) {
    const shown = field === 'note' ? plainText(h(field)).split(/\n{2,}/) : [headerSafe(h(field))];
    for (const part of shown) expect(text, `${where}: ${field} not shown as text`).toContain(collapse(part));
  }
}

let t: WebTest;
const auth = { Authorization: `Bearer ${TOKEN}` };
const get = async (path: string) => {
  const res = await t.app.request(path, { headers: auth });
  expect(res.status, path).toBe(200);
  return res.text();
};

beforeAll(async () => {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: TOKEN });
  const { db } = t.ctx;
  const now = t.ctx.clock.now();
  for (const [name, score] of [['top', 99], ['card', 90], ['bad-link', 80]] as const) await upsertArticle(db, hostileArticle(name, score), now);
  // Intake refuses other schemes; a stored one must still never become a link.
  await db.updateTable('articles').set({ url: 'javascript:alert(5)' }).where('title', '=', h('bad-link title')).execute();
  await addSubscriber(t.ctx, 'reader@example.com', { name: 'Reader' });
  const list = await findList(db, 'weekly-ai-recap');
  const planned = await ensureEdition(db, list, { week: WEEK, timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now, persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  // Written as stored, past the desk's own cleaning: the outputs must hold whatever a row holds.
  await db.updateTable('editions').set({ subject: h('subject'), subject_by_hand: 1, preheader: h('preheader'), preheader_by_hand: 1, editor_note: h('note') }).where('week', '=', WEEK).execute();
}, 60_000);
afterAll(async () => {
  await t.close();
});

describe('hostile stored text, in every output', () => {
  it('shows as text on the desk: the index, the edition page and its preview', async () => {
    expectShown('desk index', checkHtml('desk index', await get('/desk/')), ['subject']);
    const page = checkHtml('desk edition', await get(`/desk/editions/${WEEK}`));
    expectShown('desk edition', page, ['top title', 'top source', 'card title', 'card source']);
    const form = parseDocument(await get(`/desk/editions/${WEEK}`));
    const field = (id: string) => DomUtils.findOne((el) => el.attribs.id === id, form.children);
    expect(field('subject')?.attribs.value).toBe(headerSafe(h('subject')));
    expect(field('preheader')?.attribs.value).toBe(headerSafe(h('preheader')));
    expect(DomUtils.textContent(field('note') ?? [])).toBe(plainText(h('note')));
    const preview = checkHtml('desk preview', await get(`/desk/editions/${WEEK}/preview`));
    expectShown('desk preview', preview, [...TOP_FIELDS, ...CARD_FIELDS, 'note']);
  });

  it('shows as text in the email: HTML part, text part and headers', async () => {
    const report = await runWeeklyRecap(t.ctx, testIo(t.ctx, () => outboxTransport(t.ctx.config.outboxDir)), { week: WEEK });
    expect(report.kind === 'sent' && report.counts.submitted).toBe(1);
    const dir = join(t.ctx.config.outboxDir, WEEK);
    const raw = readFileSync(join(dir, readdirSync(dir)[0] as string));
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(headerSafe(h('subject')));
    expect(mail.headers.has('bcc')).toBe(false);
    const head = raw.toString('utf8').split(/\r?\n\r?\n/)[0] as string;
    expect(head).not.toMatch(/^Bcc:/im);

    const html = checkHtml('email HTML', mail.html || '');
    expectShown('email HTML', html, [...TOP_FIELDS, ...CARD_FIELDS, 'note']);
    // The preheader is the hidden preview line, which React Email cuts at 150 characters.
    expect(html).toContain(headerSafe(h('preheader')).slice(0, 150));
    expect(html).toContain(`#${headerSafe(h('top topic'))}`);

    const text = mail.text ?? '';
    expect(text, 'text part: control or bidi character').not.toMatch(INVISIBLE);
    expectShown('text part', collapse(text), [...TOP_FIELDS, ...CARD_FIELDS, 'note']);
    expect(text).not.toContain('javascript:alert(5)');
    expect(text).toContain('https://news.example.com/top?q=%3Cscript%3E%22onmouseover=alert(1)');
  });

  it('shows as text in the archive index and the web version', async () => {
    expectShown('archive', checkHtml('archive', await get('/archive')), ['subject', 'preheader']);
    const web = checkHtml('web version', await get(`/archive/${WEEK}`));
    expectShown('web version', web, [...TOP_FIELDS, ...CARD_FIELDS, 'note']);
  });

  it('is plain text in the feed: valid XML, titles as typed, descriptions that are HTML of the text alone', async () => {
    const xml = await get('/feed.xml');
    expect(xml).not.toMatch(INVISIBLE);
    expect(XMLValidator.validate(xml)).toBe(true);
    const feed = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: true }).parse(xml);
    const item = feed.rss.channel.item;
    expect(item.title).toBe(headerSafe(h('subject')));
    // Readers render a description as HTML: parsed so, it must be one text node, the preheader as typed.
    const description = parseDocument(item.description);
    expect(description.children.every((n) => n.type === 'text')).toBe(true);
    expect(DomUtils.textContent(description)).toBe(headerSafe(h('preheader')));
  });

  it('reaches a terminal with no escape sequence: `recap articles list` and `recap edition show`', async () => {
    const env = { DATABASE_URL: t.ctx.config.databaseUrl, OUTBOX_DIR: t.ctx.config.outboxDir };
    for (const args of [['articles', 'list', '--week', WEEK], ['edition', 'show', '--week', WEEK]]) {
      const run = await runCli(args, { cwd: t.ctx.dir, env });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout, args.join(' ')).not.toMatch(INVISIBLE);
      expect(run.stdout, args.join(' ')).toContain('top title: <script>alert("x")</script>');
    }
  }, 120_000);

  it('shows as text in the editors’ review email', async () => {
    const email = await renderEditorReview({
      listName: 'Weekly AI Recap',
      week: WEEK,
      subject: h('subject'),
      stories: [h('top title'), h('card title')],
      deskUrl: `https://recap.test/desk/editions/${WEEK}`,
      deadline: null,
      skippedBecause: null,
      postalAddress: 'Recap Media, Example Street 1, Berlin',
    });
    expectShown('review HTML', checkHtml('review HTML', email.html), ['subject', 'top title', 'card title']);
    expect(email.text).not.toMatch(INVISIBLE);
    expectShown('review text', collapse(email.text), ['subject', 'top title', 'card title']);
    expect(email.subject).not.toMatch(/[\r\n]/);
  });
});
