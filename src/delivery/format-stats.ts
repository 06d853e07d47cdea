// An edition's deliveries and clicks per format (full or brief). A delivery's format is its
// variant's (deliveries.variant_id → variants.topics_key); one not composed yet has no variant and
// counts in its reader's current format. Clicks come from message_clicks, which records the format of
// the message clicked (no click is tied to a reader).
import type { Db } from '../../db/connect.ts';
import { FORMATS, type Format } from '../../db/schema.ts';
import { parseVariantKey } from '../render/arrange.ts';

export interface FormatStats {
  format: Format;
  /** Deliveries of the edition in this format, skipped ones aside. */
  readers: number;
  submitted: number;
  failed: number;
  deferred: number;
  uncertain: number;
  /** Still to send: queued or claimed. */
  queued: number;
  /** Counted clicks on stories (RECAP_TRACK_CLICKS). */
  clicks: number;
}

/** Both formats, in FORMATS order, with zeros where there is none. */
export async function statsByFormat(db: Db, editionId: number): Promise<FormatStats[]> {
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .leftJoin('variants as v', 'v.id', 'd.variant_id')
    .select((eb) => ['v.topics_key', 's.format', 'd.status', eb.fn.countAll<number>().as('n')])
    .where('d.edition_id', '=', editionId)
    .groupBy(['v.topics_key', 's.format', 'd.status'])
    .execute();
  const clicks = await clicksByFormat(db, editionId);
  const stats = new Map(FORMATS.map((format) => [format, { format, readers: 0, submitted: 0, failed: 0, deferred: 0, uncertain: 0, queued: 0, clicks: clicks.get(format) ?? 0 }]));
  for (const r of rows) {
    const format = r.topics_key === null ? r.format : parseVariantKey(r.topics_key).format;
    const s = stats.get(format) as FormatStats;
    const n = Number(r.n);
    if (r.status === 'skipped') continue;
    s.readers += n;
    if (r.status === 'queued' || r.status === 'claimed') s.queued += n;
    else s[r.status] += n;
  }
  return [...stats.values()];
}

/** Counted clicks of the edition's messages, per format of the message. */
export async function clicksByFormat(db: Db, editionId: number): Promise<Map<Format, number>> {
  const rows = await db
    .selectFrom('message_clicks')
    .select((eb) => ['format', eb.fn.sum<number>('clicks').as('clicks')])
    .where('edition_id', '=', editionId)
    .groupBy('format')
    .execute();
  return new Map(rows.map((r) => [r.format, Number(r.clicks)]));
}
