// Which variants an audience needs, and their stored renders. Readers are grouped by the topics
// they follow that the edition has and the format they chose; each group's variant is rendered once
// and stored, so a resumed send (or another worker) uses exactly the same body.
import type { Db } from '../../db/connect.ts';
import type { Format, VariantRow } from '../../db/schema.ts';
import { countQuery, eligibleMembers, type SegmentRules } from '../audience/segments.ts';
import { type Edition, editionForRender } from '../editions/editions.ts';
import { parseVariantKey, variantKey } from '../render/arrange.ts';
import { type RenderSettings, type RenderedVariant, renderVariant } from '../render/variant.ts';
import { findSubjectTest } from './subject-test.ts';

/** Pages through the audience in id order (keyset pages, on either database), so memory stays flat however many subscribers there are. */
async function* readerChoices(db: Db, query: ReturnType<typeof eligibleMembers>, topics: Set<string>, pageSize = 1000): AsyncGenerator<{ id: number; topics: string[]; format: Format }> {
  for (let after = 0; ; ) {
    const readers = await query.select(['s.id as id', 's.format as format']).where('s.id', '>', after).orderBy('s.id').limit(pageSize).execute();
    if (readers.length === 0) return;
    const followed = await topicsOfSubscribers(db, readers.map((r) => r.id), topics);
    for (const r of readers) yield { id: r.id, topics: followed.get(r.id) ?? [], format: r.format };
    after = (readers[readers.length - 1] as { id: number }).id;
  }
}

/** Recipients per variant key, for an audience that has not been enqueued (dry runs, previews). */
export async function audienceByVariant(db: Db, edition: Edition, topics: Set<string>, rules?: SegmentRules): Promise<Map<string, number>> {
  const audience = eligibleMembers(db, edition.list.id, rules);
  // Without topics every reader gets the full edition, in their format.
  if (topics.size === 0) {
    const brief = await countQuery(audience.where('s.format', '=', 'brief'));
    const all = await countQuery(audience);
    return new Map([['', all - brief], ...(brief > 0 ? [['|brief', brief] as [string, number]] : [])]);
  }
  const counts = new Map<string, number>();
  for await (const reader of readerChoices(db, audience, topics)) {
    const key = variantKey(reader.topics, topics, { format: reader.format });
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export interface StoredVariant {
  row: VariantRow;
  compacted: number[];
}

/** The stored variant for `key`, rendering and storing it the first time. */
export async function ensureVariant(db: Db, edition: Edition, key: string, settings: RenderSettings, now: Date): Promise<StoredVariant> {
  const found = await findVariant(db, edition.row.id, key);
  if (found) return found;
  // An arm of a subject test takes its subject from the test.
  const arm = parseVariantKey(key).subjectArm;
  const subjects = arm === null ? undefined : (await findSubjectTest(db, edition.row.id))?.subjects;
  const rendered = await renderVariant({ ...editionForRender(edition), subjects }, key, settings);
  await db
    .insertInto('variants')
    .values(variantValues(edition.row.id, rendered, now))
    .onConflict((oc) => oc.columns(['edition_id', 'topics_key']).doNothing())
    .execute();
  // Whoever stored it first wins; every sender then uses that one.
  const stored = await findVariant(db, edition.row.id, key);
  if (!stored) throw new Error(`variant "${key}" of edition ${edition.row.week} could not be stored`);
  return stored;
}

/** What a message template is built from, read again whenever a template has to be rebuilt. */
export async function variantBody(db: Db, editionId: number, key: string): Promise<Pick<VariantRow, 'html' | 'text' | 'placeholder_nonce' | 'subject'>> {
  return db.selectFrom('variants').select(['html', 'text', 'placeholder_nonce', 'subject']).where('edition_id', '=', editionId).where('topics_key', '=', key).executeTakeFirstOrThrow();
}

async function findVariant(db: Db, editionId: number, key: string): Promise<StoredVariant | undefined> {
  const row = await db.selectFrom('variants').selectAll().where('edition_id', '=', editionId).where('topics_key', '=', key).executeTakeFirst();
  return row ? { row, compacted: JSON.parse(row.compacted) as number[] } : undefined;
}

function variantValues(editionId: number, v: RenderedVariant, now: Date) {
  return {
    edition_id: editionId,
    topics_key: v.topicsKey,
    subject: v.subject,
    preheader: v.preheader,
    placeholder_nonce: v.nonce,
    html: v.html,
    text: v.text,
    html_bytes: v.htmlBytes,
    compacted: JSON.stringify(v.compacted),
    created_at: now.toISOString(),
  };
}

/** Topics (within the edition's) followed by each of the given subscribers. */
export async function topicsOfSubscribers(db: Db, subscriberIds: number[], topics: Set<string>): Promise<Map<number, string[]>> {
  const map = new Map<number, string[]>();
  if (subscriberIds.length === 0 || topics.size === 0) return map;
  const rows = await db
    .selectFrom('subscriber_topics')
    .select(['subscriber_id', 'topic'])
    .where('subscriber_id', 'in', subscriberIds)
    .where('topic', 'in', [...topics])
    .execute();
  for (const r of rows) map.set(r.subscriber_id, [...(map.get(r.subscriber_id) ?? []), r.topic]);
  return map;
}
