// Renders one variant of an edition: HTML through React Email and the text part from the same
// props, with placeholders for per-recipient values. Keeps the HTML under Gmail's clipping size by
// shrinking the lowest-ranked stories to title and link, then trimming the lead's extra sections.
import { createElement } from 'react';
import { WeeklyRecap, type WeeklyRecapProps } from '../../emails/weekly-recap.tsx';
import type { StoredArticle } from '../articles/article.ts';
import { MAX_NAME_LENGTH } from '../audience/subscribers.ts';
import { headerSafe, plainText } from '../plain-text.ts';
import { renderEmail } from './email-html.ts';
import { type Arrangement, arrangeVariant, parseVariantKey, topicsOfKey } from './arrange.ts';
import { leadPreheader, leadSubject } from './headline.ts';
import { escapeHtml, LONGEST_MESSAGE_TAG, newNonce, placeholders } from './personalize.ts';
import { toSectionView, toStoryView, topicLabel } from './story-view.ts';
import { renderText } from './text.ts';

/** Gmail clips a message whose HTML is larger than this. */
export const HTML_LIMIT = 102_000;

/** Longest per-recipient values we allow, used to size the worst case. */
const MAX_EMAIL_LENGTH = 254;
const MAX_LINK_TAIL = 240; // "/unsubscribe/" + a signed token

export interface EditionForRender {
  listName: string;
  number: number;
  week: string;
  dateRange: string;
  /** Written by the editor, for every variant; null or absent: each variant's own top story's. */
  subject?: string | null | undefined;
  /** A subject test's subjects: a variant of arm k (its key's `|s<k>`) goes out with the k-th. */
  subjects?: string[] | undefined;
  preheader: string | null;
  /** A story that leads every variant (null or absent: each leads with its readers' topics). */
  pinnedId?: number | null | undefined;
  editorNote: string | null;
  /** The frozen order: index 0 is the top story. */
  stories: StoredArticle[];
}

export interface RenderSettings {
  baseUrl: string;
  postalAddress: string;
  /**
   * The link for a story in a variant (a counted redirect with RECAP_TRACK_CLICKS), given the
   * variant's key and the placeholder of the message's tag; the article's URL by default. The web
   * version takes none: its links are not counted.
   */
  link?: ((article: StoredArticle, variant: { key: string; messageTag: string }) => string) | undefined;
}

export interface RenderedVariant {
  topicsKey: string;
  /** Computed here, once per variant: the send uses them for every recipient of it. */
  subject: string;
  preheader: string;
  nonce: string;
  html: string;
  text: string;
  /** Bytes of the HTML with the longest possible per-recipient values filled in. */
  htmlBytes: number;
  /** Article ids shown as title and link only. */
  compacted: number[];
  /** Sections of the top story left out to fit. */
  trimmedLeadSections: string[];
}

const LEAD_TRIM_ORDER = ['timeline', 'predictions', 'deepDive', 'competitors', 'takeaways'] as const;

export function archiveUrl(baseUrl: string, week: string): string {
  return `${baseUrl}/archive/${week}`;
}

export async function renderVariant(
  edition: EditionForRender,
  topicsKey: string,
  settings: RenderSettings,
): Promise<RenderedVariant> {
  const nonce = newNonce();
  const tokens = placeholders(nonce);
  const readerTopics = topicsOfKey(topicsKey);
  const arrangement = arrangeVariant(edition.stories, readerTopics, edition.pinnedId ?? null);
  // Lowest-ranked first: the order in which stories give up their cards.
  const shrinkOrder = [...edition.stories].reverse().filter((s) => s !== arrangement.lead);
  const compacted = new Set<number>();
  const trimmed: Array<(typeof LEAD_TRIM_ORDER)[number]> = [];

  const own = settings.link;
  const link = own ? (a: StoredArticle) => own(a, { key: topicsKey, messageTag: tokens.message_tag }) : (a: StoredArticle) => a.url;
  const personal = {
    greetingName: tokens.name,
    links: { viewInBrowser: archiveUrl(settings.baseUrl, edition.week), preferences: tokens.preferences_url, unsubscribe: tokens.unsubscribe_url },
    recipientEmail: tokens.email,
    webVersion: false,
  };

  for (;;) {
    const props = digestProps(edition, readerTopics, { arrangement, compacted, trimmed }, personal, settings, link);
    const html = await renderEmail(createElement(WeeklyRecap, props));
    const htmlBytes = worstCaseBytes(html, nonce, settings.baseUrl);
    const next = shrinkOrder.find((s) => !compacted.has(s.id));
    const nextTrim = LEAD_TRIM_ORDER.find((t) => !trimmed.includes(t));
    if (htmlBytes <= HTML_LIMIT || (!next && !nextTrim)) {
      if (htmlBytes > HTML_LIMIT) throw new Error(`variant "${topicsKey}" cannot fit in ${HTML_LIMIT} bytes`);
      return {
        topicsKey,
        ...headlines(edition, arrangement.lead, parseVariantKey(topicsKey).subjectArm),
        nonce,
        html,
        text: renderText(props),
        htmlBytes,
        compacted: [...compacted],
        trimmedLeadSections: [...trimmed],
      };
    }
    if (next) compacted.add(next.id);
    else if (nextTrim) trimmed.push(nextTrim);
  }
}

/**
 * The web version of an edition (the archive page and "view in browser"): the full edition, no
 * personal data, no tokens, nothing shortened.
 */
export async function renderWebVersion(edition: EditionForRender, settings: RenderSettings): Promise<string> {
  const arrangement = arrangeVariant(edition.stories, [], edition.pinnedId ?? null);
  const personal = {
    greetingName: '',
    links: { viewInBrowser: `${settings.baseUrl}/archive`, preferences: `${settings.baseUrl}/subscribe`, unsubscribe: '' },
    recipientEmail: '',
    webVersion: true,
  };
  const props = digestProps(edition, [], { arrangement, compacted: new Set(), trimmed: [] }, personal, settings, (a) => a.url);
  return renderEmail(createElement(WeeklyRecap, props));
}

/** The variant's subject and preheader: its arm's in a subject test, else the editor's, or its own top story's. */
export function headlines(edition: Pick<EditionForRender, 'subject' | 'subjects' | 'preheader'>, lead: StoredArticle, subjectArm: number | null = null): { subject: string; preheader: string } {
  const preheader = edition.preheader ? headerSafe(edition.preheader) : leadPreheader(lead);
  if (subjectArm !== null) {
    const subject = edition.subjects?.[subjectArm];
    if (!subject) throw new Error(`no subject for arm ${subjectArm}: the edition's subject test has ${edition.subjects?.length ?? 0}`);
    return { subject: headerSafe(subject), preheader };
  }
  return { subject: edition.subject ? headerSafe(edition.subject) : leadSubject(lead), preheader };
}

function digestProps(
  edition: EditionForRender,
  readerTopics: string[],
  layout: { arrangement: Arrangement<StoredArticle>; compacted: Set<number>; trimmed: ReadonlyArray<(typeof LEAD_TRIM_ORDER)[number]> },
  personal: Pick<Required<WeeklyRecapProps>, 'greetingName' | 'links' | 'recipientEmail' | 'webVersion'>,
  settings: RenderSettings,
  link: (article: StoredArticle) => string,
): Required<WeeklyRecapProps> {
  const lead = toStoryView(layout.arrangement.lead, false, link(layout.arrangement.lead));
  for (const section of layout.trimmed) {
    if (section === 'competitors') lead.competitors = null;
    else lead[section] = [];
  }
  // The label goes with the analysis it labels: none when the article has none, or all of it was trimmed.
  if (!(lead.takeaways.length || lead.competitors || lead.deepDive.length || lead.predictions.length)) lead.analysisLabel = null;
  return {
    listName: headerSafe(edition.listName),
    editionNumber: edition.number,
    dateRange: edition.dateRange,
    preheader: headlines(edition, layout.arrangement.lead).preheader,
    editorNote: edition.editorNote && plainText(edition.editorNote),
    leadTopics: readerTopics.map(topicLabel),
    topStory: lead,
    sections: layout.arrangement.sections.map((section) =>
      toSectionView(section.topic, section.stories.map((a) => toStoryView(a, layout.compacted.has(a.id), link(a)))),
    ),
    postalAddress: settings.postalAddress,
    ...personal,
  };
}

/** Size of the HTML once the longest allowed name, address and links are substituted. */
function worstCaseBytes(html: string, nonce: string, baseUrl: string): number {
  const worst = {
    name: escapeHtml('"'.repeat(MAX_NAME_LENGTH)),
    email: escapeHtml('&'.repeat(MAX_EMAIL_LENGTH)),
    unsubscribe_url: escapeHtml(baseUrl + 'x'.repeat(MAX_LINK_TAIL)),
    preferences_url: escapeHtml(baseUrl + 'x'.repeat(MAX_LINK_TAIL)),
    message_tag: LONGEST_MESSAGE_TAG,
  };
  let bytes = Buffer.byteLength(html);
  for (const [key, value] of Object.entries(worst)) {
    const token = `%%recap-${nonce}:${key}%%`;
    const count = html.split(token).length - 1;
    bytes += count * (Buffer.byteLength(value) - token.length);
  }
  return bytes;
}
