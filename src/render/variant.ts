// Renders one variant of an edition: HTML through React Email and the text part from the same
// props, with placeholders for per-recipient values. Keeps the HTML under Gmail's clipping size by
// shrinking the lowest-ranked stories to title and link, then trimming the lead's extra sections;
// the brief format (a key with |brief) under its own, much smaller bound (see shrinkSteps), which an
// ordinary week of 12 stories fits whole: the shrinking is for editions of hostile size.
import { createElement } from 'react';
import { WeeklyRecap, type WeeklyRecapProps } from '../../emails/weekly-recap.tsx';
import type { StoredArticle } from '../articles/article.ts';
import { MAX_NAME_LENGTH } from '../audience/subscribers.ts';
import { headerSafe, plainText } from '../plain-text.ts';
import { renderEmail } from './email-html.ts';
import { type Arrangement, arrangeVariant, parseVariantKey } from './arrange.ts';
import { leadPreheader, leadSubject } from './headline.ts';
import { escapeHtml, LONGEST_MESSAGE_TAG, newNonce, placeholders } from './personalize.ts';
import { type BriefLeadCut, clipText, toBriefLeadView, toBriefView, toSectionView, toStoryView, topicLabel } from './story-view.ts';
import { renderText } from './text.ts';

/** Gmail clips a message whose HTML is larger than this. */
export const HTML_LIMIT = 102_000;
/** The brief format's bound: a quick read that loads at once on a phone. */
export const BRIEF_HTML_LIMIT = 15_000;
/** An editor's note a brief had to cut short keeps this many characters. */
const BRIEF_NOTE_LENGTH = 240;

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
  /** Article ids a brief left out to stay under BRIEF_HTML_LIMIT. */
  omitted: number[];
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
  const { topics: readerTopics, format, subjectArm } = parseVariantKey(topicsKey);
  const brief = format === 'brief';
  const arrangement = arrangeVariant(edition.stories, readerTopics, edition.pinnedId ?? null);
  const limit = brief ? BRIEF_HTML_LIMIT : HTML_LIMIT;
  const steps = shrinkSteps(edition.stories, arrangement.lead, brief);
  const layout: Layout = { arrangement, brief, compacted: new Set(), omitted: new Set(), trimmed: [], leadCut: 0, noteClipped: false };

  const own = settings.link;
  const link = own ? (a: StoredArticle) => own(a, { key: topicsKey, messageTag: tokens.message_tag }) : (a: StoredArticle) => a.url;
  const personal = {
    greetingName: tokens.name,
    links: { viewInBrowser: archiveUrl(settings.baseUrl, edition.week), preferences: tokens.preferences_url, unsubscribe: tokens.unsubscribe_url },
    recipientEmail: tokens.email,
    webVersion: false,
  };

  for (let step = 0; ; step++) {
    const props = digestProps(edition, readerTopics, layout, personal, settings, link);
    const html = await renderEmail(createElement(WeeklyRecap, props));
    const htmlBytes = worstCaseBytes(html, nonce, settings.baseUrl);
    const next = steps[step];
    if (htmlBytes <= limit || !next) {
      // A brief still over its bound has links of thousands of characters: it goes out at its
      // smallest (readers of the brief must not miss the edition); a full edition cannot get there.
      if (htmlBytes > limit && !brief) throw new Error(`variant "${topicsKey}" cannot fit in ${limit} bytes`);
      return {
        topicsKey,
        ...headlines(edition, arrangement.lead, subjectArm),
        nonce,
        html,
        text: renderText(props),
        htmlBytes,
        compacted: [...layout.compacted],
        omitted: [...layout.omitted],
        trimmedLeadSections: [...layout.trimmed],
      };
    }
    next(layout);
  }
}

/** How a variant is laid out: which stories shrank to fit its size bound, and how far. */
interface Layout {
  arrangement: Arrangement<StoredArticle>;
  brief: boolean;
  /** Shown as title and link only. */
  compacted: Set<number>;
  /** Left out of a brief (its link to the full edition counts them). */
  omitted: Set<number>;
  /** Sections of the full edition's top story left out. */
  trimmed: Array<(typeof LEAD_TRIM_ORDER)[number]>;
  /** How far the brief's top story shrank (see toBriefLeadView). */
  leadCut: BriefLeadCut;
  /** The editor's note of a brief is cut short (the full edition carries it whole). */
  noteClipped: boolean;
}

/**
 * What a variant gives up, in order, until it fits: the lowest-ranked stories shrink to title and
 * link first; then the full edition trims its top story's sections, and the brief keeps only what
 * changed of its top story's TL;DR, cuts the editor's note short, leaves out its lowest-ranked
 * stories and, last, shortens its top story to headline and hook (an edition of hostile size needs
 * all of it to fit in BRIEF_HTML_LIMIT).
 */
function shrinkSteps(stories: StoredArticle[], lead: StoredArticle, brief: boolean): Array<(layout: Layout) => void> {
  // Lowest-ranked first: the order in which stories give up their cards.
  const shrinkOrder = [...stories].reverse().filter((s) => s !== lead);
  const compact = shrinkOrder.map((s) => (l: Layout) => void l.compacted.add(s.id));
  if (!brief) return [...compact, ...LEAD_TRIM_ORDER.map((t) => (l: Layout) => void l.trimmed.push(t))];
  return [
    ...compact,
    (l) => void (l.leadCut = 1),
    (l) => void (l.noteClipped = true),
    ...shrinkOrder.map((s) => (l: Layout) => void l.omitted.add(s.id)),
    (l) => void (l.leadCut = 2),
  ];
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
  const layout: Layout = { arrangement, brief: false, compacted: new Set(), omitted: new Set(), trimmed: [], leadCut: 0, noteClipped: false };
  const props = digestProps(edition, [], layout, personal, settings, (a) => a.url);
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
  layout: Layout,
  personal: Pick<Required<WeeklyRecapProps>, 'greetingName' | 'links' | 'recipientEmail' | 'webVersion'>,
  settings: RenderSettings,
  link: (article: StoredArticle) => string,
): Required<WeeklyRecapProps> {
  const view = (a: StoredArticle) => {
    const story = toStoryView(a, layout.compacted.has(a.id), link(a));
    return layout.brief ? toBriefView(story) : story;
  };
  const whole = toStoryView(layout.arrangement.lead, false, link(layout.arrangement.lead));
  const lead = layout.brief ? toBriefLeadView(whole, layout.leadCut) : whole;
  for (const section of layout.trimmed) {
    if (section === 'competitors') lead.competitors = null;
    else lead[section] = [];
  }
  // The label goes with the analysis it labels: none when the article has none, or all of it was trimmed.
  if (!(lead.takeaways.length || lead.competitors || lead.deepDive.length || lead.predictions.length)) lead.analysisLabel = null;
  const note = edition.editorNote && plainText(edition.editorNote);
  return {
    listName: headerSafe(edition.listName),
    editionNumber: edition.number,
    dateRange: edition.dateRange,
    preheader: headlines(edition, layout.arrangement.lead).preheader,
    editorNote: note && layout.noteClipped ? clipText(note, BRIEF_NOTE_LENGTH) : note,
    leadTopics: readerTopics.map(topicLabel),
    topStory: lead,
    sections: layout.arrangement.sections
      .map((section) => toSectionView(section.topic, section.stories.filter((a) => !layout.omitted.has(a.id)).map(view)))
      .filter((section) => section.stories.length > 0),
    postalAddress: settings.postalAddress,
    brief: layout.brief,
    omitted: layout.omitted.size,
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
