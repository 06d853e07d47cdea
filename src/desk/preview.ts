// What the editor is looking at: a variant, or what one subscriber gets. One answer, used by the
// preview frames, the test send and the page's words, so a test send is what was previewed.
import type { Db } from '../../db/connect.ts';
import { normalizeEmail } from '../audience/email.ts';
import { greetingName } from '../audience/first-name.ts';
import { NotFoundError } from '../audience/lists.ts';
import { topicsOfSubscribers } from '../delivery/variants.ts';
import { type Edition, editionForRender, editionTopics } from '../editions/editions.ts';
import { describeVariantKey, parseVariantKey, variantKey } from '../render/arrange.ts';
import { type PersonalizedBody, personalize, type TokenValues } from '../render/personalize.ts';
import { topicLabel } from '../render/story-view.ts';
import { type RenderedVariant, type RenderSettings, renderVariant } from '../render/variant.ts';

export interface PreviewTarget {
  /** The variant's key ('' is the full edition, '|brief' its brief). */
  key: string;
  /** The subscriber previewed, if any. */
  subscriber: { id: number; email: string; name: string | null; first_name: string | null } | null;
  /** In words: "the full edition", "the Policy + Models variant · brief", "what ada@example.com gets (the Policy variant)". */
  label: string;
}

function variantLabel(key: string): string {
  const { topics } = parseVariantKey(key);
  return topics.length === 0 ? `the ${describeVariantKey(key)}` : `the ${describeVariantKey(key, topicLabel).replace(/( · |$)/, ' variant$1')}`;
}

/** The variant asked for (unknown topics dropped), or the one a subscriber gets; a subscriber wins. */
export async function previewTarget(db: Db, edition: Edition, asked: { variant?: string | undefined; subscriber?: string | undefined }): Promise<PreviewTarget> {
  const topics = editionTopics(edition);
  if (asked.subscriber?.trim()) {
    const email = normalizeEmail(asked.subscriber.trim());
    const found = email ? await db.selectFrom('subscribers').select(['id', 'email', 'name', 'first_name', 'format']).where('email', '=', email).executeTakeFirst() : undefined;
    if (!found) throw new NotFoundError(`no subscriber ${asked.subscriber.trim()}`);
    const { format, ...s } = found;
    const key = variantKey((await topicsOfSubscribers(db, [s.id], topics)).get(s.id) ?? [], topics, { format });
    return { key, subscriber: s, label: `what ${s.email} gets (${variantLabel(key)})` };
  }
  const asking = parseVariantKey(asked.variant ?? '');
  const key = variantKey(asking.topics, topics, { format: asking.format });
  return { key, subscriber: null, label: variantLabel(key) };
}

/** The per-recipient values: the subscriber's own (with the links given), or a sample reader's. */
export function previewValues(target: PreviewTarget, links: { unsubscribeUrl: string; preferencesUrl: string }): TokenValues {
  const who = target.subscriber ?? { email: 'reader@example.com', name: 'Ada Reader', first_name: null };
  return { name: greetingName({ firstName: who.first_name, name: who.name }), email: who.email, unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl, message_tag: '' };
}

/** Links that lead nowhere, for samples and test sends (a test must not unsubscribe anyone). */
export function inertLinks(baseUrl: string, what: 'preview' | 'test') {
  return { unsubscribeUrl: `${baseUrl}/unsubscribe/${what}`, preferencesUrl: `${baseUrl}/preferences/${what}` };
}

export async function renderPreview(edition: Edition, target: PreviewTarget, values: TokenValues, settings: RenderSettings): Promise<{ variant: RenderedVariant; body: PersonalizedBody }> {
  const variant = await renderVariant(editionForRender(edition), target.key, settings);
  return { variant, body: personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, values) };
}
