// Who gets which variant, and what each one's inbox line says: its readers, its format, the story
// it leads with, its subject and preheader. Worked out from the arrangement alone (nothing is rendered), so
// the desk can show every variant on each page load.
import type { Db } from '../../db/connect.ts';
import { FORMATS, type Format } from '../../db/schema.ts';
import type { SegmentRules } from '../audience/segments.ts';
import { audienceByVariant } from '../delivery/variants.ts';
import { type Edition, editionForRender, editionTopics } from '../editions/editions.ts';
import { arrangeVariant, parseVariantKey, topicsOfKey, variantKey } from '../render/arrange.ts';
import { headlines } from '../render/variant.ts';

export interface VariantLine {
  key: string;
  format: Format;
  readers: number;
  leadId: number;
  leadTitle: string;
  subject: string;
  preheader: string;
  /** The story it would lead with without the pin, when the pin displaces it. */
  displaced: { id: number; title: string } | null;
}

export interface Audience {
  variants: VariantLine[];
  total: number;
}

/**
 * Every variant the audience needs, in both formats (the full edition always among them, so the
 * editor can look at each before readers choose it), most readers first.
 */
export async function editionAudience(db: Db, edition: Edition, rules?: SegmentRules): Promise<Audience> {
  const topics = editionTopics(edition);
  const counts = await audienceByVariant(db, edition, topics, rules);
  for (const key of ['', ...counts.keys()]) {
    for (const format of FORMATS) {
      const twin = variantKey(topicsOfKey(key), topics, { format });
      if (!counts.has(twin)) counts.set(twin, 0);
    }
  }
  const view = editionForRender(edition);
  const variants = [...counts.entries()].map(([key, readers]) => {
    const lead = arrangeVariant(view.stories, topicsOfKey(key), view.pinnedId ?? null).lead;
    const own = view.pinnedId ? arrangeVariant(view.stories, topicsOfKey(key)).lead : lead;
    return { key, format: parseVariantKey(key).format, readers, leadId: lead.id, leadTitle: lead.title, ...headlines(view, lead), displaced: own.id !== lead.id ? { id: own.id, title: own.title } : null };
  });
  variants.sort((a, b) => b.readers - a.readers || a.key.localeCompare(b.key));
  return { variants, total: variants.reduce((n, v) => n + v.readers, 0) };
}
