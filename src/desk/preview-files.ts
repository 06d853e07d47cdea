// `recap digest preview`: writes the HTML and text an editor can open, either per variant (with a
// sample reader's values) or exactly as one subscriber would receive it. The same choice of what
// is previewed as the desk's (preview.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../db/connect.ts';
import type { SegmentRules } from '../audience/segments.ts';
import { subscriberLinks } from '../audience/tokens.ts';
import { audienceByVariant } from '../delivery/variants.ts';
import { type Edition, editionTopics } from '../editions/editions.ts';
import { describeVariantKey, parseVariantKey } from '../render/arrange.ts';
import type { TokenValues } from '../render/personalize.ts';
import type { RenderSettings } from '../render/variant.ts';
import { inertLinks, type PreviewTarget, previewTarget, previewValues, renderPreview } from './preview.ts';

export interface PreviewFile {
  variant: string;
  recipients?: number;
  subject: string;
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
  const dir = request.outDir;
  await mkdir(dir, { recursive: true });

  if (request.subscriberEmail) {
    const target = await previewTarget(db, edition, { subscriber: request.subscriberEmail });
    const subscriber = target.subscriber as NonNullable<PreviewTarget['subscriber']>;
    const links = request.secret ? subscriberLinks(request.settings.baseUrl, request.secret, subscriber.id, edition.list.id) : inertLinks(request.settings.baseUrl, 'preview');
    return [await writeVariant(edition, target, previewValues(target, links), request, join(dir, `${edition.row.week}-${fileSafe(subscriber.email)}`))];
  }

  const audience = await audienceByVariant(db, edition, editionTopics(edition), request.rules);
  // The full edition is always shown: it is also the web version.
  if (!audience.has('')) audience.set('', 0);
  const files: PreviewFile[] = [];
  for (const [key, recipients] of [...audience.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const target = await previewTarget(db, edition, { variant: key });
    const { topics, format } = parseVariantKey(key);
    const base = join(dir, `${edition.row.week}-${topics.join('+') || 'full'}${format === 'brief' ? '-brief' : ''}`);
    files.push({ ...(await writeVariant(edition, target, previewValues(target, inertLinks(request.settings.baseUrl, 'preview')), request, base)), recipients });
  }
  return files;
}

async function writeVariant(edition: Edition, target: PreviewTarget, values: TokenValues, request: PreviewRequest, base: string): Promise<PreviewFile> {
  const { variant, body } = await renderPreview(edition, target, values, request.settings);
  await writeFile(`${base}.html`, body.html);
  await writeFile(`${base}.txt`, body.text);
  return {
    variant: describeVariantKey(target.key),
    subject: variant.subject,
    html: `${base}.html`,
    text: `${base}.txt`,
    htmlBytes: variant.htmlBytes,
    compacted: variant.compacted.length,
  };
}

function fileSafe(value: string): string {
  return value.replace(/[^a-z0-9@._-]/gi, '_');
}
