// Each variant's subject and preheader follow the story it leads with, unless an editor wrote
// them; a pinned story leads every variant. Rendered variants first, then a real send read back
// with mailparser: what goes out is what the desk shows.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { articleSchema, type StoredArticle } from '../../src/articles/article.ts';
import { findList } from '../../src/audience/lists.ts';
import { outboxTransport } from '../../src/delivery/transport.ts';
import { moveStory, updateDetails } from '../../src/desk/actions.ts';
import { editionAudience } from '../../src/desk/variants.ts';
import { ensureEdition, findEdition } from '../../src/editions/editions.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { runWeeklyRecap } from '../../src/recap.ts';
import { leadSubject } from '../../src/render/headline.ts';
import { type EditionForRender, renderVariant } from '../../src/render/variant.ts';
import { sampleArticles } from '../helpers/articles.ts';
import { addSubscriber } from '../helpers/audience.ts';
import { createTestContext, type TestContext } from '../helpers/context.ts';
import { testIo } from '../helpers/send.ts';

const settings = { baseUrl: 'https://recap.test', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin' };
const stories = rankArticles(sampleArticles().map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 }))).slice(0, 12);
const edition = (overrides: Partial<EditionForRender> = {}): EditionForRender => ({
  listName: 'Weekly AI Recap', number: 7, week: '2026-W48', dateRange: '23–29 Nov 2026', subject: null, preheader: null, editorNote: null, stories, ...overrides,
});
/** Every topic of the edition as a one-topic variant, and the full edition. */
const keys = ['', ...new Set(stories.flatMap((s) => s.topics))].sort();
const firstWith = (topic: string) => stories.find((s) => topic === '' || s.topics.includes(topic)) as StoredArticle;
const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');
/** The hidden preheader text at the top of the HTML, as inbox lists read it. */
const preheaderIn = (html: string) => decode(/<div[^>]*display:none[^>]*>([^<]*)/.exec(html)?.[1]?.trim() ?? '');
/** The text part's top story: its heading may wrap over lines. */
const topStoryIn = (text: string) => /TOP STORY: ([\s\S]+?)\n=+/.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();

describe('subjects and preheaders per variant', () => {
  it("follow each variant's own top story when the editor wrote none", async () => {
    const leads = new Set<number>();
    for (const key of keys) {
      const v = await renderVariant(edition(), key, settings);
      const lead = firstWith(key);
      leads.add(lead.id);
      expect(v.subject, key).toBe(leadSubject(lead));
      expect(v.preheader, key).toBe(lead.hook);
      // The preheader in the HTML (the hidden text inbox lists show) is the same one.
      expect(preheaderIn(v.html), key).toContain(lead.hook.slice(0, 40));
    }
    // The class of bug: several variants lead with different stories, so one subject cannot fit all.
    expect(leads.size).toBeGreaterThan(3);
  });

  it("lead with the headline, not the list's name (the sender line shows it)", async () => {
    const v = await renderVariant(edition(), '', settings);
    expect(v.subject).toBe(stories[0]?.title);
    expect(v.subject.startsWith('Weekly AI Recap')).toBe(false);
  });

  it('are the same in every variant once the editor wrote them', async () => {
    for (const key of keys) {
      const v = await renderVariant(edition({ subject: 'Chips, rules and agents', preheader: 'Five minutes on the week' }), key, settings);
      expect([v.subject, v.preheader], key).toEqual(['Chips, rules and agents', 'Five minutes on the week']);
    }
  });

  it('a pinned story leads every variant, and its subject with it', async () => {
    const pinned = stories[5] as StoredArticle;
    for (const key of keys) {
      const v = await renderVariant(edition({ pinnedId: pinned.id }), key, settings);
      expect(v.subject, key).toBe(leadSubject(pinned));
      expect(topStoryIn(v.text), key).toBe(pinned.title);
    }
  });
});

describe('a send', () => {
  let ctx: TestContext;
  afterEach(async () => ctx.close());

  async function draft() {
    ctx = await createTestContext();
    const { importArticles } = await import('../../src/articles/import.ts');
    await importArticles(ctx.db, JSON.stringify(sampleArticles()), { now: ctx.clock.now() });
    for (const [email, topics] of [['all@example.com', []], ['policy@example.com', ['policy']], ['models@example.com', ['models']], ['safety@example.com', ['safety', 'research']]] as const) {
      await addSubscriber(ctx, email, { topics: [...topics] });
    }
    const list = await findList(ctx.db, 'weekly-ai-recap');
    const planned = await ensureEdition(ctx.db, list, { week: '2026-W48', timeZone: 'UTC', rules: { maxStories: 12, maxPerTopic: 4, minStories: 3 }, now: ctx.clock.now(), persist: true });
    if (!planned.ok) throw new Error(planned.reason);
    return { list, edition: planned.edition };
  }

  async function sent(): Promise<Map<string, { subject: string; text: string }>> {
    await runWeeklyRecap(ctx, testIo(ctx, () => outboxTransport(ctx.config.outboxDir)), { week: '2026-W48' });
    const dir = join(ctx.config.outboxDir, '2026-W48');
    const mails = new Map<string, { subject: string; text: string }>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.eml'))) {
      const mail = await simpleParser(readFileSync(join(dir, f)));
      const to = mail.to && !Array.isArray(mail.to) ? (mail.to.value[0]?.address ?? '') : '';
      mails.set(to, { subject: mail.subject ?? '', text: mail.text ?? '' });
    }
    return mails;
  }

  it("gives every reader the subject of the story their copy leads with, as the desk shows it", async () => {
    const { list, edition } = await draft();
    const shown = await editionAudience(ctx.db, edition);
    const mails = await sent();
    expect(mails.size).toBe(4);
    const subjects = new Set<string>();
    for (const [to, mail] of mails) {
      const top = topStoryIn(mail.text);
      expect(mail.subject, to).toBe(top);
      subjects.add(mail.subject);
    }
    expect(subjects.size).toBeGreaterThan(1);
    // The desk's table of variants said exactly this before the send.
    const stored = await ctx.db.selectFrom('variants').select(['topics_key', 'subject', 'preheader']).execute();
    for (const v of stored) expect(shown.variants.find((s) => s.key === v.topics_key)).toMatchObject({ subject: v.subject, preheader: v.preheader });
    expect((await findEdition(ctx.db, list, '2026-W48', 'UTC'))?.row.status).toBe('sent');
  });

  it("gives every reader the editor's subject once written, and the pinned story's otherwise", async () => {
    const { list, edition } = await draft();
    const pinned = edition.stories[4] as StoredArticle;
    await moveStory(ctx.db, edition, pinned.id, 'pin', ctx.clock.now());
    const mails = await sent();
    for (const [to, mail] of mails) {
      expect(mail.subject, to).toBe(pinned.title);
      expect(topStoryIn(mail.text), to).toBe(pinned.title);
    }
    expect((await findEdition(ctx.db, list, '2026-W48', 'UTC'))?.row.subject).toBe(pinned.title);
  });

  it('keeps a hand-written subject for everyone', async () => {
    const { edition } = await draft();
    await updateDetails(ctx.db, edition, { subject: 'The week chips got political', preheader: '', editorNote: '' }, ctx.clock.now());
    const mails = await sent();
    expect([...mails.values()].map((m) => m.subject)).toEqual(Array(4).fill('The week chips got political'));
  });
});
