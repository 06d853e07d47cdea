// The editor's Monday (issue 11) through the app's request function, on a real migrated SQLite
// file: what goes out is what the editor saw (subjects per variant, pins, test sends), approving
// with its question and its way back, editing blurbs and adding items, subject guidance, the link
// check (against a server on loopback only) and the preview beside the controls.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredArticle } from '../../src/articles/article.ts';
import { findList } from '../../src/audience/lists.ts';
import { ensureEdition, findEdition } from '../../src/editions/editions.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createWebTest, form, SAME_ORIGIN, type WebTest } from '../helpers/web.ts';

const TOKEN = 'editor-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const WEEK = '2026-W48';
let t: WebTest | undefined;

async function start(env: Record<string, string> = {}): Promise<WebTest> {
  t = await createWebTest({ RECAP_EDITOR_TOKEN: TOKEN, RECAP_EDITORS: 'ed@example.com', ...env });
  return t;
}
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function draft(w: WebTest) {
  const list = await findList(w.ctx.db, 'weekly-ai-recap');
  const planned = await ensureEdition(w.ctx.db, list, { week: WEEK, timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: w.ctx.clock.now(), persist: true });
  if (!planned.ok) throw new Error(planned.reason);
  return planned.edition;
}

async function reload(w: WebTest) {
  return (await findEdition(w.ctx.db, await findList(w.ctx.db, 'weekly-ai-recap'), WEEK, 'UTC'))!;
}

async function get(w: WebTest, path: string): Promise<{ status: number; body: string }> {
  const res = await w.app.request(path, { headers: AUTH });
  return { status: res.status, body: await res.text() };
}

/** Posts a desk form and, like a browser, follows the redirect that answers a success. */
async function post(w: WebTest, fields: Record<string, string>): Promise<{ status: number; body: string; location: string | null }> {
  const res = await w.app.request(`/desk/editions/${WEEK}`, { method: 'POST', body: form(fields), headers: { ...AUTH, ...SAME_ORIGIN } });
  if (res.status !== 303) return { status: res.status, body: await res.text(), location: null };
  const location = res.headers.get('location') as string;
  return { ...(await get(w, location.replace(/#.*$/, ''))), location };
}

const text = (html: string) => html.replace(/<!-- -->/g, '').replace(/<[^>]+>/g, ' ').replace(/&#39;|&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
const firstWith = (stories: StoredArticle[], topic: string) => stories.find((s) => s.topics.includes(topic)) as StoredArticle;

async function readers(w: WebTest) {
  await addSubscriber(w.ctx, 'all@example.com', { topics: [] });
  await addSubscriber(w.ctx, 'ada@example.com', { name: 'Ada Reader', topics: ['policy'] });
  await addSubscriber(w.ctx, 'kate@example.com', { topics: ['models'] });
}

async function tests(w: WebTest) {
  const dir = join(w.ctx.config.outboxDir, 'tests');
  return Promise.all(readdirSync(dir).map((f) => simpleParser(readFileSync(join(dir, f)))));
}

describe('what goes out is what the editor saw', () => {
  it("shows every variant with its readers, top story, subject and preheader: each its own top story's", async () => {
    const w = await start();
    const edition = await draft(w);
    await readers(w);
    const { body } = await get(w, `/desk/editions/${WEEK}`);
    const table = text(/<table class="variants">[\s\S]*?<\/table>/.exec(body)?.[0] ?? '');
    const policy = firstWith(edition.stories, 'policy');
    const models = firstWith(edition.stories, 'models');
    expect(policy.id).not.toBe(edition.stories[0]?.id);
    expect(table).toContain(`Policy full 1 ${policy.title} ${policy.title} ${policy.hook}`);
    expect(table).toContain(`Models full 1 ${models.title} ${models.title} ${models.hook}`);
    expect(table).toContain(`full edition full 1 ${edition.stories[0]?.title}`);
    expect(table).toContain('Total 3');
  });

  it('a pin leads every variant, and the desk says which variants it reaches; unpinning gives them back', async () => {
    const w = await start();
    const edition = await draft(w);
    await readers(w);
    const pinned = edition.stories[3] as StoredArticle;
    expect(pinned.topics).not.toContain('policy');
    const res = await post(w, { action: 'move', article: String(pinned.id), move: 'pin' });
    expect(res.body).toContain('Pinned: it leads every variant.');
    expect(text(res.body)).toContain('The pinned story leads all 3 variants (3 readers); it takes the place of the readers\' own top story in Models (1), Policy (1).');
    const policyCopy = await get(w, `/desk/editions/${WEEK}/preview?variant=policy`);
    expect(text(policyCopy.body)).toMatch(new RegExp(`Top story ${pinned.title.slice(0, 30)}`));
    const table = text(/<table class="variants">[\s\S]*?<\/table>/.exec(res.body)?.[0] ?? '');
    expect(table).toContain(`Policy full 1 ${pinned.title} pinned, instead of ${firstWith(edition.stories, 'policy').title}`);

    await post(w, { action: 'move', article: String(pinned.id), move: 'unpin' });
    expect((await reload(w)).row.pinned_article_id).toBeNull();
    const back = await get(w, `/desk/editions/${WEEK}/preview?variant=policy`);
    expect(text(back.body)).toMatch(new RegExp(`Top story ${firstWith(edition.stories, 'policy').title.slice(0, 30)}`));
    // Moving another story above a pinned one ends the pin.
    await post(w, { action: 'move', article: String(pinned.id), move: 'pin' });
    await post(w, { action: 'move', article: String(edition.stories[0]?.id), move: 'up' });
    expect((await reload(w)).row.pinned_article_id).toBeNull();
  });

  it("a test send sends exactly what is previewed: one subscriber's copy, and says so", async () => {
    const w = await start();
    const edition = await draft(w);
    await readers(w);
    const policy = firstWith(edition.stories, 'policy');
    // The page previews Ada's copy; its test form carries the same choice.
    const shown = await get(w, `/desk/editions/${WEEK}?subscriber=ada@example.com`);
    expect(shown.body).toContain('Send a test of what ada@example.com gets (the Policy variant)');
    const res = await post(w, { action: 'test', subscriber: 'ada@example.com', to: 'ed@example.com' });
    expect(res.location).toMatch(/^\/desk\/editions\/2026-W48\?subscriber=ada%40example\.com&done=/);
    expect(text(res.body)).toContain(`Test of what ada@example.com gets (the Policy variant) sent to ed@example.com: “[TEST] ${policy.title}”`);
    // Still previewing Ada's copy after the redirect.
    expect(res.body).toContain('Showing what ada@example.com gets (the Policy variant).');
    const [mail] = await tests(w);
    expect(mail?.subject).toBe(`[TEST] ${policy.title}`);
    expect(mail?.headers.get('x-recap-test')).toBe('what ada@example.com gets (the Policy variant)');
    expect(mail?.text).toContain('Hi Ada,');
    expect(mail?.text?.replace(/\s+/g, ' ')).toContain(`TOP STORY: ${policy.title}`);
    // The preview's links are Ada's own; the test's are inert, so an editor's click unsubscribes nobody.
    expect(mail?.text).toContain('https://recap.test/unsubscribe/test');
    expect(mail?.text).not.toMatch(/unsubscribe\/[\w-]+\.[\w-]+/);
  });

  it('a test send of a variant sends that variant', async () => {
    const w = await start();
    const edition = await draft(w);
    await readers(w);
    const models = firstWith(edition.stories, 'models');
    const res = await post(w, { action: 'test', variant: 'models', to: 'ed@example.com' });
    expect(text(res.body)).toContain('Test of the Models variant sent to ed@example.com');
    expect(res.body).toContain('<option value="models" selected>');
    const [mail] = await tests(w);
    expect(mail?.subject).toBe(`[TEST] ${models.title}`);
    expect(mail?.headers.get('x-recap-test')).toBe('the Models variant');
    expect((await post(w, { action: 'test', subscriber: 'nobody@example.com', to: 'ed@example.com' })).status).toBe(400);
  });
});

describe('approving', () => {
  it('asks first: recipients per variant and in all, when it goes out, and whether a scheduler is alive', async () => {
    const w = await start();
    await draft(w);
    await readers(w);
    const page = await get(w, `/desk/editions/${WEEK}`);
    expect(page.body).toContain(`<form method="get" action="/desk/editions/${WEEK}/approve">`);
    const ask = await get(w, `/desk/editions/${WEEK}/approve?send_at=`);
    expect(ask.status).toBe(200);
    const words = text(ask.body);
    expect(words).toContain('It goes to 3 readers in 3 variants');
    expect(words).toMatch(/full edition full 1 .* Models full 1 .* Policy full 1 .* Total 3/);
    expect(words).toContain('no scheduler is running: start `recap schedule`');
    expect(ask.body).toContain('Approve: send to 3 readers');
    // Asking changed nothing.
    expect((await reload(w)).row.status).toBe('draft');
    // A scheduler's live lease: the desk says one will send it, and until when its lease runs.
    await w.ctx.db.insertInto('leases').values({ name: 'scheduler', owner: 'host:1:abc:def', expires_at: '2026-11-30T08:03:00.000Z' }).execute();
    expect(text((await get(w, `/desk/editions/${WEEK}/approve?send_at=2026-11-30T12:30`)).body)).toContain('It goes out at Mon 2026-11-30 12:30 (UTC); a scheduler is running (its lease runs to Mon 2026-11-30 08:03 (UTC)).');
    // Someone joined after the question: the answer counts them, and says what the question showed.
    await addSubscriber(w.ctx, 'late@example.com', { topics: [] });
    const done = await post(w, { action: 'approve', send_at: '', readers: '3' });
    expect(text(done.body)).toContain('Approved for 4 readers (3 when you were asked). It goes out within a minute of approval');
    expect((await reload(w)).row.status).toBe('approved');
  });

  it('goes back to draft until the send starts, and not after', async () => {
    const w = await start();
    await draft(w);
    await post(w, { action: 'approve', send_at: '', readers: '0' });
    const approved = await get(w, `/desk/editions/${WEEK}`);
    expect(approved.body).toContain('Back to draft</button>');
    const back = await post(w, { action: 'draft' });
    expect(back.body).toContain('Back to draft: it will not go out until it is approved again.');
    expect((await reload(w)).row).toMatchObject({ status: 'draft', approved_at: null, approved_by: null });
    await post(w, { action: 'approve', send_at: '', readers: '0' });
    // The scheduler started sending it meanwhile: too late.
    await w.ctx.db.updateTable('editions').set({ status: 'sending' }).execute();
    const late = await post(w, { action: 'draft' });
    expect(late.status).toBe(400);
    expect(late.body).toContain('is sending; only an approved edition that has not started sending goes back to draft');
    expect((await reload(w)).row.status).toBe('sending');
  });

  it("shows the approval deadline and what happens at it, in the list's time zone", async () => {
    for (const [action, then] of [['send', 'it goes out anyway'], ['skip', 'it is skipped and the editors are told']] as const) {
      const w = await start({ RECAP_TZ: 'Europe/Berlin', RECAP_DEADLINE_ACTION: action });
      await draft(w);
      const at = w.ctx.clock.now().toISOString();
      await w.ctx.db.insertInto('schedule_runs').values({ list_id: w.ctx.listId, week: WEEK, state: 'awaiting-approval', detail: null, editors_told_at: at, approval_deadline_at: '2026-11-30T14:00:00.000Z', created_at: at, updated_at: at }).execute();
      const { body } = await get(w, `/desk/editions/${WEEK}`);
      expect(text(body)).toContain(`Approval deadline: Mon 2026-11-30 15:00 (Europe/Berlin). If it is not approved by then, ${then}`);
      await t?.close();
      t = undefined;
    }
  });

  it('lists editions without cron strings, and without a chart of zeros for a draft', async () => {
    const w = await start();
    await draft(w);
    const { body } = await get(w, '/desk/');
    expect(body).not.toContain('0 8 * * 1');
    expect(text(body)).toContain('Next weekly run: Mon 2026-12-07 08:00 (UTC).');
    expect(text(body)).toContain('6 h after the editors are told, an unapproved one goes out anyway');
    expect(body).not.toContain('<svg class="chart"');
    expect(text((await get(w, `/desk/editions/${WEEK}`)).body)).not.toContain('Deliveries');
  });
});

describe('what editors expect to do', () => {
  it("edits a story's blurb for this edition only, and restores the article's own", async () => {
    const w = await start();
    const edition = await draft(w);
    const top = edition.stories[0] as StoredArticle;
    const fields = { action: 'blurb', article: String(top.id), hook: 'Our own hook <b>here</b>', whatChanged: 'W1', whyItMatters: 'W2', whatToDoNext: 'W3', whoShouldCare: 'W4' };
    const res = await post(w, fields);
    expect(res.location).toMatch(new RegExp(`#story-${top.id}$`));
    expect(res.body).toContain('blurb edited for this edition');
    const stored = await w.ctx.db.selectFrom('articles').select(['hook', 'content']).where('id', '=', top.id).executeTakeFirstOrThrow();
    expect(stored.hook).toBe(top.hook);
    expect(JSON.parse(stored.content).tldr).toEqual(top.tldr);
    const preview = text((await get(w, `/desk/editions/${WEEK}/preview?variant=`)).body);
    expect(preview).toContain('Our own hook &lt;b&gt;here&lt;/b&gt;');
    expect(preview).toMatch(/W1.*W2.*W3.*W4/);
    // The generated preheader follows the edited hook too.
    expect((await reload(w)).stories[0]?.hook).toBe('Our own hook <b>here</b>');
    const bad = await post(w, { ...fields, hook: '  ' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain(`article ${top.id}: hook: cannot be empty`);
    const half = await post(w, { ...fields, whyItMatters: '' });
    expect(half.status).toBe(400);
    expect(half.body).toContain(`article ${top.id}: TL;DR: whyItMatters`);
    await post(w, { action: 'blurb', article: String(top.id), restore: 'yes' });
    expect(text((await get(w, `/desk/editions/${WEEK}/preview?variant=`)).body)).toContain(top.hook.slice(0, 40));
    expect((await reload(w)).edited.size).toBe(0);
  });

  it("adds an editor's item anywhere in the order, moves and removes it", async () => {
    const w = await start();
    const edition = await draft(w);
    const res = await post(w, { action: 'item', title: 'Our podcast: the chips episode', url: 'https://pod.example/ep-1', line: 'Forty minutes on HBM4.', after: '2' });
    expect(res.location).toMatch(/#order$/);
    let e = await reload(w);
    expect(e.items).toMatchObject([{ title: 'Our podcast: the chips episode', url: 'https://pod.example/ep-1', line: 'Forty minutes on HBM4.', after: 2 }]);
    expect(e.stories.map((s) => s.id)).toEqual(edition.stories.map((s) => s.id));
    const id = e.items[0]!.id;
    expect(res.body).toContain(`<li id="item-${id}" class="item">`);
    const order = text(/<ol class="stories">[\s\S]*?<\/ol>/.exec(res.body)?.[0] ?? '');
    expect(order.indexOf('Our podcast')).toBeGreaterThan(order.indexOf(edition.stories[1]!.title.slice(0, 30)));
    expect(order.indexOf('Our podcast')).toBeLessThan(order.indexOf(edition.stories[2]!.title.slice(0, 30)));
    const preview = (await get(w, `/desk/editions/${WEEK}/preview?variant=`)).body;
    expect(preview).toContain('href="https://pod.example/ep-1"');
    expect(text(preview)).toContain('Forty minutes on HBM4.');
    const moved = await post(w, { action: 'move', item: String(id), move: 'up' });
    expect(moved.location).toMatch(new RegExp(`#item-${id}$`));
    e = await reload(w);
    expect(e.items[0]?.after).toBe(1);
    // The top is a story's place: an item moved above the first story comes back below it.
    await post(w, { action: 'move', item: String(id), move: 'up' });
    e = await reload(w);
    expect(e.items[0]?.after).toBe(1);
    expect(e.stories[0]?.id).toBe(edition.stories[0]?.id);
    for (const [fields, why] of [
      [{ url: 'javascript:alert(1)' }, "editor's item: url: is not an http(s) URL"],
      [{ title: '' }, "editor's item: title: cannot be empty"],
      [{ after: '0' }, "editor's item: position: must be between 1 and"],
    ] as const) {
      const bad = await post(w, { action: 'item', title: 'T', url: 'https://pod.example/x', line: '', after: '1', ...fields });
      expect(bad.status, why).toBe(400);
      expect(bad.body.replace(/&#39;/g, "'"), why).toContain(why);
    }
    await post(w, { action: 'move', item: String(id), move: 'exclude' });
    expect((await reload(w)).items).toEqual([]);
  });

  it('refuses a move it does not know, changing nothing', async () => {
    const w = await start();
    const edition = await draft(w);
    const res = await post(w, { action: 'move', article: String(edition.stories[3]?.id), move: 'sideways' });
    expect(res.status).toBe(400);
    expect(res.body).toContain('move: &quot;sideways&quot; is not one of up, down, pin, unpin, exclude');
    expect((await reload(w)).stories.map((s) => s.id)).toEqual(edition.stories.map((s) => s.id));
  });

  it('reorders without the page jumping: the redirect points at the moved story, which carries that anchor', async () => {
    const w = await start();
    const edition = await draft(w);
    const s = edition.stories[4] as StoredArticle;
    const res = await post(w, { action: 'move', article: String(s.id), move: 'down' });
    expect(res.location).toBe(`/desk/editions/${WEEK}?done=Stories%20reordered.#story-${s.id}`);
    expect(res.body).toContain(`<li id="story-${s.id}">`);
  });

  it('shows the subject as an inbox list on a phone and on a desktop shows it, with the preheader beside it', async () => {
    const w = await start();
    await draft(w);
    const subject = 'Nvidia beats again, export rules tighten, and HBM4 becomes the bottleneck of 2027';
    const res = await post(w, { action: 'details', subject, preheader: 'Three stories that move your roadmap', note: '' });
    const phone = text(/<div class="inbox-row phone">[\s\S]*?<\/div>/.exec(res.body)?.[0] ?? '');
    const desktop = text(/<div class="inbox-row desktop">[\s\S]*?<\/div>/.exec(res.body)?.[0] ?? '');
    expect(phone).toBe(' Phone Weekly AI Recap Nvidia beats again, export rules t… Three stories that move your roadmap ');
    expect(desktop).toContain('Weekly AI Recap · Nvidia beats again, export rules tighten, and HBM4 becomes the bottle… — Three stories that move your roadmap');
    expect(text(res.body)).toContain(`Subject ${subject.length} characters, preheader 36.`);
    expect(text(res.body)).toContain(`A phone shows the first 35 of its ${subject.length} characters: put what matters first.`);
    expect(text(res.body)).toContain('Subject written by an editor: every variant gets it.');
  });

  it("shows how many readers get the full edition, with the preview beside the controls", async () => {
    const w = await start();
    await draft(w);
    await readers(w);
    await addSubscriber(w.ctx, 'bob@example.com', { topics: [] });
    const { body } = await get(w, `/desk/editions/${WEEK}`);
    expect(body).toContain('<option value="" selected>full edition (2 readers)</option>');
    expect(body).toContain('Showing the full edition (2 readers get it).');
    expect(body).toMatch(/<div class="desk"><div class="controls">[\s\S]*<\/div><div class="preview-pane"><h2>Preview<\/h2>/);
  });
});

describe('the link check', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('asks every story URL in the background with a short timeout, and shows what answered', async () => {
    const asked: string[] = [];
    server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      if (req.url?.startsWith('/ok')) return res.writeHead(200).end();
      if (req.url === '/no-head') return res.writeHead(req.method === 'HEAD' ? 405 : 200).end();
      if (req.url === '/missing') return res.writeHead(404).end();
      // /hang: never answers.
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Long enough for a HEAD and then a GET on a busy machine; the hanging URL takes all of it.
    const w = await start({ RECAP_LINK_CHECK_TIMEOUT_MS: '1500' });
    const edition = await draft(w);
    // Every story's URL on loopback: four that matter, the rest answering 200.
    const paths = ['/ok', '/no-head', '/missing', '/hang', ...edition.stories.slice(4).map((_, i) => `/ok?${i}`)];
    for (const [i, path] of paths.entries()) await w.ctx.db.updateTable('articles').set({ url: `${base}${path}` }).where('id', '=', edition.stories[i]!.id).execute();

    const began = Date.now();
    const first = await get(w, `/desk/editions/${WEEK}`);
    // The page does not wait for the check (the hanging URL alone takes 1500 ms).
    expect(Date.now() - began).toBeLessThan(1500);
    // Loopback answers quickly: some may be in before the page is (on PostgreSQL the check runs on
    // a connection of its own), the hanging one never is.
    expect(text(first.body)).toMatch(/Checking \d+ links? in the background/);
    await w.links.idle();
    const { body } = await get(w, `/desk/editions/${WEEK}`);
    const links = text([...body.matchAll(/<ul class="links">[\s\S]*?<\/ul>/g)].map((m) => m[0]).join(' '));
    expect(text(body)).toContain('2 links of 12 did not answer well.');
    expect(text(body)).toContain('10 links answered');
    expect(links).toContain(`OK · 200 · ${base}/ok`);
    expect(links).toContain(`OK · 200 · ${base}/no-head`);
    expect(links).toContain(`Broken · 404 · ${base}/missing`);
    expect(links).toContain(`Broken · no answer within 1500 ms · ${base}/hang`);
    expect(asked).toEqual(expect.arrayContaining(['HEAD /ok', 'HEAD /no-head', 'GET /no-head', 'HEAD /missing', 'HEAD /hang']));
    expect(asked).not.toContain('GET /ok');
    // A broken link is marked on its story too.
    expect(body).toMatch(new RegExp(`<li id="story-${edition.stories[2]!.id}">[^]*?<span class="bad">link: 404</span>`));
    // Checked once: a reload within the hour asks nothing again.
    const before = asked.length;
    await get(w, `/desk/editions/${WEEK}`);
    await w.links.idle();
    expect(asked.length).toBe(before);
    // The approval's question repeats what is broken; approving and sending never wait for it.
    expect(text((await get(w, `/desk/editions/${WEEK}/approve?send_at=`)).body)).toContain(`2 links of 12 did not answer well: ${base}/missing, ${base}/hang.`);
    await post(w, { action: 'approve', send_at: '', readers: '0' });
    expect((await reload(w)).row.status).toBe('approved');
  });
});
