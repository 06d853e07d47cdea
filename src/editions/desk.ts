// What editors do to an edition before it goes out, and what they see after. Used by the desk
// pages and by `recap edition …` alike.
import type { Db } from '../../db/connect.ts';
import type { StoredArticle } from '../articles/article.ts';
import { headerSafe, plainText } from '../plain-text.ts';
import type { Config } from '../config.ts';
import { composeMessage } from '../delivery/compose.ts';
import type { Transport } from '../delivery/transport.ts';
import { personalize } from '../render/personalize.ts';
import { renderVariant } from '../render/variant.ts';
import { TransitionError } from './control.ts';
import { defaultPreheader, defaultSubject, type Edition, editionForRender } from './editions.ts';

function requireDraft(edition: Edition): void {
  if (edition.row.status !== 'draft') throw new TransitionError(`edition ${edition.row.week} is ${edition.row.status}; only a draft can be changed`);
}

export type StoryMove = 'up' | 'down' | 'pin' | 'exclude';

/** Reorders the frozen stories of a draft: one place up or down, to the top, or out. */
export async function moveStory(db: Db, edition: Edition, articleId: number, move: StoryMove, now: Date): Promise<number[]> {
  requireDraft(edition);
  const order = edition.stories.map((s) => s.id);
  const at = order.indexOf(articleId);
  if (at < 0) throw new TransitionError(`article ${articleId} is not in edition ${edition.row.week}`);
  if (move === 'exclude' && order.length === 1) throw new TransitionError('an edition needs at least one story');
  order.splice(at, 1);
  const to = move === 'up' ? Math.max(0, at - 1) : move === 'down' ? Math.min(order.length, at + 1) : move === 'pin' ? 0 : -1;
  if (to >= 0) order.splice(to, 0, articleId);
  // A subject and preheader still as generated follow the new top story; edited ones stay.
  const before = edition.stories[0] as StoredArticle;
  const after = edition.stories.find((s) => s.id === order[0]) as StoredArticle;
  const follow = {
    ...(edition.row.subject === defaultSubject(edition.list, edition.row.number, before) ? { subject: defaultSubject(edition.list, edition.row.number, after) } : {}),
    ...(edition.row.preheader === defaultPreheader(before) ? { preheader: defaultPreheader(after) } : {}),
  };
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('edition_articles').where('edition_id', '=', edition.row.id).execute();
    await trx.insertInto('edition_articles').values(order.map((id, position) => ({ edition_id: edition.row.id, article_id: id, position }))).execute();
    await trx.updateTable('editions').set({ ...follow, updated_at: now.toISOString() }).where('id', '=', edition.row.id).execute();
  });
  return order;
}

export async function updateDetails(db: Db, edition: Edition, details: { subject: string; preheader: string; editorNote: string }, now: Date): Promise<void> {
  requireDraft(edition);
  const subject = headerSafe(details.subject).slice(0, 200);
  const preheader = headerSafe(details.preheader).slice(0, 200);
  if (!subject) throw new TransitionError('the subject cannot be empty');
  await db
    .updateTable('editions')
    .set({ subject, preheader, editor_note: plainText(details.editorNote).slice(0, 2000) || null, updated_at: now.toISOString() })
    .where('id', '=', edition.row.id)
    .execute();
}

/** Approves a draft; it goes out at the next scheduler tick, or at `sendAt`. */
export async function approveEdition(db: Db, edition: Edition, by: string, sendAt: Date | null, now: Date): Promise<void> {
  requireDraft(edition);
  if (sendAt && Number.isNaN(sendAt.getTime())) throw new TransitionError('the send time is not a valid time');
  await db
    .updateTable('editions')
    .set({ status: 'approved', approved_at: now.toISOString(), approved_by: headerSafe(by).slice(0, 200), send_at: sendAt?.toISOString() ?? null, updated_at: now.toISOString() })
    .where('id', '=', edition.row.id)
    .execute();
}

/**
 * A test send to editors: the chosen variant, subject prefixed [TEST], to each address, outside
 * the delivery accounting (no delivery rows; the outbox keeps them under "tests").
 */
export async function testSend(config: Config, transport: Transport, edition: Edition, variantKey: string, to: string[], now: Date): Promise<string[]> {
  const variant = await renderVariant(editionForRender(edition), variantKey, { baseUrl: config.baseUrl, postalAddress: config.postalAddress });
  const replies: string[] = [];
  for (const email of to) {
    const links = { unsubscribeUrl: `${config.baseUrl}/unsubscribe/test`, preferencesUrl: `${config.baseUrl}/preferences/test` };
    const body = personalize({ html: variant.html, text: variant.text, placeholder_nonce: variant.nonce }, { name: 'editor', email, unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl });
    const message = composeMessage(config, {
      subject: `[TEST] ${edition.row.subject}`,
      listSlug: edition.list.slug,
      listName: edition.list.name,
      recipient: { email, name: null },
      body,
      unsubscribeUrl: links.unsubscribeUrl,
      unsubscribeToken: 'test',
      messageId: `<test.${edition.row.id}.${now.getTime()}.${replies.length}@${config.from.address.split('@')[1]}>`,
      date: now,
    });
    replies.push((await transport.submit(message, { folder: 'tests', id: `${edition.row.week}-${now.getTime()}`, email })).response);
  }
  return replies;
}
