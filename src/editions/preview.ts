// `recap digest preview`: writes the HTML and text an editor can open, either per variant (with a
// sample reader's values) or exactly as one subscriber would receive it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../db/connect.ts';
import { normalizeEmail } from '../audience/email.ts';
import { greetingName } from '../audience/first-name.ts';
import { NotFoundError } from '../audience/lists.ts';
import type { SegmentRules } from '../audience/segments.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import { audienceByVariant, topicsOfSubscribers } from '../delivery/variants.ts';
import { variantKey } from '../render/arrange.ts';
import { type PersonalizedBody, personalize, type TokenValues } from '../render/personalize.ts';
import { type RenderSettings, renderVariant } from '../render/variant.ts';
import { type Edition, editionForRender, editionTopics } from './editions.ts';

export interface PreviewFile {
  variant: string;
  recipients?: number;
  html: string;
  text: string;
  htmlBytes: number;
  compacted: number;
}

export interface PreviewRequest {
  outDir: string;
  settings: RenderSettings;
  /** Signs real links for a subscriber preview; sample links are used without it. */
  secret: string | undefined;
  rules?: SegmentRules | undefined;
  subscriberEmail?: string | undefined;
}

export async function writePreview(db: Db, edition: Edition, request: PreviewRequest): Promise<PreviewFile[]> {
  const topics = editionTopics(edition);
  const dir = request.outDir;
  await mkdir(dir, { recursive: true });

  if (request.subscriberEmail) {
    const email = normalizeEmail(request.subscriberEmail);
    const subscriber = email
      ? await db.selectFrom('subscribers').select(['id', 'email', 'name', 'first_name']).where('email', '=', email).executeTakeFirst()
      : undefined;
    if (!subscriber) throw new NotFoundError(`no subscriber ${request.subscriberEmail}`);
    const followed = await topicsOfSubscribers(db, [subscriber.id], topics);
    const key = variantKey(followed.get(subscriber.id) ?? [], topics);
    const links = request.secret
      ? subscriberLinks(request.settings.baseUrl, request.secret, subscriber.id, edition.list.id)
      : sampleLinks(request.settings.baseUrl);
    const values = { name: greetingName({ firstName: subscriber.first_name, name: subscriber.name }), email: subscriber.email, unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl };
    return [await writeVariant(edition, key, values, request, join(dir, `${edition.row.week}-${fileSafe(subscriber.email)}`))];
  }

  const audience = await audienceByVariant(db, edition, topics, request.rules);
  // The full edition is always shown: it is also the web version.
  if (!audience.has('')) audience.set('', 0);
  const links = sampleLinks(request.settings.baseUrl);
  const sample = { name: 'Ada', email: 'reader@example.com', unsubscribe_url: links.unsubscribeUrl, preferences_url: links.preferencesUrl };
  const files: PreviewFile[] = [];
  for (const [key, recipients] of [...audience.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const base = join(dir, `${edition.row.week}-${key === '' ? 'full' : key.replace(/,/g, '+')}`);
    files.push({ ...(await writeVariant(edition, key, sample, request, base)), recipients });
  }
  return files;
}

async function writeVariant(edition: Edition, key: string, values: TokenValues, request: PreviewRequest, base: string): Promise<PreviewFile> {
  const rendered = await renderVariant(editionForRender(edition), key, request.settings);
  const body: PersonalizedBody = personalize({ html: rendered.html, text: rendered.text, placeholder_nonce: rendered.nonce }, values);
  await writeFile(`${base}.html`, body.html);
  await writeFile(`${base}.txt`, body.text);
  return {
    variant: key === '' ? 'full edition' : key,
    html: `${base}.html`,
    text: `${base}.txt`,
    htmlBytes: rendered.htmlBytes,
    compacted: rendered.compacted.length,
  };
}

function sampleLinks(baseUrl: string) {
  return { unsubscribeUrl: `${baseUrl}/unsubscribe/preview`, preferencesUrl: `${baseUrl}/preferences/preview` };
}

function fileSafe(value: string): string {
  return value.replace(/[^a-z0-9@._-]/gi, '_');
}
