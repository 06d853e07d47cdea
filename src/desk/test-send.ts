// A test send to editors: exactly what the desk previews (the variant, or one subscriber's copy
// with their name), subject prefixed [TEST], outside the delivery accounting (no delivery rows; the
// outbox keeps them under "tests"). Its unsubscribe and preference links are inert: an editor
// clicking them must not unsubscribe the subscriber previewed.
import type { Config } from '../config.ts';
import { composeMessage } from '../delivery/compose.ts';
import type { Transport } from '../delivery/transport.ts';
import type { Edition } from '../editions/editions.ts';
import { inertLinks, type PreviewTarget, previewValues, renderPreview } from './preview.ts';

export interface TestSent {
  subject: string;
  replies: string[];
}

export async function testSend(config: Config, transport: Transport, edition: Edition, target: PreviewTarget, to: string[], now: Date): Promise<TestSent> {
  const links = inertLinks(config.baseUrl, 'test');
  const { variant, body } = await renderPreview(edition, target, previewValues(target, links), { baseUrl: config.baseUrl, postalAddress: config.postalAddress});
  const subject = `[TEST] ${variant.subject}`;
  const replies: string[] = [];
  for (const email of to) {
    const message = composeMessage(config, {
      subject,
      listSlug: edition.list.slug,
      listName: edition.list.name,
      recipient: { email, name: null },
      body,
      unsubscribeUrl: links.unsubscribeUrl,
      unsubscribeToken: 'test',
      messageId: `<test.${edition.row.id}.${now.getTime()}.${replies.length}@${config.from.address.split('@')[1]}>`,
      date: now,
    });
    // Says which copy this is, for the editor who opens it later.
    message.headers = { ...(message.headers as Record<string, string>), 'X-Recap-Test': target.label };
    replies.push((await transport.submit(message, { folder: 'tests', id: `${edition.row.week}-${now.getTime()}`, email })).response);
  }
  return { subject, replies };
}
