// Every template in emails/, rendered the way the app renders it, with realistic but hostile-ish
// data: the sample week, plus the longest unbroken things a reader can meet (a URL, an address,
// a name) and a competitor table with long words. The layout and client-support tests run over all.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { articleSchema, type StoredArticle } from '../../src/articles/article.ts';
import { rankArticles } from '../../src/editions/select.ts';
import { personalize } from '../../src/render/personalize.ts';
import { renderConfirmation, renderEditorReview, renderWelcome } from '../../src/render/transactional.ts';
import { type EditionForRender, renderVariant, renderWebVersion } from '../../src/render/variant.ts';
import { article, sampleArticles } from './articles.ts';

export const TEMPLATE_DIR = join(import.meta.dirname, '../../emails');

/** The templates themselves: emails/*.tsx (not _components). */
export function templateNames(): string[] {
  return readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith('.tsx')).map((f) => f.replace(/\.tsx$/, '')).sort();
}

export const LONG_URL = `https://recap.example.com/confirm/${'k7Qx2mZp9'.repeat(24)}`;
const LONG_EMAIL = `${'a'.repeat(64)}@${'mail'.repeat(40)}.example.com`;
const LONG_NAME = 'Maximiliane-Konstantina'.repeat(4);
const SETTINGS = { baseUrl: 'https://recap.example.com', postalAddress: 'Recap Media, Example Street 1, 10115 Berlin, Germany' };

export function hostileEdition(): EditionForRender {
  const ranked = rankArticles(sampleArticles().map((a, i) => ({ ...articleSchema.parse(a), id: i + 1 })));
  const lead = ranked.find((s) => s.competitors) as StoredArticle;
  const competitors = {
    columns: ['Company', 'Accelerator', 'Customers', 'Interconnect'],
    rows: [
      ['Nvidia', 'Rubin', 'hyperscalers, sovereign clouds', 'NVLink'],
      ['AMD', 'Instinct MI450', 'hyperscalers', 'Infinity Fabric'],
      ['Google', 'TPU v7 Ironwood', 'internal, Anthropic', 'optical circuit switches'],
    ],
  };
  const odd = { ...articleSchema.parse(article({
    title: `A story whose title quotes ${LONG_URL}`,
    source: { name: 'Averyveryverylongpublicationnamewithoutanyspaces', url: null },
    topics: ['policy'],
    timeline: [{ date: '2026-11-23', event: 'Short date.' }, { date: 'Q1 2027 (expected)', event: 'A longer date that must keep the events in line.' }],
    score: 1,
  })), id: 900 };
  const stories = [{ ...lead, competitors }, ...ranked.filter((s) => s !== lead), odd];
  return {
    listName: 'Weekly AI Recap', number: 48, week: '2026-W48', dateRange: '23–29 Nov 2026', preheader: 'The week in AI.',
    editorNote: `A week where infrastructure beat models again.\n\nThe filing is at ${LONG_URL}`, stories,
  };
}

const reader = {
  name: LONG_NAME,
  email: LONG_EMAIL,
  unsubscribe_url: `https://recap.example.com/unsubscribe/${'t'.repeat(200)}`,
  preferences_url: `https://recap.example.com/preferences/${'t'.repeat(200)}`,
  message_tag: '',
};

/** Each template's renderings, by file name; a template with none makes the tests fail. */
export async function renderEveryTemplate(): Promise<Record<string, Array<{ name: string; html: string }>>> {
  const email = async (key: string) => {
    // The brief of this edition (more stories than an edition has, a long name) shrinks its lowest-ranked
    // stories to headline and source: both forms of its stories are checked.
    const variant = await renderVariant(hostileEdition(), key, SETTINGS);
    return personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, reader).html;
  };
  const common = { listName: 'Weekly AI Recap', name: LONG_NAME, postalAddress: SETTINGS.postalAddress };
  const review = {
    listName: 'Weekly AI Recap', week: '2026-W48', subject: `Weekly AI Recap #48: ${LONG_URL}`, stories: hostileEdition().stories.map((s) => s.title),
    deskUrl: LONG_URL, deadline: 'Mon 30 Nov 2026, 14:00 UTC: it goes out anyway', skippedBecause: null, postalAddress: SETTINGS.postalAddress,
  };
  return {
    'weekly-recap': [
      { name: 'weekly-recap', html: await email('') },
      { name: 'weekly-recap-brief', html: await email('|brief') },
      { name: 'weekly-recap-web', html: await renderWebVersion(hostileEdition(), SETTINGS) },
    ],
    'confirm-subscription': [
      { name: 'confirm-subscription', html: (await renderConfirmation({ ...common, confirmUrl: LONG_URL, topics: ['Compute', 'Policy'], validFor: '72 hours' })).html },
    ],
    welcome: [
      { name: 'welcome', html: (await renderWelcome({ ...common, archiveUrl: LONG_URL, preferencesUrl: LONG_URL })).html },
    ],
    'editor-review': [
      { name: 'editor-review', html: (await renderEditorReview(review)).html },
      { name: 'editor-review-skipped', html: (await renderEditorReview({ ...review, skippedBecause: `only one story came in (${LONG_URL})` })).html },
    ],
  };
}
